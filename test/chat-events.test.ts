import { afterAll, beforeAll, describe, expect } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { ME, fieldErrors } from './helpers/graphql.js';
import {
  CONVERSATION_EVENTS,
  DELETE_MESSAGE,
  EDIT_MESSAGE,
  MARK_READ,
  SET_TYPING,
  arrival,
  chatPair,
  eventsOf,
  historyPage,
  sendMessage,
  typingOf,
  until,
  type ConversationEvent,
  type SignedIn,
} from './helpers/chat.js';
import { signedInUser } from './helpers/factories.js';
import { openSse } from './helpers/sse.js';
import { test, type Sockets } from './helpers/fixtures.js';
import { subscribe, wsRequest } from './helpers/ws.js';
import { eventually, whenLive, withTimeout } from './helpers/time.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

type EventResult = { conversationEvents: ConversationEvent };

/** `user`'s conversationEvents over a socket, live (probed with messages from `prober`) before it returns. */
async function liveEvents(sockets: Sockets, app: TestApp, user: SignedIn, prober: SignedIn, conversationId: string) {
  const socket = await sockets.connect(app, user.tokens.accessToken);
  const feed = subscribe<EventResult>(socket.client, CONVERSATION_EVENTS, { id: conversationId });
  await whenLive(
    () => sendMessage(app, prober, conversationId, 'probe'),
    () => feed.results.length > 0,
  );
  return { socket, feed };
}

const typing = (app: TestApp, user: SignedIn, conversationId: string, value: boolean) =>
  app.gql<{ setTyping: boolean }>(SET_TYPING, { conversationId, typing: value }, { token: user.tokens.accessToken });

const edit = (user: SignedIn, id: string, body: string) =>
  t.gql<{ editMessage: { id: string; body: string; editedAt: string | null; deletedAt: string | null; cursor: string } }>(
    EDIT_MESSAGE,
    { id, body },
    { token: user.tokens.accessToken },
  );
const remove = (user: SignedIn, id: string) =>
  t.gql<{ deleteMessage: { id: string; body: string; createdAt: string; editedAt: string | null; deletedAt: string | null; cursor: string } }>(
    DELETE_MESSAGE,
    { id },
    { token: user.tokens.accessToken },
  );

const UNREAD = /* GraphQL */ `query Unread($id: ID!) { conversation(id: $id) { unreadCount peerLastReadAt } }`;
const readState = async (user: SignedIn, id: string) =>
  (await t.gql<{ conversation: { unreadCount: number; peerLastReadAt: string | null } }>(UNREAD, { id }, { token: user.tokens.accessToken })).data!
    .conversation;

describe('editMessage', () => {
  test("lets the sender change a message's body and sets editedAt; history shows the new body in the same place", async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const first = await sendMessage(t, investor, conversationId, 'Helo');
    const second = await sendMessage(t, startup, conversationId, 'Hi!');
    const edited = await edit(investor, first.id, '  Hello  ');
    expect(edited.errors).toBeUndefined();
    expect(edited.data!.editMessage).toMatchObject({ id: first.id, body: 'Hello', deletedAt: null });
    expect(Date.parse(edited.data!.editMessage.editedAt!)).toBeGreaterThanOrEqual(Date.parse(first.createdAt));
    const page = await historyPage(t, startup, conversationId);
    expect(page.edges.map((edge) => [edge.node.id, edge.node.body])).toEqual([
      [first.id, 'Hello'],
      [second.id, 'Hi!'],
    ]);
    expect(page.edges[0]!.node.editedAt).toBe(edited.data!.editMessage.editedAt);
    expect(page.edges[1]!.node.editedAt).toBeNull();
  });

  test("refuses someone else's message (FORBIDDEN), an unknown id (NOT_FOUND), a bad body (BAD_USER_INPUT) and no sign-in", async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    const message = await sendMessage(t, investor, conversationId, 'mine');
    expect(errorCode(await edit(startup, message.id, 'hijacked'))).toBe('FORBIDDEN');
    expect(errorCode(await edit(outsider, message.id, 'hijacked'))).toBe('FORBIDDEN');
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) expect(errorCode(await edit(investor, id, 'x'))).toBe('NOT_FOUND');
    for (const body of ['', '   ', 'a'.repeat(4001)]) {
      expect(fieldErrors(await edit(investor, message.id, body))).toMatchObject({ body: expect.any(String) });
    }
    expect(errorCode(await t.gql(EDIT_MESSAGE, { id: message.id, body: 'x' }))).toBe('UNAUTHENTICATED');
    expect((await historyPage(t, investor, conversationId)).edges[0]!.node.body).toBe('mine');
  });
});

