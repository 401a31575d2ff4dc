import { useMutation, useQuery } from 'urql';
import { REVOKE_SESSION, SESSIONS, type SessionsResult } from '../graphql/documents';
import { errorMessage } from '../graphql/errors';
import { useSession } from '../session';
import { Alert } from '../ui/form';
import { dateTimeOf } from '../ui/names';

export function SessionsPage() {
  const { signOut } = useSession();
  const [{ data, error }] = useQuery<SessionsResult>({ query: SESSIONS, requestPolicy: 'cache-and-network' });
  const [revoked, revoke] = useMutation(REVOKE_SESSION);
  return (
    <main className="page">
      <h1>Where you are signed in</h1>
      <Alert>{errorMessage(error ?? revoked.error)}</Alert>
      <table className="sessions">
        <thead>
          <tr>
            <th>Device</th>
            <th>Signed in</th>
            <th>Last active</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.sessions.map((session) => (
            <tr key={session.id}>
              <td>
                {session.userAgent ?? 'Unknown device'}
                {session.current && <strong> (this browser)</strong>}
              </td>
              <td>{dateTimeOf(session.createdAt)}</td>
              <td>{dateTimeOf(session.lastUsedAt)}</td>
              <td>
                {session.current ? (
                  <button type="button" className="secondary" onClick={() => void signOut()}>
                    Sign out
                  </button>
                ) : (
                  <button type="button" className="secondary" onClick={() => void revoke({ id: session.id })} disabled={revoked.fetching}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" className="danger" onClick={() => void signOut(true)}>
        Sign out everywhere
      </button>
    </main>
  );
}
