import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { startCountedApp, type CountedApp } from './helpers/statements.js';
import { chatPair, type SignedIn } from './helpers/chat.js';
import { signedInUser } from './helpers/factories.js';
import { UPDATE_SETTINGS, livePresenceFeed, newPartner } from './helpers/presence.js';
import { connectedWs, type WsConnection } from './helpers/ws.js';

const GRACE_SECONDS = 1.5;

const USER_PRESENCE = /* GraphQL */ `
  query UserPresence($id: ID!) {
    conversation(id: $id) { participants { id online lastSeenAt } }
  }
`;
const STARTUP_OWNER_PRESENCE = /* GraphQL */ `
  query OwnerPresence { startups(first: 100) { edges { node { owner { id online lastSeenAt } } } } }
`;
const MY_SETTINGS = /* GraphQL */ `query { me { id online settings { emailOnUnreadMessages showPresence } } }`;

interface Participant {
  id: string;
  online: boolean | null;
  lastSeenAt: string | null;
}

describe('presence on one instance', () => {
  let t: CountedApp;
  const open: WsConnection[] = [];
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    t = await startCountedApp({ env: { PRESENCE_GRACE_SECONDS: String(GRACE_SECONDS) } });
  });
  afterAll(async () => {
    await Promise.all([...open.map((connection) => connection.dispose()), ...closers.map((close) => close())]);
    await t?.stop();
  });

  const connect = async (user: SignedIn) => {
    const connection = await connectedWs(t.wsUrl, { token: user.tokens.accessToken });
    open.push(connection);
    return connection;
  };

  async function participantsSeenBy(viewer: SignedIn, conversationId: string): Promise<Participant[]> {
    const result = await t.gql<{ conversation: { participants: Participant[] } }>(USER_PRESENCE, { id: conversationId }, { token: viewer.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    return result.data!.conversation.participants;
  }

  it('shows a partner online while one of their sockets is open, and lastSeenAt once the last one closed and the grace ran out', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    expect((await participantsSeenBy(investor, conversationId)).find((p) => p.id === startup.id)).toEqual({ id: startup.id, online: false, lastSeenAt: null });

    const { feed, close } = await livePresenceFeed(t, investor);
    closers.push(close);
    const first = await connect(startup);
    const second = await connect(startup);
    expect(await feed.nthAbout(startup.id, 0)).toEqual({ user: { id: startup.id }, online: true, lastSeenAt: null });
    expect((await participantsSeenBy(investor, conversationId)).find((p) => p.id === startup.id)).toEqual({ id: startup.id, online: true, lastSeenAt: null });

    const closedAt = Date.now();
    await first.dispose();
    await second.dispose();
    const offline = await feed.nthAbout(startup.id, 1);
    const receivedAt = Date.now();
    expect(offline.online).toBe(false);
    // lastSeenAt is when the last socket closed, not when the grace ran out (same clock: one machine).
    expect(Date.parse(offline.lastSeenAt!)).toBeGreaterThanOrEqual(closedAt - 50);
    expect(Date.parse(offline.lastSeenAt!)).toBeLessThanOrEqual(receivedAt - GRACE_SECONDS * 1000);
    expect(feed.about(startup.id)).toHaveLength(2); // one socket of two closing announced nothing
    expect((await participantsSeenBy(investor, conversationId)).find((p) => p.id === startup.id)).toEqual({
      id: startup.id,
      online: false,
      lastSeenAt: offline.lastSeenAt,
    });
  });

  it('announces nothing when a user reconnects within the grace', async () => {
    const { investor, startup } = await chatPair(t);
    const { feed, close } = await livePresenceFeed(t, investor);
    closers.push(close);
    const socket = await connect(startup);
    expect((await feed.nthAbout(startup.id, 0)).online).toBe(true);

    await socket.dispose();
    const again = await connect(startup); // well within the grace
    // A later, certain event: the next one about the startup must be its real departure.
    await again.dispose();
    const next = await feed.nthAbout(startup.id, 1);
    expect(next.online).toBe(false);
    expect(feed.about(startup.id)).toHaveLength(2);
  });

  it('writes no table when sockets open and close, only lastSeenAt when the user goes offline', async () => {
    const { investor, startup } = await chatPair(t);
    const { feed, close } = await livePresenceFeed(t, investor);
    closers.push(close);
    t.statements.clear();
    const socket = await connect(startup);
    await feed.nthAbout(startup.id, 0);
    await socket.dispose();
    const again = await connect(startup);
    await again.dispose();
    await feed.nthAbout(startup.id, 1);
    const writes = t.statements.matching(/^(insert|update|delete)\b/i);
    expect(writes.filter((statement) => !/"user_presence"/.test(statement))).toEqual([]);
    expect(writes.filter((statement) => /"user_presence"/.test(statement))).toHaveLength(1);
  });

  it('hides online and lastSeenAt from users who share no conversation, and from anonymous callers', async () => {
    const { startup } = await chatPair(t);
    const stranger = await signedInUser(t, { role: 'INVESTOR' });
    await connect(startup);
    for (const token of [stranger.tokens.accessToken, undefined]) {
      const result = await t.gql<{ startups: { edges: Array<{ node: { owner: Participant } }> } }>(STARTUP_OWNER_PRESENCE, {}, { token });
      expect(result.errors).toBeUndefined();
      const owner = result.data!.startups.edges.map((edge) => edge.node.owner).find((o) => o.id === startup.id);
      expect(owner).toEqual({ id: startup.id, online: null, lastSeenAt: null });
    }
    // The user sees their own.
    const me = await t.gql<{ me: { online: boolean } }>(MY_SETTINGS, {}, { token: startup.tokens.accessToken });
    expect(me.data?.me.online).toBe(true);
  });

  it('sends no presence events about users who are not partners of the viewer', async () => {
    const { investor } = await chatPair(t);
    const stranger = await signedInUser(t, { role: 'STARTUP' });
    const { feed, close } = await livePresenceFeed(t, investor);
    closers.push(close);
    await connect(stranger);
    const partner = await newPartner(t, investor);
    await connect(partner);
    await feed.nthAbout(partner.id, 0); // came after the stranger's connection
    expect(feed.about(stranger.id)).toEqual([]);
  });

  it('hides presence, in fields and events, while the user has showPresence off', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const hidden = await t.gql(UPDATE_SETTINGS, { input: { showPresence: false } }, { token: startup.tokens.accessToken });
    expect(hidden.data).toEqual({ updateSettings: { emailOnUnreadMessages: true, showPresence: false } });
    const { feed, close } = await livePresenceFeed(t, investor);
    closers.push(close);
    await connect(startup);
    const later = await newPartner(t, investor);
    await connect(later);
    await feed.nthAbout(later.id, 0);
    expect(feed.about(startup.id)).toEqual([]);
    expect((await participantsSeenBy(investor, conversationId)).find((p) => p.id === startup.id)).toEqual({ id: startup.id, online: null, lastSeenAt: null });

    await t.gql(UPDATE_SETTINGS, { input: { showPresence: true } }, { token: startup.tokens.accessToken });
    expect((await participantsSeenBy(investor, conversationId)).find((p) => p.id === startup.id)?.online).toBe(true);
  });

  it('refuses the presence subscription without a token', async () => {
    const result = await t.gql('subscription { presence { online } }');
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });
});