describe('deleteMessage', () => {
  test('leaves a tombstone in place for everyone, takes it out of the unread count, and answers the same tombstone again', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const kept = await sendMessage(t, investor, conversationId, 'kept');
    const gone = await sendMessage(t, investor, conversationId, 'regretted');
    const after = await sendMessage(t, investor, conversationId, 'after');
    expect((await readState(startup, conversationId)).unreadCount).toBe(3);
    const before = (await historyPage(t, startup, conversationId)).edges[1]!.node;

    const deleted = await remove(investor, gone.id);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteMessage).toMatchObject({ id: gone.id, body: '', createdAt: gone.createdAt, cursor: before.cursor });
    expect(deleted.data!.deleteMessage.deletedAt).not.toBeNull();
    expect((await readState(startup, conversationId)).unreadCount).toBe(2);
    const page = await historyPage(t, startup, conversationId);
    expect(page.edges.map((edge) => [edge.node.id, edge.node.body, edge.node.deletedAt !== null])).toEqual([
      [kept.id, 'kept', false],
      [gone.id, '', true],
      [after.id, 'after', false],
    ]);
    // Its cursor still pages: nothing is lost around a tombstone.
    expect((await historyPage(t, startup, conversationId, { first: 5, after: before.cursor })).edges.map((edge) => edge.node.id)).toEqual([after.id]);

    const again = await remove(investor, gone.id);
    expect(again.data!.deleteMessage).toEqual(deleted.data!.deleteMessage);
    expect(errorCode(await edit(investor, gone.id, 'resurrected'))).toBe('FORBIDDEN');
  });

  test("refuses someone else's message (FORBIDDEN) and an unknown id (NOT_FOUND)", async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const message = await sendMessage(t, investor, conversationId, 'mine');
    expect(errorCode(await remove(startup, message.id))).toBe('FORBIDDEN');
    expect(errorCode(await remove(investor, '00000000-0000-4000-8000-000000000000'))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(DELETE_MESSAGE, { id: message.id }))).toBe('UNAUTHENTICATED');
    expect((await historyPage(t, investor, conversationId)).edges[0]!.node.deletedAt).toBeNull();
  });
});

describe('read receipts', () => {
  test("shows the other participant's read mark as peerLastReadAt, and a ReadEvent only when the mark moves", async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const { feed } = await liveEvents(sockets, t, investor, investor, conversationId);
    expect((await readState(investor, conversationId)).peerLastReadAt).toBeNull();
    const newest = await sendMessage(t, investor, conversationId, 'did you see the term sheet?');

    await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });
    expect((await readState(investor, conversationId)).peerLastReadAt).toBe(newest.createdAt);
    const read = await arrival(eventsOf(feed.results), (event) => event.__typename === 'ReadEvent', 'the ReadEvent');
    expect(read).toEqual({ __typename: 'ReadEvent', conversationId, user: { id: startup.id }, lastReadAt: newest.createdAt });

    // Reading again moves nothing: no second ReadEvent before the next message.
    await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });
    const marker = await sendMessage(t, investor, conversationId, 'marker');
    await until(() => eventsOf(feed.results).some((event) => event.message?.id === marker.id), 'the marker');
    expect(eventsOf(feed.results).filter((event) => event.__typename === 'ReadEvent')).toHaveLength(1);

    // A reply reads what came before it: the investor sees the startup's mark move to the reply.
    const seen = eventsOf(feed.results).length;
    const reply = await sendMessage(t, startup, conversationId, 'yes, signing today');
    // Polled afresh: the ReadEvent may still be on its way when the reply's answer is back.
    const moved = await eventually(
      () =>
        eventsOf(feed.results)
          .slice(seen)
          .find((event) => event.__typename === 'ReadEvent'),
      "the reply's ReadEvent",
    );
    expect(moved).toMatchObject({ user: { id: startup.id }, lastReadAt: reply.createdAt });
    expect((await readState(investor, conversationId)).peerLastReadAt).toBe(reply.createdAt);
  });
});

