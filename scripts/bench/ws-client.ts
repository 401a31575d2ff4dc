import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export interface OpenSocket {
  client: Client;
  /** Starts the close and returns; `closed` settles once the server has answered it. */
  close(): Promise<void>;
  closed: Promise<void>;
}

/**
 * Opens a graphql-ws connection and resolves once the server acknowledged it; rejects with
 * the close code and reason when the server refuses. Never retries: a refusal is a result.
 */
export function openSocket(url: string, timeoutMs = 15_000): Promise<OpenSocket> {
  let markClosed = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`no connection_ack within ${timeoutMs} ms`)), timeoutMs);
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: {
        connected: () => settle(null),
        closed: (event) => {
          markClosed();
          const { code, reason } = event as { code?: number; reason?: string };
          settle(new Error(`socket closed before acknowledgement: ${code ?? '?'} ${reason ?? ''}`));
        },
        error: (error) => settle(new Error(`socket error: ${String((error as { message?: string }).message ?? error)}`)),
      },
    });
    function settle(error: Error | null) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        void client.dispose();
        reject(error);
      } else {
        resolve({ client, close: async () => client.dispose(), closed });
      }
    }
  });
}

export const socketUrl = (port: number, token?: string) => `ws://127.0.0.1:${port}/graphql${token ? `?token=${encodeURIComponent(token)}` : ''}`;

/** One query or mutation over an open connection; GraphQL errors reject. */
export function request<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<T, unknown> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value),
        error: (error) => reject(new Error(Array.isArray(error) ? JSON.stringify(error) : String(error))),
        complete: () => {
          if (result?.data && !result.errors) resolve(result.data);
          else reject(new Error(`operation failed: ${JSON.stringify(result?.errors ?? 'no result')}`));
        },
      },
    );
  });
}
