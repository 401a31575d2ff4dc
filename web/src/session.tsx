import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { Provider, type Client } from 'urql';
import { tokens } from './auth/session';
import { REFRESH_TOKEN_KEY, type SignOutReason } from './auth/token-manager';
import { LiveMessages } from './chat/live-messages';
import { createGraphQLClient } from './graphql/client';
import { LOGOUT, LOGOUT_ALL } from './graphql/documents';
import { createChatSocket, type ChatSocket } from './graphql/socket';

interface Api {
  client: Client;
  socket: ChatSocket | null;
  live: LiveMessages;
}

interface SessionValue {
  signedIn: boolean;
  /** Why the last session ended, to tell the user on the sign-in page. */
  endedBecause: SignOutReason | null;
  socket: ChatSocket | null;
  live: LiveMessages;
  signOut(everywhere?: boolean): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/**
 * Rebuilds the urql client and the socket whenever the session starts or ends (in this tab or
 * another), so nothing cached for one user is ever shown to the next.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [signedIn, setSignedIn] = useState(tokens.signedIn);
  const [endedBecause, setEndedBecause] = useState<SignOutReason | null>(null);
  const [api, setApi] = useState<Api | null>(null);

  useEffect(
    () =>
      tokens.subscribe((event) => {
        if (event.type === 'signed-in') {
          setEndedBecause(null);
          setSignedIn(true);
        } else if (event.type === 'signed-out') {
          setEndedBecause(event.reason);
          setSignedIn(false);
        }
      }),
    [],
  );

  useEffect(() => {
    const socket = signedIn ? createChatSocket(tokens, () => tokens.signOut('revoked')) : null;
    setApi({ client: createGraphQLClient(tokens, socket), socket, live: new LiveMessages() });
    return () => socket?.dispose();
  }, [signedIn]);

  if (!api) return null;

  const signOut = async (everywhere = false) => {
    // Close the socket first: the server would close it too (4403), but that would read as a revocation.
    api.socket?.dispose();
    const refreshToken = window.localStorage.getItem(REFRESH_TOKEN_KEY);
    if (everywhere) await api.client.mutation(LOGOUT_ALL, {}).toPromise();
    else if (refreshToken) await api.client.mutation(LOGOUT, { refreshToken }).toPromise();
    tokens.signOut('signed-out');
  };

  return (
    <SessionContext.Provider value={{ signedIn, endedBecause, socket: api.socket, live: api.live, signOut }}>
      <Provider value={api.client}>{children}</Provider>
    </SessionContext.Provider>
  );
}
