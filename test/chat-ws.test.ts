import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { INBOX, MESSAGE_SENT, MARK_READ, SEND_MESSAGE, chatPair, sendMessage, type MessageShape } from './helpers/chat.js';
import { signedInUser } from './helpers/factories.js';
import { connectedWs, subscribe, within, wsRequest, sleep, type WsConnection } from './helpers/ws.js';

let t: TestApp;
const open: WsConnection[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await Promise.all(open.map((connection) => connection.dispose()));
  await t?.stop();
});

const connect = async (token: string) => {
  const connection = await connectedWs(t.wsUrl, { token });
  open.push(connection);
  return connection;
};

describe('chat over graphql-ws', () => {
  it('delivers a message sent over HTTP to the other participant through messageSent and inbox', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await connect(startup.tokens.accessToken);
    const conversationFeed = subscribe<{ messageSent: MessageShape }>(socket.client, MESSAGE_SENT, { conversationId });
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, INBOX);
    await sleep(150); // let both subscriptions reach the server before publishing

    const sent = await sendMessage(t, investor, conversationId, '  Hello from the fund  ');
    expect(sent.body).toBe('Hello from the fund');

    const viaConversation = await conversationFeed.nth(0);
    expect(viaConversation.errors).toBeUndefined();
    expect(viaConversation.data?.messageSent).toMatchObject({
      id: sent.id,
      body: 'Hello from the fund',
      sender: { id: investor.id, role: 'INVESTOR' },
      conversation: { id: conversationId },
    });
    const viaInbox = await inbox.nth(0);
    expect(viaInbox.data?.inbox).toMatchObject({ id: sent.id, conversation: { id: conversationId, unreadCount: 1, lastMessage: { id: sent.id } } });
  });

  it('resolves every event afresh: unreadCount and lastMessage follow each new message', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await connect(startup.tokens.accessToken);
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, INBOX);
    await sleep(150);
    const first = await sendMessage(t, investor, conversationId, 'one');
    expect((await inbox.nth(0)).data?.inbox.conversation).toMatchObject({ unreadCount: 1, lastMessage: { id: first.id } });
    const second = await sendMessage(t, investor, conversationId, 'two');
    expect((await inbox.nth(1)).data?.inbox.conversation).toMatchObject({ unreadCount: 2, lastMessage: { id: second.id } });
  });

  it('refuses a subscription to a conversation the viewer is not in with an error message, and keeps the socket open', async () => {
    const { investor, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    const socket = await connect(outsider.tokens.accessToken);

    const refused = subscribe(socket.client, MESSAGE_SENT, { conversationId });
    const errors = await within(refused.error, 5_000, 'the error message');
    expect(errors[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.results).toEqual([]);

    // The same socket still works: another operation on it succeeds.
    expect(socket.isOpen()).toBe(true);
    const me = await wsRequest<{ me: { id: string } }>(socket.client, '{ me { id } }');
    expect(me.data?.me.id).toBe(outsider.id);
    const own = await chatPair(t);
    const ownSocket = await connect(own.startup.tokens.accessToken);
    const feed = subscribe<{ messageSent: MessageShape }>(ownSocket.client, MESSAGE_SENT, { conversationId: own.conversationId });
    await sleep(150);
    await sendMessage(t, own.investor, own.conversationId, 'still here');
    expect((await feed.nth(0)).data?.messageSent.body).toBe('still here');
    await sendMessage(t, investor, conversationId, 'nobody else hears this');
  });

  it('gives NOT_FOUND for a subscription to an unknown conversation', async () => {
    const user = await signedInUser(t, { role: 'STARTUP' });
    const socket = await connect(user.tokens.accessToken);
    const refused = subscribe(socket.client, MESSAGE_SENT, { conversationId: '00000000-0000-4000-8000-000000000000' });
    expect((await within(refused.error, 5_000, 'the error message'))[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(socket.isOpen()).toBe(true);
  });

  it('runs queries and mutations over the socket too, and the sender gets their own message in inbox', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const investorSocket = await connect(investor.tokens.accessToken);
    const startupSocket = await connect(startup.tokens.accessToken);
    const investorInbox = subscribe<{ inbox: MessageShape }>(investorSocket.client, INBOX);
    const startupFeed = subscribe<{ messageSent: MessageShape }>(startupSocket.client, MESSAGE_SENT, { conversationId });
    await sleep(150);

    const sent = await wsRequest<{ sendMessage: MessageShape }>(investorSocket.client, SEND_MESSAGE, { conversationId, body: 'over the socket' });
    expect(sent.errors).toBeUndefined();
    expect((await startupFeed.nth(0)).data?.messageSent.id).toBe(sent.data?.sendMessage.id);
    expect((await investorInbox.nth(0)).data?.inbox).toMatchObject({ id: sent.data?.sendMessage.id, conversation: { unreadCount: 0 } });

    const read = await wsRequest<{ markConversationRead: { unreadCount: number } }>(startupSocket.client, MARK_READ, { conversationId });
    expect(read.data?.markConversationRead.unreadCount).toBe(0);
  });

  it('applies validation and masking over the socket like over HTTP', async () => {
    const { investor, conversationId } = await chatPair(t);
    const socket = await connect(investor.tokens.accessToken);
    const blank = await wsRequest(socket.client, SEND_MESSAGE, { conversationId, body: '   ' });
    expect(blank.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { body: expect.any(String) } });
    const invalid = await wsRequest(socket.client, '{ nope }');
    expect(invalid.errors?.[0]?.message).toMatch(/nope/);
    expect(socket.isOpen()).toBe(true);
  });
});
