import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { chatPair, type SignedIn } from './helpers/chat.js';
import { startChildApp } from './helpers/child-app.js';
import { startAppWithCuttableRedis, startInstancesOverRedis, type AppWithCuttableRedis, type InstancePair } from './helpers/instances.js';
import { livePresenceFeed } from './helpers/presence.js';
import { redisAvailableFor } from './helpers/redis.js';
import { eventually } from './helpers/time.js';
import { connectedWs, type WsConnection } from './helpers/ws.js';
import { dataOf } from './helpers/graphql.js';

const TTL_SECONDS = 3;
const PRESENCE_ENV = { PRESENCE_GRACE_SECONDS: '1', PRESENCE_TTL_SECONDS: String(TTL_SECONDS) };

const ONLINE = /* GraphQL */ `query Online($id: ID!) { conversation(id: $id) { participants { id online } } }`;

async function onlineSeenBy(t: TestApp, viewer: SignedIn, conversationId: string, userId: string): Promise<boolean | null | undefined> {
  const result = await t.gql<{ conversation: { participants: Array<{ id: string; online: boolean | null }> } }>(
    ONLINE,
    { id: conversationId },
    { token: viewer.tokens.accessToken },
  );
  return dataOf(result, 'online').conversation.participants.find((p) => p.id === userId)?.online;
}

describe.skipIf(!redisAvailableFor('presence across instances'))('presence across instances sharing Redis', () => {
  let pair: InstancePair | undefined;
  let a: TestApp;
  let b: TestApp;
  const open: WsConnection[] = [];
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    pair = await startInstancesOverRedis(PRESENCE_ENV);
    ({ a, b } = pair);
  });
  afterAll(async () => {
    await Promise.all([...open.map((connection) => connection.dispose()), ...closers.map((close) => close())]);
    await pair?.stop();
  });

  it('shows a user online on every instance, announces it once, and a move to another instance within the grace announces nothing', async () => {
    const { investor, startup, conversationId } = await chatPair(a);
    const { feed, close } = await livePresenceFeed(a, investor, b);
    closers.push(close);

    const onB = await connectedWs(b.wsUrl, { token: startup.tokens.accessToken });
    expect((await feed.nthAbout(startup.id, 0)).online).toBe(true);
    expect(await onlineSeenBy(a, investor, conversationId, startup.id)).toBe(true);
    expect(await onlineSeenBy(b, investor, conversationId, startup.id)).toBe(true);

    await onB.dispose();
    const onA = await connectedWs(a.wsUrl, { token: startup.tokens.accessToken });
    await onA.dispose();
    // The next event about the startup must be its departure: the move announced nothing.
    const next = await feed.nthAbout(startup.id, 1);
    expect(next.online).toBe(false);
    expect(feed.about(startup.id)).toHaveLength(2);
    expect(await onlineSeenBy(b, investor, conversationId, startup.id)).toBe(false);
  });

  it('takes the users of an instance that stops gracefully offline after the grace, unless they reconnect elsewhere', async () => {
    const third = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: a.config.REDIS_URL, ...PRESENCE_ENV } });
    let stopped = false;
    try {
      const staying = await chatPair(a);
      const leaving = await chatPair(a);
      const { feed, close } = await livePresenceFeed(a, staying.investor, b);
      closers.push(close);
      const { feed: leavingFeed, close: closeLeaving } = await livePresenceFeed(a, leaving.investor, b);
      closers.push(closeLeaving);
      for (const user of [staying.startup, leaving.startup]) open.push(await connectedWs(third.wsUrl, { token: user.tokens.accessToken }));
      await feed.nthAbout(staying.startup.id, 0);
      await leavingFeed.nthAbout(leaving.startup.id, 0);

      await third.stop(); // closes its sockets with 1001
      stopped = true;
      open.push(await connectedWs(b.wsUrl, { token: staying.startup.tokens.accessToken })); // the client reconnects elsewhere
      expect((await leavingFeed.nthAbout(leaving.startup.id, 1)).online).toBe(false);
      // A later event about the staying user must be its real departure: the move announced nothing.
      await open.at(-1)!.dispose();
      expect((await feed.nthAbout(staying.startup.id, 1)).online).toBe(false);
      expect(feed.about(staying.startup.id)).toHaveLength(2);
    } finally {
      if (!stopped) await third.stop();
    }
  });

  it('takes the users of an instance killed with SIGKILL offline within PRESENCE_TTL_SECONDS', async () => {
    const child = await startChildApp(a.config);
    try {
      const { investor, startup, conversationId } = await chatPair(a);
      const { feed, close } = await livePresenceFeed(a, investor, b);
      closers.push(close);
      const onChild = await connectedWs(child.wsUrl, { token: startup.tokens.accessToken });
      open.push(onChild);
      expect((await feed.nthAbout(startup.id, 0)).online).toBe(true);
      expect(await onlineSeenBy(b, investor, conversationId, startup.id)).toBe(true);

      const killedAt = Date.now();
      await child.killHard();
      // API.md: within the TTL. The extra 2 s are for timers and delivery on a loaded test machine.
      const offline = await feed.nthAbout(startup.id, 1, TTL_SECONDS * 1000 + 2_000);
      expect(offline.online).toBe(false);
      expect(Date.parse(offline.lastSeenAt!)).toBeLessThanOrEqual(killedAt + 100);
      expect(await onlineSeenBy(b, investor, conversationId, startup.id)).toBe(false);
      expect(feed.about(startup.id)).toHaveLength(2); // announced once, by one of A and B
    } finally {
      await child.killHard();
    }
  });
});