describe('conversationEvents', () => {
  test('streams sent, edited and deleted messages, read marks and the other participant typing, in order, over WebSocket', async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const { feed } = await liveEvents(sockets, t, investor, investor, conversationId);
    const start = feed.results.length;
    const message = await sendMessage(t, startup, conversationId, 'first draft');
    await edit(startup, message.id, 'second draft');
    await remove(startup, message.id);
    await typing(t, startup, conversationId, true);
    await typing(t, startup, conversationId, false);
    const question = await sendMessage(t, investor, conversationId, 'so?');
    await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });
    await until(() => eventsOf(feed.results.slice(start)).length >= 8, 'all the events');
    const events = eventsOf(feed.results.slice(start));
    // The reply read the probes before it (a ReadEvent); markConversationRead then read `question`.
    expect(events.map((event) => event.__typename)).toEqual([
      'MessageSentEvent',
      'ReadEvent',
      'MessageEditedEvent',
      'MessageDeletedEvent',
      'TypingEvent',
      'TypingEvent',
      'MessageSentEvent',
      'ReadEvent',
    ]);
    expect(events[7]).toEqual({ __typename: 'ReadEvent', conversationId, user: { id: startup.id }, lastReadAt: question.createdAt });
    expect(events[0]!.message).toMatchObject({ id: message.id, body: 'first draft', sender: { id: startup.id }, editedAt: null, deletedAt: null });
    expect(events[2]!.message).toMatchObject({ id: message.id, body: 'second draft', deletedAt: null });
    expect(events[2]!.message!.editedAt).not.toBeNull();
    expect(events[3]!.message).toMatchObject({ id: message.id, body: '' });
    expect(events[3]!.message!.deletedAt).not.toBeNull();
    expect(events.slice(4, 6)).toEqual([
      { __typename: 'TypingEvent', conversationId, user: { id: startup.id }, typing: true },
      { __typename: 'TypingEvent', conversationId, user: { id: startup.id }, typing: false },
    ]);
  });

  test('streams over SSE too', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const stream = await openSse<EventResult>(t.url, investor.tokens.accessToken, CONVERSATION_EVENTS, { id: conversationId });
    try {
      await whenLive(
        () => sendMessage(t, investor, conversationId, 'probe'),
        () => stream.results.length > 0,
      );
      await typing(t, startup, conversationId, true);
      const reply = await sendMessage(t, startup, conversationId, 'over SSE');
      await until(() => typingOf(stream.results).length === 2, 'typing to start and end');
      const events = eventsOf(stream.results);
      expect(events.find((event) => event.message?.id === reply.id)).toMatchObject({ __typename: 'MessageSentEvent', message: { body: 'over SSE' } });
      expect(typingOf(stream.results)).toEqual([true, false]);
    } finally {
      stream.close();
    }
  });

  test('refuses a non-participant with an error for that operation and keeps the socket open; NOT_FOUND for an unknown conversation', async ({ sockets }) => {
    const { conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'INVESTOR' });
    const socket = await sockets.connect(t, outsider.tokens.accessToken);
    const refused = subscribe(socket.client, CONVERSATION_EVENTS, { id: conversationId });
    expect((await withTimeout(refused.error, 5_000, 'the error'))[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = subscribe(socket.client, CONVERSATION_EVENTS, { id: '00000000-0000-4000-8000-000000000000' });
    expect((await withTimeout(unknown.error, 5_000, 'the error'))[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(socket.isOpen()).toBe(true);
    expect((await wsRequest<{ me: { id: string } }>(socket.client, ME)).data?.me.id).toBe(outsider.id);
  });
});

describe('typing', () => {
  test('announces one start per typing state, renewals silently, and one end on setTyping(false); never to the typist', async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const watcher = await liveEvents(sockets, t, investor, startup, conversationId);
    const typist = await liveEvents(sockets, t, startup, investor, conversationId);
    for (let i = 0; i < 3; i++) expect((await typing(t, startup, conversationId, true)).data).toEqual({ setTyping: true });
    expect((await typing(t, startup, conversationId, false)).data).toEqual({ setTyping: false });
    await typing(t, startup, conversationId, false); // no state: nothing to announce
    await until(() => typingOf(watcher.feed.results).length >= 2, 'start and end');
    // A later event shows nothing else came in between.
    const marker = await sendMessage(t, startup, conversationId, 'marker');
    await until(() => eventsOf(watcher.feed.results).some((event) => event.message?.id === marker.id), 'the marker');
    await until(() => eventsOf(typist.feed.results).some((event) => event.message?.id === marker.id), 'the marker on the typist side');
    expect(typingOf(watcher.feed.results)).toEqual([true, false]);
    expect(typingOf(typist.feed.results)).toEqual([]);
  });

  test('ends when the typist sends a message', async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const { feed } = await liveEvents(sockets, t, startup, startup, conversationId);
    await typing(t, investor, conversationId, true);
    const sent = await sendMessage(t, investor, conversationId, 'done typing');
    await until(() => typingOf(feed.results).length === 2, 'the end of typing');
    expect(typingOf(feed.results)).toEqual([true, false]);
    expect(eventsOf(feed.results).some((event) => event.message?.id === sent.id)).toBe(true);
  });

  test("ends when the typist's last socket closes", async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const { feed } = await liveEvents(sockets, t, startup, startup, conversationId);
    const first = await sockets.connect(t, investor.tokens.accessToken);
    const second = await sockets.connect(t, investor.tokens.accessToken);
    expect((await wsRequest(first.client, SET_TYPING, { conversationId, typing: true })).errors).toBeUndefined();
    await until(() => typingOf(feed.results).length === 1, 'the start of typing');
    await first.dispose();
    // One socket left: still typing. The marker shows no end came before it.
    const marker = await sendMessage(t, startup, conversationId, 'marker');
    await until(() => eventsOf(feed.results).some((event) => event.message?.id === marker.id), 'the marker');
    expect(typingOf(feed.results)).toEqual([true]);
    await second.dispose();
    await until(() => typingOf(feed.results).length === 2, 'the end of typing');
    expect(typingOf(feed.results)).toEqual([true, false]);
  });

  test('refuses non-participants (FORBIDDEN) and unknown conversations (NOT_FOUND)', async () => {
    const { investor, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    expect(errorCode(await typing(t, outsider, conversationId, true))).toBe('FORBIDDEN');
    expect(errorCode(await typing(t, investor, '00000000-0000-4000-8000-000000000000', true))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(SET_TYPING, { conversationId, typing: true }))).toBe('UNAUTHENTICATED');
  });

  test('allows 10 calls a second per user by default', () => {
    expect(t.config.RATE_LIMIT_TYPING_PER_SECOND).toBe(10);
  });
});

