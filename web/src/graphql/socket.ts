import { createClient, type Client as SocketClient } from 'graphql-ws';
import type { TokenManager } from '../auth/token-manager';
import { GRAPHQL_WS_URL } from '../config';
import { RENEW_CONNECTION } from './documents';

export type SocketState = 'connecting' | 'connected' | 'offline';

export interface ChatSocket {
  client: SocketClient;
  state(): SocketState;
  /** Called with each state change; `reconnected` is true when a dropped socket is back. */
  subscribe(listener: (state: SocketState, reconnected: boolean) => void): () => void;
  dispose(): void;
}

const isCloseEvent = (value: unknown): value is CloseEvent => typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;

/**
 * The chat's graphql-ws connection. The token goes in connectionParams (kept out of URLs and
 * logs) from a function, so each reconnect sends the newest token; after a refresh the open
 * socket adopts the new token with renewConnection instead of being closed at the old one's expiry.
 */
export function createChatSocket(tokens: TokenManager, onSessionEnded: () => void): ChatSocket {
  let state: SocketState = 'connecting';
  let everConnected = false;
  /** The token the current connection was opened (or renewed) with. */
  let connectionToken: string | null = null;
  const listeners = new Set<(state: SocketState, reconnected: boolean) => void>();
  const setState = (next: SocketState, reconnected = false) => {
    state = next;
    for (const listener of listeners) listener(next, reconnected);
  };

  const client = createClient({
    url: GRAPHQL_WS_URL,
    lazy: true,
    connectionParams: async () => {
      connectionToken = await tokens.getAccessToken();
      return connectionToken ? { authorization: `Bearer ${connectionToken}` } : {};
    },
    retryAttempts: Infinity,
    // 4403 "token revoked" / "invalid token": this session is over, retrying cannot help.
    // "token expired" is retried: connectionParams then refreshes first.
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === 4403 && event.reason !== 'token expired'),
    retryWait: async (retries) => {
      const delay = Math.min(10_000, 300 * 2 ** retries) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
    },
    on: {
      connecting: () => setState(state === 'offline' ? 'offline' : 'connecting'),
      connected: () => {
        setState('connected', everConnected);
        everConnected = true;
      },
      closed: (event) => {
        if (!isCloseEvent(event)) return setState('offline');
        // Closed at the expiry of the token it was opened with: if the client has refreshed since,
        // the reconnect uses the newer token; if not (clocks disagree), that token is dropped.
        if (event.code === 4403 && event.reason === 'token expired' && tokens.currentAccessToken() === connectionToken) tokens.expireAccessToken();
        if (event.code === 4403 && event.reason !== 'token expired') onSessionEnded();
        setState('offline');
      },
    },
  });

  const stopRenewing = tokens.subscribe((event) => {
    if (event.type !== 'refreshed' || state !== 'connected') return;
    client.subscribe(
      { query: RENEW_CONNECTION, variables: { accessToken: event.accessToken } },
      {
        next: (result) => {
          if (!result.errors) connectionToken = event.accessToken;
        },
        // A server without renewConnection closes the socket at the old token's expiry and the
        // client reconnects with the new one: slower, but nothing is lost (see catch-up).
        error: () => {},
        complete: () => {},
      },
    );
  });

  return {
    client,
    state: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      stopRenewing();
      listeners.clear();
      void client.dispose();
    },
  };
}
