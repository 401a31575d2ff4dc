import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { LOGOUT, ME } from './helpers/graphql.js';
import { INBOX, MARK_READ, MESSAGE_SENT, arrival, chatPair, sendMessage, type MessageShape } from './helpers/chat.js';
import { login } from './helpers/factories.js';
import { startInstancesOverRedis, type InstancePair } from './helpers/instances.js';
import { redisAvailableFor } from './helpers/redis.js';
import { connectedWs, subscribe, wsRequest, type WsConnection } from './helpers/ws.js';
import { whenLive, withTimeout } from './helpers/time.js';

describe.skipIf(!redisAvailableFor('chat across two instances'))('chat across two instances sharing PostgreSQL and Redis', () => {
  let pair: InstancePair | undefined;
  let a: TestApp;
  let b: TestApp;
  const open: WsConnection[] = [];
  beforeAll(async () => {
    pair = await startInstancesOverRedis();
    ({ a, b } = pair);
  });
  afterAll(async () => {
    await Promise.all(open.map((connection) => connection.dispose()));
    await pair?.stop();
  });

  it('delivers a message sent on instance A to messageSent and inbox subscribers on instance B', async () => {
    const { investor, startup, conversationId } = await chatPair(a);
    const onB = await connectedWs(b.wsUrl, { token: startup.tokens.accessToken });
    open.push(onB);
    const feed = subscribe<{ messageSent: MessageShape }>(onB.client, MESSAGE_SENT, { conversationId });
    const inbox = subscribe<{ inbox: MessageShape }>(onB.client, INBOX);
    // Probes from A until both subscriptions on B get one: the Redis SUBSCRIBE is in place.
    await whenLive(
      () => sendMessage(a, investor, conversationId, 'probe'),
      () => feed.results.length > 0 && inbox.results.length > 0,
    );
    await a.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });

    const sent = await sendMessage(a, investor, conversationId, 'Hello from instance A');
    const viaFeed = await arrival(feed.results, (result) => result.data?.messageSent.id === sent.id, 'the message on messageSent');
    expect(viaFeed.data?.messageSent).toMatchObject({ id: sent.id, body: 'Hello from instance A', sender: { id: investor.id } });
    const viaInbox = await arrival(inbox.results, (result) => result.data?.inbox.id === sent.id, 'the message on inbox');
    expect(viaInbox.data?.inbox).toMatchObject({ id: sent.id, conversation: { id: conversationId, unreadCount: 1 } });
  });

  it('closes on B, within a second, the socket of a session logged out on A; the other session stays', async () => {
    const { startup } = await chatPair(a);
    const otherSession = await login(a, startup);
    const leaving = await connectedWs(b.wsUrl, { token: startup.tokens.accessToken });
    const staying = await connectedWs(b.wsUrl, { token: otherSession.accessToken });
    open.push(leaving, staying);

    const startedAt = Date.now();
    const result = await a.gql(LOGOUT, { refreshToken: startup.tokens.refreshToken }, { token: startup.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    expect(await withTimeout(leaving.closed, 1_000, 'the socket on B to close')).toEqual({ code: 4403, reason: 'token revoked' });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(staying.isOpen()).toBe(true);
    expect((await wsRequest<{ me: { id: string } }>(staying.client, ME)).data?.me.id).toBe(startup.id);
  });
});

describe('two instances without Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ db: a.db, inbox: a.inbox, env: { REVOCATION_SYNC_SECONDS: '0.2' } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("still closes B's socket of a session logged out on A, through the database re-sync", async () => {
    const { startup } = await chatPair(a);
    const onB = await connectedWs(b.wsUrl, { token: startup.tokens.accessToken });
    await a.gql(LOGOUT, { refreshToken: startup.tokens.refreshToken }, { token: startup.tokens.accessToken });
    expect(await withTimeout(onB.closed, 1_000, 'the socket on B to close')).toEqual({ code: 4403, reason: 'token revoked' });
  });
});