describe('settings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('are both true by default, change one at a time, and are shown to their owner only', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const mine = await t.gql<{ me: { settings: unknown } }>(MY_SETTINGS, {}, { token: startup.tokens.accessToken });
    expect(mine.data?.me.settings).toEqual({ emailOnUnreadMessages: true, showPresence: true });

    const first = await t.gql(UPDATE_SETTINGS, { input: { emailOnUnreadMessages: false } }, { token: startup.tokens.accessToken });
    expect(first.data).toEqual({ updateSettings: { emailOnUnreadMessages: false, showPresence: true } });
    const second = await t.gql(UPDATE_SETTINGS, { input: { showPresence: false } }, { token: startup.tokens.accessToken });
    expect(second.data).toEqual({ updateSettings: { emailOnUnreadMessages: false, showPresence: false } });
    const unchanged = await t.gql(UPDATE_SETTINGS, { input: {} }, { token: startup.tokens.accessToken });
    expect(unchanged.data).toEqual({ updateSettings: { emailOnUnreadMessages: false, showPresence: false } });

    const seenByPartner = await t.gql<{ conversation: { participants: Array<{ id: string; settings: unknown }> } }>(
      `query($id: ID!) { conversation(id: $id) { participants { id settings { showPresence } } } }`,
      { id: conversationId },
      { token: investor.tokens.accessToken },
    );
    expect(seenByPartner.data?.conversation.participants.find((p) => p.id === startup.id)?.settings).toBeNull();
    expect(seenByPartner.data?.conversation.participants.find((p) => p.id === investor.id)?.settings).toEqual({ showPresence: true });
  });

  it('cannot be changed anonymously', async () => {
    const result = await t.gql(UPDATE_SETTINGS, { input: { showPresence: false } });
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });
});
