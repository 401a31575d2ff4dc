import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ME } from '../helpers/graphql.js';
import { HISTORY, MESSAGE_SENT, arrival, chatPair, sendMessage, type MessageShape } from '../helpers/chat.js';
import { startAppWithCuttableRedis, type AppWithCuttableRedis } from '../helpers/instances.js';
import { redisAvailableFor } from '../helpers/redis.js';
import { connectedWs, rawSocket, subscribe } from '../helpers/ws.js';
import { eventually, whenLive, withTimeout } from '../helpers/time.js';

/** A raw socket (frames no well-behaved client sends), open. */
async function openRawSocket(url: string) {
  const raw = rawSocket(url);
  await raw.opened;
  return raw;
}

describe('WebSocket abuse', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('applies the query limits to socket operations too, and keeps the socket open', async () => {
    const { investor, conversationId } = await chatPair(t);
    const ws = await connectedWs(t.wsUrl, { token: investor.tokens.accessToken });
    try {
      let selection = 'id';
      for (let i = 0; i < 8; i++) selection = `startupProfile { owner { ${selection} } }`;
      const deep = subscribe(ws.client, `query { me { ${selection} } }`);
      expect(JSON.stringify(await withTimeout(deep.error, 5_000, 'the depth refusal'))).toMatch(/depth/i);
      const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: industries { id }`).join(' ');
      const bomb = subscribe(ws.client, `query { ${aliases} }`);
      expect(JSON.stringify(await withTimeout(bomb.error, 5_000, 'the alias refusal'))).toMatch(/alias/i);
      // The same socket still serves a legitimate subscription.
      const live = subscribe<{ messageSent: MessageShape }>(ws.client, MESSAGE_SENT, { conversationId });
      await whenLive(
        () => sendMessage(t, investor, conversationId, 'probe'),
        () => live.results.length > 0,
      );
      const sent = await sendMessage(t, investor, conversationId, 'still here');
      await arrival(live.results, (result) => result.data?.messageSent.id === sent.id, 'the message');
      expect(ws.isOpen()).toBe(true);
    } finally {
      await ws.dispose();
    }
  });

  it('closes a flood of 100 connections that never send connection_init (4408) and keeps serving', async () => {
    const sockets = await Promise.all(Array.from({ length: 100 }, () => openRawSocket(t.wsUrl)));
    const closes = await withTimeout(Promise.all(sockets.map((s) => s.closed)), 10_000, 'the flood to be closed');
    expect(new Set(closes.map((c) => c.code))).toEqual(new Set([4408]));
    expect((await t.gql('{ industries { id } }')).errors).toBeUndefined();
    console.info(`connection_init flood: 100 sockets opened, 100 closed with 4408`);
  });

  it.each([
    ['invalid JSON', 'this is not json', 4400],
    ['a message of an unknown type', JSON.stringify({ type: 'launch_missiles' }), 4400],
    ['a subscribe before connection_init', JSON.stringify({ id: '1', type: 'subscribe', payload: { query: ME } }), 4401],
  ])('closes a socket that sends %s (%s) and keeps serving others', async (_name, frame, code) => {
    const { socket, closed } = await openRawSocket(t.wsUrl);
    socket.send(frame);
    expect((await withTimeout(closed, 5_000, 'the close')).code).toBe(code);
    expect((await t.gql('{ industries { id } }')).errors).toBeUndefined();
  });

  it('survives binary garbage and an oversized frame', async () => {
    const garbage = await openRawSocket(t.wsUrl);
    garbage.socket.send(Buffer.from([0xff, 0x00, 0xfe, 0x01, 0x02]));
    expect((await withTimeout(garbage.closed, 5_000, 'the close')).code).toBeGreaterThanOrEqual(1000);
    const huge = await openRawSocket(t.wsUrl);
    huge.socket.send('x'.repeat(70 * 1024));
    expect((await withTimeout(huge.closed, 5_000, 'the close')).code).toBe(1009);
    expect((await t.gql('{ industries { id } }')).errors).toBeUndefined();
  });
});

describe.skipIf(!redisAvailableFor('chat during a Redis outage'))('chat during a Redis outage', () => {
  let app: AppWithCuttableRedis;
  let t: TestApp;
  beforeAll(async () => {
    app = await startAppWithCuttableRedis();
    t = app.t;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('still delivers to subscribers on the same instance, and history has every message', async () => {
    const { proxy } = app;
    const { investor, startup, conversationId } = await chatPair(t);
    const ws = await connectedWs(t.wsUrl, { token: startup.tokens.accessToken });
    try {
      const live = subscribe<{ messageSent: MessageShape }>(ws.client, MESSAGE_SENT, { conversationId });
      await whenLive(
        () => sendMessage(t, investor, conversationId, 'probe'),
        () => live.results.length > 0,
      );
      proxy.cut();
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await sendMessage(t, investor, conversationId, `during outage ${i}`));
      const duringOutage = () =>
        live.results.flatMap((result) => (result.data?.messageSent.body.startsWith('during outage') ? [result.data.messageSent.id] : []));
      await eventually(() => duringOutage().length === 5, 'the five messages');
      expect(duringOutage()).toEqual(sent.map((message) => message.id));
      const history = await t.gql<{ conversation: { messages: { edges: Array<{ node: { id: string } }> } } }>(
        HISTORY,
        { id: conversationId, first: 20 },
        { token: startup.tokens.accessToken },
      );
      const ids = new Set(history.data!.conversation.messages.edges.map((e) => e.node.id));
      for (const message of sent) expect(ids).toContain(message.id);
      console.info('Redis outage: 5 messages sent, 5 delivered locally, 5 in history, 0 lost');
    } finally {
      proxy.restore();
      await ws.dispose();
    }
  });

  it('loses nothing when a message is committed but its event never leaves the instance: history on another instance has it', async () => {
    const { proxy } = app;
    const other = await startTestApp({ db: t.db, inbox: t.inbox, env: { REDIS_URL: app.redisUrl } });
    try {
      const { investor, startup, conversationId } = await chatPair(t);
      const ws = await connectedWs(other.wsUrl, { token: startup.tokens.accessToken });
      const live = subscribe<{ messageSent: MessageShape }>(ws.client, MESSAGE_SENT, { conversationId });
      // Live through Redis: the probes travel from t to other.
      await whenLive(
        () => sendMessage(t, investor, conversationId, 'probe'),
        () => live.results.length > 0,
      );
      proxy.cut();
      const sent = await sendMessage(t, investor, conversationId, 'committed, never published');
      // A later message sent on `other` itself arrives locally; the one from t did not come before it.
      const later = await sendMessage(other, startup, conversationId, 'later, sent on other');
      const bodies = () => live.results.map((result) => result.data?.messageSent.body);
      await eventually(() => bodies().includes('later, sent on other'), 'the local message');
      expect(bodies()).not.toContain('committed, never published');
      const history = await other.gql<{ conversation: { messages: { edges: Array<{ node: { id: string } }> } } }>(
        HISTORY,
        { id: conversationId, first: 5 },
        { token: startup.tokens.accessToken },
      );
      expect(history.data!.conversation.messages.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining([sent.id, later.id]));
      // ioredis queues the publishes made during the cut; let them go out before `other` stops,
      // or its queued publish is rejected as unhandled.
      proxy.restore();
      await eventually(() => bodies().includes('committed, never published'), 'the queued event after the outage', 15_000);
      await ws.dispose();
    } finally {
      proxy.restore();
      await other.stop();
    }
  });
});
