import { describe, expect } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { ME, fieldErrors } from './helpers/graphql.js';
import { INBOX, MESSAGE_SENT, MARK_READ, SEND_MESSAGE, arrival, chatPair, sendMessage, type MessageShape, type SignedIn } from './helpers/chat.js';
import { signedInUser } from './helpers/factories.js';
import { test } from './helpers/fixtures.js';
import { subscribe, wsRequest, type Subscription } from './helpers/ws.js';
import { whenLive, withTimeout } from './helpers/time.js';

/** Probes with messages from `sender` until every subscription has received one. */
const whenAllLive = (t: TestApp, sender: SignedIn, conversationId: string, ...subscriptions: Subscription<unknown>[]) =>
  whenLive(
    () => sendMessage(t, sender, conversationId, 'probe'),
    () => subscriptions.every((subscription) => subscription.results.length > 0),
  );

/** The result of `subscription` that carries the message `id` under `field`. */
const messageArrival = <K extends string>(subscription: Subscription<Record<K, MessageShape>>, field: K, id: string) =>
  arrival(subscription.results, (result) => result.data?.[field]?.id === id, `message ${id} on ${field}`);

describe('chat over graphql-ws', () => {
  test('delivers a message sent over HTTP to the other participant through messageSent and inbox', async ({ app: t, sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await sockets.connect(t, startup.tokens.accessToken);
    const conversationFeed = subscribe<{ messageSent: MessageShape }>(socket.client, MESSAGE_SENT, { conversationId });
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, INBOX);
    await whenAllLive(t, investor, conversationId, conversationFeed, inbox);
    await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken }); // the probes are read

    const sent = await sendMessage(t, investor, conversationId, '  Hello from the fund  ');
    expect(sent.body).toBe('Hello from the fund');

    const viaConversation = await messageArrival(conversationFeed, 'messageSent', sent.id);
    expect(viaConversation.errors).toBeUndefined();
    expect(viaConversation.data?.messageSent).toMatchObject({
      id: sent.id,
      body: 'Hello from the fund',
      sender: { id: investor.id, role: 'INVESTOR' },
      conversation: { id: conversationId },
    });
    const viaInbox = await messageArrival(inbox, 'inbox', sent.id);
    expect(viaInbox.data?.inbox).toMatchObject({ id: sent.id, conversation: { id: conversationId, unreadCount: 1, lastMessage: { id: sent.id } } });
  });

  test('resolves every event afresh: unreadCount and lastMessage follow each new message', async ({ app: t, sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await sockets.connect(t, startup.tokens.accessToken);
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, INBOX);
    await whenAllLive(t, investor, conversationId, inbox);
    await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });
    const first = await sendMessage(t, investor, conversationId, 'one');
    expect((await messageArrival(inbox, 'inbox', first.id)).data?.inbox.conversation).toMatchObject({ unreadCount: 1, lastMessage: { id: first.id } });
    const second = await sendMessage(t, investor, conversationId, 'two');
    expect((await messageArrival(inbox, 'inbox', second.id)).data?.inbox.conversation).toMatchObject({ unreadCount: 2, lastMessage: { id: second.id } });
  });

  test('refuses a subscription to a conversation the viewer is not in with an error message, and keeps the socket open', async ({ app: t, sockets }) => {
    const { investor, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    const socket = await sockets.connect(t, outsider.tokens.accessToken);

    const refused = subscribe(socket.client, MESSAGE_SENT, { conversationId });
    const errors = await withTimeout(refused.error, 5_000, 'the error message');
    expect(errors[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.results).toEqual([]);

    // The same socket still works: another operation on it succeeds.
    expect(socket.isOpen()).toBe(true);
    const me = await wsRequest<{ me: { id: string } }>(socket.client, ME);
    expect(me.data?.me.id).toBe(outsider.id);
    const own = await chatPair(t);
    const ownSocket = await sockets.connect(t, own.startup.tokens.accessToken);
    const feed = subscribe<{ messageSent: MessageShape }>(ownSocket.client, MESSAGE_SENT, { conversationId: own.conversationId });
    await whenAllLive(t, own.investor, own.conversationId, feed);
    const stillHere = await sendMessage(t, own.investor, own.conversationId, 'still here');
    expect((await messageArrival(feed, 'messageSent', stillHere.id)).data?.messageSent.body).toBe('still here');

    // A message in the refused conversation reaches neither the refused operation nor another
    // conversation's feed: a later message on that feed arrives, and the earlier one did not.
    const secret = await sendMessage(t, investor, conversationId, 'nobody else hears this');
    const later = await sendMessage(t, own.investor, own.conversationId, 'later');
    await messageArrival(feed, 'messageSent', later.id);
    expect(feed.results.map((result) => result.data?.messageSent.id)).not.toContain(secret.id);
    expect(refused.results).toEqual([]);
  });

  test('gives NOT_FOUND for a subscription to an unknown conversation', async ({ app: t, sockets }) => {
    const user = await signedInUser(t, { role: 'STARTUP' });
    const socket = await sockets.connect(t, user.tokens.accessToken);
    const refused = subscribe(socket.client, MESSAGE_SENT, { conversationId: '00000000-0000-4000-8000-000000000000' });
    expect((await withTimeout(refused.error, 5_000, 'the error message'))[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(socket.isOpen()).toBe(true);
  });

  test('runs queries and mutations over the socket too, and the sender gets their own message in inbox', async ({ app: t, sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const investorSocket = await sockets.connect(t, investor.tokens.accessToken);
    const startupSocket = await sockets.connect(t, startup.tokens.accessToken);
    const investorInbox = subscribe<{ inbox: MessageShape }>(investorSocket.client, INBOX);
    const startupFeed = subscribe<{ messageSent: MessageShape }>(startupSocket.client, MESSAGE_SENT, { conversationId });
    await whenAllLive(t, investor, conversationId, investorInbox, startupFeed);

    const sent = await wsRequest<{ sendMessage: MessageShape }>(investorSocket.client, SEND_MESSAGE, { conversationId, body: 'over the socket' });
    expect(sent.errors).toBeUndefined();
    const sentId = sent.data!.sendMessage.id;
    expect((await messageArrival(startupFeed, 'messageSent', sentId)).errors).toBeUndefined();
    expect((await messageArrival(investorInbox, 'inbox', sentId)).data?.inbox).toMatchObject({ id: sentId, conversation: { unreadCount: 0 } });

    const read = await wsRequest<{ markConversationRead: { unreadCount: number } }>(startupSocket.client, MARK_READ, { conversationId });
    expect(read.data?.markConversationRead.unreadCount).toBe(0);
  });

  test('applies validation and masking over the socket like over HTTP', async ({ app: t, sockets }) => {
    const { investor, conversationId } = await chatPair(t);
    const socket = await sockets.connect(t, investor.tokens.accessToken);
    const blank = await wsRequest(socket.client, SEND_MESSAGE, { conversationId, body: '   ' });
    expect(fieldErrors(blank)).toMatchObject({ body: expect.any(String) });
    const invalid = await wsRequest(socket.client, '{ nope }');
    expect(invalid.errors?.[0]?.message).toMatch(/nope/);
    expect(socket.isOpen()).toBe(true);
  });
});