describe.skipIf(!redisAvailableFor('presence while Redis is away'))('presence while Redis is unreachable', () => {
  let cuttable: AppWithCuttableRedis | undefined;
  let a: TestApp;
  let b: TestApp | undefined;
  const open: WsConnection[] = [];
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    cuttable = await startAppWithCuttableRedis(PRESENCE_ENV);
    a = cuttable.t;
    // B keeps its Redis: it sees only what A managed to write there.
    b = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: cuttable.redisUrl, ...PRESENCE_ENV } });
  });
  afterAll(async () => {
    await Promise.all([...open.map((connection) => connection.dispose()), ...closers.map((close) => close())]);
    await b?.stop();
    await cuttable?.stop();
  });

  it("falls back to the instance's own sockets without errors, and registers them in Redis again when it returns", async () => {
    const staying = await chatPair(a);
    const leaving = await chatPair(a);
    const { feed, close } = await livePresenceFeed(a, staying.investor);
    closers.push(close);
    const leavingSocket = await connectedWs(a.wsUrl, { token: leaving.startup.tokens.accessToken });
    await eventually(
      async () => (await onlineSeenBy(b!, leaving.investor, leaving.conversationId, leaving.startup.id)) === true,
      'B sees the leaving user online',
      5_000,
      100,
    );

    cuttable!.proxy.cut();
    open.push(await connectedWs(a.wsUrl, { token: staying.startup.tokens.accessToken }));
    // A announces and answers from its own knowledge; B, through Redis, cannot know yet.
    expect((await feed.nthAbout(staying.startup.id, 0)).online).toBe(true);
    expect(await onlineSeenBy(a, staying.investor, staying.conversationId, staying.startup.id)).toBe(true);
    expect(await onlineSeenBy(b!, staying.investor, staying.conversationId, staying.startup.id)).toBe(false);
    await leavingSocket.dispose();
    await eventually(
      async () => (await onlineSeenBy(a, leaving.investor, leaving.conversationId, leaving.startup.id)) === false,
      'A sees the leaving user offline',
      5_000,
      100,
    );

    cuttable!.proxy.restore();
    await eventually(
      async () => (await onlineSeenBy(b!, staying.investor, staying.conversationId, staying.startup.id)) === true,
      'B sees the staying user online',
      10_000,
      100,
    );
    await eventually(
      async () => (await onlineSeenBy(b!, leaving.investor, leaving.conversationId, leaving.startup.id)) === false,
      'B sees the leaving user offline',
      10_000,
      100,
    );
  });
});
