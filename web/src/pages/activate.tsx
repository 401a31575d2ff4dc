import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { ACTIVATE } from '../graphql/documents';
import { errorMessage, hasCode } from '../graphql/errors';
import { Link } from '../router';
import { Alert, Field } from '../ui/form';

/**
 * The page behind an activation link pointed at the client. It activates on a click, never on
 * load: mail scanners open links, and a load that consumed the token would burn it.
 */
export function ActivatePage() {
  const [token, setToken] = useState(() => new URLSearchParams(window.location.search).get('token') ?? '');
  const [result, activate] = useMutation(ACTIVATE);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void activate({ token: token.trim() });
  };

  if (result.data) {
    return (
      <main className="card narrow">
        <h1>Account activated</h1>
        <Alert tone="info">Your account is active.</Alert>
        <p>
          <Link to="/sign-in">Sign in</Link>
        </p>
      </main>
    );
  }
  return (
    <main className="card narrow">
      <h1>Activate your account</h1>
      <form onSubmit={submit}>
        <Field label="Activation code" name="token" value={token} onChange={(e) => setToken(e.target.value)} />
        <Alert>
          {hasCode(result.error, 'INVALID_TOKEN', 'TOKEN_EXPIRED')
            ? 'This link is invalid, used or expired. Sign in to get a new one.'
            : errorMessage(result.error)}
        </Alert>
        <button type="submit" disabled={!token || result.fetching}>
          Activate account
        </button>
      </form>
    </main>
  );
}
