import { test as base } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { connectWs, connectedWs, type WsConnectOptions, type WsConnection } from './ws.js';

/** graphql-ws connections a test opens; all of them are closed when it ends, whatever happened. */
export interface Sockets {
  /** Connects to `app` and waits for the acknowledgement; `auth` is an access token or the connection options. */
  connect(app: { wsUrl: string }, auth: string | WsConnectOptions): Promise<WsConnection>;
  /** Starts connecting without waiting, for tests of what the server does to the attempt. */
  attempt(wsUrl: string, options?: WsConnectOptions): WsConnection;
}

/**
 * Vitest's `test` with two fixtures: `app`, one app with the default test settings per test file
 * (started when a test of the file first asks for it, stopped after the file's last test), and
 * `sockets`: `test('…', async ({ app, sockets }) => …)`. Files whose app needs other settings
 * start their own.
 */
export const test = base.extend<{ app: TestApp; sockets: Sockets }>({
  app: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; this one has none
    async ({}, use) => {
      const app = await startTestApp();
      try {
        await use(app);
      } finally {
        await app.stop();
      }
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; this one has none
  sockets: async ({}, use) => {
    const opened: WsConnection[] = [];
    const track = (connection: WsConnection) => {
      opened.push(connection);
      return connection;
    };
    await use({
      connect: async (app, auth) => track(await connectedWs(app.wsUrl, typeof auth === 'string' ? { token: auth } : auth)),
      attempt: (wsUrl, options) => track(connectWs(wsUrl, options)),
    });
    await Promise.all(opened.map((connection) => connection.dispose()));
  },
});
