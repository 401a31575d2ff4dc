import { Client as UrqlClient, fetchExchange, gql, subscriptionExchange, type OperationResult } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { HISTORY_PAGE, MARK_READ, arrival, chatPair, sendMessage } from './helpers/chat.js';
import { signedInUser } from './helpers/factories.js';
import { eventually, whenLive } from './helpers/time.js';

let t: TestApp;
const cleanups: Array<() => unknown> = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await t?.stop();
});

/**
 * Graphcache as a chat front end configures it: history through the stock Relay helper, in
 * `outwards` mode so that pages taken with `before` go in front and pages taken with `after`
 * (catching up) behind: one chronological list. Connections, edges and pageInfo have no id.
 */
const chatCache = () =>
  cacheExchange({
    keys: { ConversationConnection: () => null, ConversationEdge: () => null, MessageConnection: () => null, MessageEdge: () => null, PageInfo: () => null },
    resolvers: { Conversation: { messages: relayPagination({ mergeMode: 'outwards' }) } },
  });

/**
 * The client set-up of a chat front end: urql with Graphcache over HTTP for queries and
 * mutations (or over the socket too, with `allOverSocket`), graphql-ws for subscriptions, the
 * access token in connectionParams so that it never sits in a URL.
 */
function chatClient(accessToken: string, { allOverSocket = false } = {}): { urql: UrqlClient; ws: WsClient } {
  const ws = createWsClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${accessToken}` }),
  });
  const urql = new UrqlClient({
    url: `${t.url}/graphql`,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${accessToken}` } }),
    exchanges: [
      chatCache(),
      subscriptionExchange({
        enableAllOperations: allOverSocket,
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
  cleanups.push(() => ws.dispose());
  return { urql, ws };
}

const Conversations = gql`
  query Conversations {
    conversations(first: 20) {
      edges { node { id unreadCount participants { id role } lastMessage { id body } } }
    }
  }
`;
const Messages = gql`
  query Messages($id: ID!) {
    conversation(id: $id) { id messages(first: 50) { edges { cursor node { id body sender { id } } } pageInfo { hasPreviousPage startCursor } } }
  }
`;
const History = gql(HISTORY_PAGE);
const StartConversation = gql`
  mutation StartConversation($userId: ID!) { startConversation(userId: $userId) { id } }
`;
const SendMessage = gql`
  mutation SendMessage($conversationId: ID!, $body: String!) { sendMessage(conversationId: $conversationId, body: $body) { id body createdAt } }
`;
const MarkRead = gql(MARK_READ);
const MessageSent = gql`
  subscription MessageSent($conversationId: ID!) { messageSent(conversationId: $conversationId) { id body sender { id } } }
`;
const Inbox = gql`
  subscription Inbox { inbox { id body sender { id } conversation { id unreadCount } } }
`;

interface ChatMessage {
  id: string;
  body: string;
  sender: { id: string };
  conversation?: { id: string; unreadCount: number };
}

/** Collects a subscription's results as a UI would render them. */
function live<T>(source: { subscribe(callback: (result: OperationResult<T>) => void): { unsubscribe(): void } }) {
  const received: OperationResult<T>[] = [];
  const { unsubscribe } = source.subscribe((result) => received.push(result));
  cleanups.push(unsubscribe);
  const waitFor = (count: number) => eventually(() => received.length >= count && received, `${count} subscription results`);
  return { received, waitFor };
}

describe('a chat front end on urql + graphql-ws', () => {
  it('lets an investor and a startup talk live the way a chat UI does', async () => {
    const investorUser = await signedInUser(t, { role: 'INVESTOR' });
    const startupUser = await signedInUser(t, { role: 'STARTUP' });
    const investorUi = chatClient(investorUser.tokens.accessToken);
    const startupUi = chatClient(startupUser.tokens.accessToken, { allOverSocket: true });

    // The startup's app shows an empty inbox and listens for new messages.
    const initial = await startupUi.urql.query(Conversations, {}).toPromise();
    expect(initial.error).toBeUndefined();
    expect(initial.data.conversations.edges).toEqual([]);
    const startupInbox = live<{ inbox: ChatMessage }>(startupUi.urql.subscription(Inbox, {}));

    // The investor opens a conversation from the startup's profile and watches it.
    const started = await investorUi.urql.mutation(StartConversation, { userId: startupUser.id }).toPromise();
    expect(started.error).toBeUndefined();
    const conversationId: string = started.data.startConversation.id;
    const investorThread = live<{ messageSent: ChatMessage }>(investorUi.urql.subscription(MessageSent, { conversationId }));
    // Probe messages until both subscriptions deliver; the startup has read them, and what follows leaves them out.
    const PROBE = 'probe';
    await whenLive(
      () => sendMessage(t, investorUser, conversationId, PROBE),
      () => startupInbox.received.length > 0 && investorThread.received.length > 0,
    );
    expect((await t.gql(MARK_READ, { conversationId }, { token: startupUser.tokens.accessToken })).errors).toBeUndefined();
    const notProbe = (body: string | undefined) => body !== PROBE;

    const hello = await investorUi.urql.mutation(SendMessage, { conversationId, body: 'Hi! We would love to hear about your seed round.' }).toPromise();
    expect(hello.error).toBeUndefined();

    // The startup's inbox lights up with an unread message…
    const incoming = await arrival(startupInbox.received, (result) => result.data?.inbox.id === hello.data.sendMessage.id, 'the message in the inbox');
    expect(incoming.error).toBeUndefined();
    expect(incoming.data?.inbox).toMatchObject({
      body: 'Hi! We would love to hear about your seed round.',
      sender: { id: investorUser.id },
      conversation: { id: conversationId, unreadCount: 1 },
    });

    // …it opens the thread (history over the socket), reads it and replies.
    const thread = await startupUi.urql.query(Messages, { id: conversationId }).toPromise();
    expect(thread.error).toBeUndefined();
    expect(thread.data.conversation.messages.edges.map((edge: { node: ChatMessage }) => edge.node.body).filter(notProbe)).toEqual([
      'Hi! We would love to hear about your seed round.',
    ]);
    const read = await startupUi.urql.mutation(MarkRead, { conversationId }).toPromise();
    expect(read.data.markConversationRead.unreadCount).toBe(0);
    const reply = await startupUi.urql.mutation(SendMessage, { conversationId, body: 'Happy to share our deck.' }).toPromise();
    expect(reply.error).toBeUndefined();

    // The investor sees both messages arrive live in the open thread.
    const threadEvents = await eventually(() => {
      const messages = investorThread.received.filter((result) => notProbe(result.data?.messageSent.body));
      return messages.length >= 2 && messages;
    }, 'both messages in the open thread');
    expect(threadEvents.map((result) => result.data?.messageSent.body)).toEqual([
      'Hi! We would love to hear about your seed round.',
      'Happy to share our deck.',
    ]);
    expect(threadEvents[1]!.data?.messageSent.sender.id).toBe(startupUser.id);

    // Reloading the investor's list shows the conversation with its last message and one unread.
    const list = await investorUi.urql.query(Conversations, {}, { requestPolicy: 'network-only' }).toPromise();
    expect(list.data.conversations.edges[0].node).toMatchObject({
      id: conversationId,
      unreadCount: 1,
      lastMessage: { body: 'Happy to share our deck.' },
      participants: [
        { id: investorUser.id, role: 'INVESTOR' },
        { id: startupUser.id, role: 'STARTUP' },
      ],
    });
  });

  it('surfaces a refused subscription as a CombinedError with the API code', async () => {
    const owner = await signedInUser(t, { role: 'INVESTOR' });
    const startup = await signedInUser(t, { role: 'STARTUP' });
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    const started = await chatClient(owner.tokens.accessToken).urql.mutation(StartConversation, { userId: startup.id }).toPromise();
    const outsiderUi = chatClient(outsider.tokens.accessToken);
    const spying = live<{ messageSent: ChatMessage }>(outsiderUi.urql.subscription(MessageSent, { conversationId: started.data.startConversation.id }));
    const [result] = await spying.waitFor(1);
    expect(result!.error?.graphQLErrors[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it("merges history pages into one chronological list with Graphcache's relayPagination(): paging back, then catching up", async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    for (let i = 0; i < 5; i++) await sendMessage(t, i % 2 ? startup : investor, conversationId, `m${i}`);
    const ui = chatClient(startup.tokens.accessToken);
    type Page = {
      conversation: {
        messages: { edges: { node: { body: string } }[]; pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string; endCursor: string } };
      };
    };
    const bodies = (result: OperationResult<Page>) => result.data!.conversation.messages.edges.map((edge) => edge.node.body);

    const newest = await ui.urql.query<Page>(History, { id: conversationId, last: 2 }).toPromise();
    expect(newest.error).toBeUndefined();
    expect(bodies(newest)).toEqual(['m3', 'm4']);
    const older = await ui.urql
      .query<Page>(History, { id: conversationId, last: 2, before: newest.data!.conversation.messages.pageInfo.startCursor })
      .toPromise();
    expect(bodies(older)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(older.data!.conversation.messages.pageInfo.hasPreviousPage).toBe(true);

    // Messages arrive while the app was away; it catches up from the newest message it holds.
    await sendMessage(t, investor, conversationId, 'm5');
    await sendMessage(t, startup, conversationId, 'm6');
    const caughtUp = await ui.urql
      .query<Page>(History, { id: conversationId, first: 20, after: newest.data!.conversation.messages.pageInfo.endCursor })
      .toPromise();
    expect(bodies(caughtUp)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(caughtUp.data!.conversation.messages.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const oldest = await ui.urql
      .query<Page>(History, { id: conversationId, last: 2, before: older.data!.conversation.messages.pageInfo.startCursor })
      .toPromise();
    expect(bodies(oldest)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(oldest.data!.conversation.messages.pageInfo.hasPreviousPage).toBe(false);
  });
});
