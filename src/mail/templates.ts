export interface MailContent {
  kind: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
}

export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function layout(title: string, paragraphs: string[], action?: { label: string; href: string }): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = action
    ? `<p><a href="${escapeHtml(action.href)}" style="display:inline-block;padding:10px 18px;background:#2f6feb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(action.label)}</a></p>
<p style="color:#666;font-size:13px">Or open this link: <a href="${escapeHtml(action.href)}">${escapeHtml(action.href)}</a></p>`
    : '';
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5">
<h2>${escapeHtml(title)}</h2>
${body}
${button}
<p style="color:#666;font-size:13px">Forum API: where startups and investors meet.</p>
</body></html>`;
}

export function activationEmail(appUrl: string, token: string, ttlSeconds: number): MailContent {
  const link = `${appUrl}/activate?token=${encodeURIComponent(token)}`;
  const hours = Math.max(1, Math.round(ttlSeconds / 3600));
  const lines = [
    'Welcome to Forum API. Confirm your email address to activate your account.',
    `The link is valid for ${hours} hour${hours === 1 ? '' : 's'} and works once.`,
  ];
  return {
    kind: 'activation',
    subject: 'Activate your Forum API account',
    text: `${lines.join('\n')}\n\nActivate: ${link}\n\nActivation token: ${token}\n\nIf you did not register, ignore this email.\n`,
    html: layout('Activate your account', [...lines, `Activation token: ${token}`, 'If you did not register, ignore this email.'], {
      label: 'Activate account',
      href: link,
    }),
  };
}

export function alreadyRegisteredEmail(appUrl: string): MailContent {
  const lines = [
    'Someone tried to register a new Forum API account with this email address, which already has an account.',
    'If it was you, sign in instead, or reset your password if you forgot it. If it was not you, you can ignore this email: nothing was changed.',
  ];
  return {
    kind: 'registration_notice',
    subject: 'Your email is already registered on Forum API',
    text: `${lines.join('\n\n')}\n\nSign in: ${appUrl}\n`,
    html: layout('You already have an account', lines, { label: 'Sign in', href: appUrl }),
  };
}

export function passwordResetEmail(appUrl: string, token: string, ttlSeconds: number): MailContent {
  const link = `${appUrl}/reset-password?token=${encodeURIComponent(token)}`;
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  const lines = [
    'Someone asked to reset the password of your Forum API account.',
    `The link is valid for ${minutes} minutes and works once. Resetting signs you out everywhere.`,
  ];
  return {
    kind: 'password_reset',
    subject: 'Reset your Forum API password',
    text: `${lines.join('\n')}\n\nReset: ${link}\n\nReset token: ${token}\n\nIf you did not ask for this, ignore this email.\n`,
    html: layout('Reset your password', [...lines, `Reset token: ${token}`, 'If you did not ask for this, ignore this email.'], {
      label: 'Reset password',
      href: link,
    }),
  };
}