describe('typing timeout and rate limit', () => {
  // A short timeout, and a per-second limit low enough that a burst exceeds it however slowly
  // a loaded machine answers (the default, 10, is checked above).
  let quick: TestApp;
  beforeAll(async () => {
    quick = await startTestApp({ db: t.db, inbox: t.inbox, env: { TYPING_TIMEOUT_SECONDS: '1', RATE_LIMIT_TYPING_PER_SECOND: '3' } });
  });
  afterAll(async () => {
    await quick?.stop();
  });

  test('ends a typing state that is not renewed within TYPING_TIMEOUT_SECONDS', async ({ sockets }) => {
    const { investor, startup, conversationId } = await chatPair(quick);
    const { feed } = await liveEvents(sockets, quick, startup, startup, conversationId);
    await typing(quick, investor, conversationId, true);
    await until(() => typingOf(feed.results).length === 2, 'the timeout to end typing', 10_000);
    expect(typingOf(feed.results)).toEqual([true, false]);
  });

  test('refuses calls beyond the per-second limit with RATE_LIMITED and retryAfter, per user', async () => {
    const { investor, startup, conversationId } = await chatPair(quick);
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => typing(quick, investor, conversationId, i % 2 === 0)));
    const limited = burst.filter((result) => errorCode(result) === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    for (const result of limited) expect(result.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    // Another user is not held back by it.
    expect((await typing(quick, startup, conversationId, true)).errors).toBeUndefined();
  });
});
