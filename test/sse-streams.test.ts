import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { LOGOUT, LOGOUT_ALL } from './helpers/graphql.js';
import { chatPair, sendMessage, type SignedIn } from './helpers/chat.js';
import { login } from './helpers/factories.js';
import { startInstancesOverRedis } from './helpers/instances.js';
import { redisAvailableFor } from './helpers/redis.js';
import { openSse, type SseStream } from './helpers/sse.js';
import { connectWs, connectedWs } from './helpers/ws.js';
import { withTimeout } from './helpers/time.js';

/**
 * API.md "Transport": an SSE subscription ends, with a final TOKEN_REVOKED or TOKEN_EXPIRED
 * error and then `complete`, within a second of its session's revocation on any instance and at
 * its access token's expiry, and never delivers an event after either.
 */
const MESSAGE_SENT = 'subscription($id: ID!) { messageSent(conversationId: $id) { body } }';
type Sent = { messageSent: { body: string } };

/** Sends probe messages until the stream has delivered one: it is live from then on. */
async function whenLive(app: TestApp, stream: SseStream<Sent>, sender: SignedIn, conversationId: string): Promise<void> {
  for (let probe = 0; probe < 50; probe++) {
    const seen = stream.results.length;
    await sendMessage(app, sender, conversationId, `probe ${probe}`);
    try {
      await stream.nth(seen, 200);
      return;
    } catch {
      // not live yet: probe again
    }
  }
  throw new Error('the stream never became live');
}

const revokedErrorsCounted = async (app: TestApp) => {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return Number(/forum_graphql_errors_total\{code="TOKEN_REVOKED"\} (\d+)/.exec(text)?.[1] ?? 0);
};

const lastCode = (stream: SseStream<Sent>) => stream.results.at(-1)?.errors?.[0]?.extensions?.code;
const bodies = (stream: SseStream<Sent>) => stream.results.map((r) => r.data?.messageSent.body).filter(Boolean);

describe('SSE subscriptions on one instance', () => {
  let t: TestApp;
  let shortTokens: TestApp;
  beforeAll(async () => {
    [t, shortTokens] = await Promise.all([startTestApp(), startTestApp({ env: { ACCESS_TOKEN_TTL: '4' } })]);
  });
  afterAll(async () => {
    await Promise.all([t?.stop(), shortTokens?.stop()]);
  });

  it('end every stream of the user within a second of logoutAll, with TOKEN_REVOKED then complete, with no event needed', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const second = await login(t, startup);
    const streams = [
      await openSse<Sent>(t.url, startup.tokens.accessToken, MESSAGE_SENT, { id: conversationId }),
      await openSse<Sent>(t.url, second.accessToken, MESSAGE_SENT, { id: conversationId }),
    ];
    try {
      for (const stream of streams) await whenLive(t, stream, investor, conversationId);
      const countedBefore = await revokedErrorsCounted(t);
      const revokedAt = Date.now();
      const out = await t.gql(LOGOUT_ALL, {}, { token: startup.tokens.accessToken });
      expect(out.errors).toBeUndefined();
      for (const stream of streams) {
        const end = await withTimeout(stream.ended, 10_000, 'the end of the stream');
        expect(end.completed).toBe(true);
        expect(end.at - revokedAt).toBeLessThan(1_000);
        expect(lastCode(stream)).toBe('TOKEN_REVOKED');
      }
      // The errors of subscription events count in /metrics like any other.
      expect(await revokedErrorsCounted(t)).toBeGreaterThanOrEqual(countedBefore + 2);
    } finally {
      streams.forEach((s) => s.close());
    }
  });

  it('ends a stream at its access token expiry with TOKEN_EXPIRED, and delivers nothing after it', async () => {
    const app = shortTokens;
    const { investor, startup, conversationId } = await chatPair(app);
    const fresh = await login(app, startup);
    // Every access token here lives 4 s: the sender signs in again whenever it writes.
    const sender = async () => ({ ...investor, tokens: await login(app, investor) });
    const stream = await openSse<Sent>(app.url, fresh.accessToken, MESSAGE_SENT, { id: conversationId });
    try {
      await whenLive(app, stream, await sender(), conversationId);
      const end = await withTimeout(stream.ended, 10_000, 'the end of the stream');
      const expiresAt = new Date(fresh.accessTokenExpiresAt).getTime();
      expect(end.completed).toBe(true);
      expect(end.at).toBeGreaterThanOrEqual(expiresAt - 1_000);
      expect(end.at).toBeLessThan(expiresAt + 1_000);
      expect(lastCode(stream)).toBe('TOKEN_EXPIRED');
      const delivered = stream.results.length;
      await sendMessage(app, await sender(), conversationId, 'after expiry');
      expect(stream.results.length).toBe(delivered);
      expect(bodies(stream)).not.toContain('after expiry');
    } finally {
      stream.close();
    }
  });
});

describe.skipIf(!redisAvailableFor('SSE streams across instances'))('SSE subscriptions across instances', () => {
  it('end on B within a second of a logout on A', async () => {
    const pair = await startInstancesOverRedis();
    try {
      const { investor, startup, conversationId } = await chatPair(pair.a);
      const stream = await openSse<Sent>(pair.b.url, startup.tokens.accessToken, MESSAGE_SENT, { id: conversationId });
      try {
        await whenLive(pair.a, stream, investor, conversationId);
        const revokedAt = Date.now();
        await pair.a.gql(LOGOUT, { refreshToken: startup.tokens.refreshToken }, { token: startup.tokens.accessToken });
        const end = await withTimeout(stream.ended, 10_000, 'the end of the stream');
        expect(end.completed).toBe(true);
        expect(end.at - revokedAt).toBeLessThan(1_000);
        expect(lastCode(stream)).toBe('TOKEN_REVOKED');
      } finally {
        stream.close();
      }
    } finally {
      await pair.stop();
    }
  });
});

describe('connection caps', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '3' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('caps the sockets and SSE streams one user holds open, and those of one address', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const first = await connectedWs(t.wsUrl, { token: startup.tokens.accessToken });
    const stream = await openSse<Sent>(t.url, startup.tokens.accessToken, MESSAGE_SENT, { id: conversationId });
    try {
      await whenLive(t, stream, investor, conversationId);
      // The user's third connection, a socket or a stream, is refused.
      const third = connectWs(t.wsUrl, { token: startup.tokens.accessToken });
      expect(await withTimeout(third.closed, 5_000, 'the refusal')).toEqual({ code: 1008, reason: 'too many connections' });
      const refused = await openSse<Sent>(t.url, startup.tokens.accessToken, MESSAGE_SENT, { id: conversationId });
      await withTimeout(refused.ended, 5_000, 'the refused stream');
      expect(refused.results[0]?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      // Another user from the same address gets the address's last place, then none.
      const investorSocket = await connectedWs(t.wsUrl, { token: investor.tokens.accessToken });
      const overIp = connectWs(t.wsUrl, { token: investor.tokens.accessToken });
      expect((await withTimeout(overIp.closed, 5_000, 'the refusal')).code).toBe(1008);
      await investorSocket.dispose();
      // A place frees up when a connection closes.
      await first.dispose();
      // The server sees the close a moment after the client: try until the place is free.
      for (let attempt = 0; ; attempt++) {
        const again = await connectedWs(t.wsUrl, { token: startup.tokens.accessToken }).catch((error: Error) => {
          if (attempt >= 50 || !error.message.includes('1008')) throw error;
          return null;
        });
        if (again) {
          await again.dispose();
          break;
        }
      }
    } finally {
      stream.close();
      await first.dispose();
    }
  });
});
