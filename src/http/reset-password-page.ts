import { tokenPage } from './activate-page.js';

/** Behind the password reset link; the new password is set only when the form is sent. */
export const RESET_PASSWORD_PAGE = tokenPage({
  title: 'Choose a new Forum API password',
  heading: 'Choose a new password',
  intro: 'Enter a new password for your Forum API account (at least 8 characters, not all digits). Every signed-in device will be signed out.',
  fields: [{ name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password' }],
  button: 'Set password',
  mutation: 'mutation($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) { ok } }',
  working: 'Saving…',
  done: 'Your password is changed. Sign in with the new one.',
});
