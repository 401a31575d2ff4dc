import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { tokens } from '../auth/session';
import type { SignOutReason } from '../auth/token-manager';
import { LOGIN, RESEND_ACTIVATION, type LoginResult } from '../graphql/documents';
import { errorMessage, fieldErrors, hasCode } from '../graphql/errors';
import { Link, navigate } from '../router';
import { Alert, Field } from '../ui/form';

const ENDED: Record<SignOutReason, string | null> = {
  'signed-out': null,
  revoked: 'Your session was ended (signed out elsewhere or revoked). Please sign in again.',
  expired: 'Your session expired. Please sign in again.',
};

export function SignInPage({ endedBecause }: { endedBecause: SignOutReason | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [loginResult, login] = useMutation<LoginResult>(LOGIN);
  const [resendResult, resend] = useMutation(RESEND_ACTIVATION);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await login({ email, password });
    if (result.data) {
      tokens.signIn(result.data.login);
      navigate('/chats', { replace: true });
    }
  };

  const inactive = hasCode(loginResult.error, 'ACCOUNT_INACTIVE');
  const fields = fieldErrors(loginResult.error);
  return (
    <main className="card narrow">
      <h1>Sign in</h1>
      {endedBecause && <Alert tone="info">{ENDED[endedBecause]}</Alert>}
      <form onSubmit={submit} noValidate>
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fields.email}
          required
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fields.password}
          required
        />
        {!inactive && Object.keys(fields).length === 0 && <Alert>{errorMessage(loginResult.error)}</Alert>}
        {inactive && (
          <Alert tone="info">
            This account is not activated yet: follow the link in the email we sent.{' '}
            <button type="button" className="link" onClick={() => resend({ email })} disabled={resendResult.fetching || !!resendResult.data}>
              {resendResult.data ? 'Email sent again' : 'Send it again'}
            </button>
          </Alert>
        )}
        <button type="submit" disabled={loginResult.fetching}>
          Sign in
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </main>
  );
}
