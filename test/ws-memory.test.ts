import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { INBOX } from './helpers/chat.js';
import { createActiveUser, login, type Tokens } from './helpers/factories.js';
import { eventually } from './helpers/time.js';
import { connectedWs, subscribe } from './helpers/ws.js';

// The server runs in this process: a full collection here shows what it still holds.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const heapKiB = () => {
  collect();
  collect();
  return process.memoryUsage().heapUsed / 1024;
};

describe('memory of closed sockets', () => {
  let t: TestApp;
  let tokens: Tokens[];
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_CONNECTIONS_PER_IP: '1000', MAX_CONNECTIONS_PER_USER: '1000' } });
    tokens = await Promise.all(Array.from({ length: 10 }, async () => login(t, await createActiveUser(t))));
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Opens `count` sockets subscribed to `inbox` (50 at a time), then closes them all. */
  async function openAndClose(count: number): Promise<void> {
    const open = [];
    for (let from = 0; from < count; from += 50) {
      const batch = Array.from({ length: Math.min(50, count - from) }, async (_, i) => {
        const connection = await connectedWs(t.wsUrl, { token: tokens[(from + i) % tokens.length]!.accessToken });
        subscribe(connection.client, INBOX);
        return connection;
      });
      open.push(...(await Promise.all(batch)));
    }
    // A round trip on each socket after its subscribe: the server has started every subscription.
    await Promise.all(open.map((connection) => connection.client.iterate({ query: '{ me { id } }' }).next()));
    await Promise.all(open.map((connection) => connection.dispose()));
    await Promise.all(open.map((connection) => connection.closed));
    // The server has let go of every socket of its own accord (its registry of open sockets is empty).
    await eventually(() => t.app.container.sessionSockets.size === 0, 'the server to see every socket close', 10_000);
  }

  it('keeps nothing of an inbox subscription once its socket has closed', async () => {
    await openAndClose(300); // warms up code paths and grows what is sized to the load once
    const before = heapKiB();
    await openAndClose(600);
    const perSocket = (heapKiB() - before) / 600;
    console.info(`heap kept per closed socket: ${perSocket.toFixed(2)} KiB`);
    // Each one kept its socket and context (about 20 KiB) while subscriptions raced a promise that never settled.
    expect(perSocket).toBeLessThan(4);
  }, 60_000);
});

describe('memory of open sockets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('lets go of the upgrade request once the connection is accepted', async () => {
    // The request (headers, URL with the token, stream state) was held for the socket's whole
    // life: by graphql-ws's `extra`, and by a closure made per upgrade.
    const requests: WeakRef<object>[] = [];
    const remember = (request: object) => requests.push(new WeakRef(request));
    t.app.server.prependListener('upgrade', remember);
    const tokens = await login(t, await createActiveUser(t));
    const connection = await connectedWs(t.wsUrl, { token: tokens.accessToken });
    try {
      subscribe(connection.client, INBOX);
      // A round trip after the subscribe: the subscription is set up and the socket still open.
      await connection.client.iterate({ query: '{ me { id } }' }).next();
      expect(requests).toHaveLength(1);
      collect();
      collect();
      expect(requests[0]!.deref()).toBeUndefined();
    } finally {
      t.app.server.off('upgrade', remember);
      await connection.dispose();
    }
  });
});
