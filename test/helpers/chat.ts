import type { TestApp } from './app.js';
import { signedInUser, type RegisteredUser, type Tokens } from './factories.js';
import { eventually } from './time.js';
import { dataOf } from './graphql.js';

export type SignedIn = RegisteredUser & { tokens: Tokens };

export const START_CONVERSATION = /* GraphQL */ `
  mutation Start($userId: ID!) {
    startConversation(userId: $userId) { id createdAt participants { id role } }
  }
`;

export const SEND_MESSAGE = /* GraphQL */ `
  mutation Send($conversationId: ID!, $body: String!) {
    sendMessage(conversationId: $conversationId, body: $body) { id body createdAt sender { id } conversation { id } }
  }
`;

export const MARK_READ = /* GraphQL */ `
  mutation MarkRead($conversationId: ID!) { markConversationRead(conversationId: $conversationId) { id unreadCount } }
`;

export const MESSAGE_SENT = /* GraphQL */ `
  subscription MessageSent($conversationId: ID!) {
    messageSent(conversationId: $conversationId) { id body createdAt sender { id role } conversation { id } }
  }
`;

export const INBOX = /* GraphQL */ `
  subscription Inbox { inbox { id body sender { id } conversation { id unreadCount lastMessage { id } } } }
`;

export const HISTORY = /* GraphQL */ `
  query History($id: ID!, $first: Int, $before: String) {
    conversation(id: $id) {
      id
      messages(first: $first, before: $before) {
        edges { cursor node { id body createdAt } }
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      }
    }
  }
`;

export interface MessageShape {
  id: string;
  body: string;
  createdAt: string;
  sender: { id: string; role?: string };
  conversation: { id: string; unreadCount?: number; lastMessage?: { id: string } | null };
}

/** An investor and a startup, both signed in, and the conversation the investor started. */
export async function chatPair(t: TestApp): Promise<{ investor: SignedIn; startup: SignedIn; conversationId: string }> {
  const [investor, startup] = await Promise.all([signedInUser(t, { role: 'INVESTOR' }), signedInUser(t, { role: 'STARTUP' })]);
  const conversationId = await startConversation(t, investor, startup.id);
  return { investor, startup, conversationId };
}

export async function startConversation(t: TestApp, investor: SignedIn, startupUserId: string): Promise<string> {
  const result = await t.gql<{ startConversation: { id: string } }>(START_CONVERSATION, { userId: startupUserId }, { token: investor.tokens.accessToken });
  return dataOf(result, 'startConversation').startConversation.id;
}

/** Sends over HTTP; fails the test on any error. */
export async function sendMessage(t: TestApp, sender: SignedIn, conversationId: string, body: string): Promise<MessageShape> {
  const result = await t.gql<{ sendMessage: MessageShape }>(SEND_MESSAGE, { conversationId, body }, { token: sender.tokens.accessToken });
  return dataOf(result, 'sendMessage').sendMessage;
}

/** A message with the selection chat clients usually ask for (no query to deliver it). */
export const MESSAGE_FIELDS = /* GraphQL */ `id body createdAt sender { id } conversation { id }`;

export const HISTORY_PAGE = /* GraphQL */ `
  query HistoryPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    conversation(id: $id) {
      id
      messages(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id body createdAt cursor editedAt deletedAt } }
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      }
    }
  }
`;

export interface HistoryNode {
  id: string;
  body: string;
  createdAt: string;
  cursor: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface HistoryConnection {
  edges: { cursor: string; node: HistoryNode }[];
  pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** One page of history over HTTP; fails the test on any error. */
export async function historyPage(
  t: TestApp,
  user: SignedIn,
  id: string,
  args: { first?: number; after?: string | null; last?: number; before?: string | null } = {},
): Promise<HistoryConnection> {
  const result = await t.gql<{ conversation: { messages: HistoryConnection } }>(HISTORY_PAGE, { id, ...args }, { token: user.tokens.accessToken });
  return dataOf(result, 'history').conversation.messages;
}

/** Waits until some result so far satisfies `match`, and returns it. */
export const arrival = <T>(results: readonly T[], match: (result: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> =>
  eventually(() => results.find(match) as T | undefined, what, timeoutMs) as Promise<T>;

/** Waits until `condition` holds. */
export const until = (condition: () => boolean, what: string, timeoutMs = 5_000): Promise<unknown> => eventually(condition, what, timeoutMs);

export const CONVERSATION_EVENTS = /* GraphQL */ `
  subscription Events($id: ID!) {
    conversationEvents(conversationId: $id) {
      __typename
      ... on MessageSentEvent { message { id body createdAt editedAt deletedAt cursor sender { id } conversation { id } } }
      ... on MessageEditedEvent { message { id body editedAt deletedAt } }
      ... on MessageDeletedEvent { message { id body editedAt deletedAt } }
      ... on TypingEvent { conversationId user { id } typing }
      ... on ReadEvent { conversationId user { id } lastReadAt }
    }
  }
`;

export interface ConversationEvent {
  __typename: 'MessageSentEvent' | 'MessageEditedEvent' | 'MessageDeletedEvent' | 'TypingEvent' | 'ReadEvent';
  message?: { id: string; body: string; createdAt?: string; editedAt: string | null; deletedAt: string | null; sender?: { id: string } };
  conversationId?: string;
  user?: { id: string };
  typing?: boolean;
  lastReadAt?: string;
}

export const SET_TYPING = /* GraphQL */ `
  mutation SetTyping($conversationId: ID!, $typing: Boolean!) { setTyping(conversationId: $conversationId, typing: $typing) }
`;
export const EDIT_MESSAGE = /* GraphQL */ `
  mutation Edit($id: ID!, $body: String!) { editMessage(id: $id, body: $body) { id body createdAt editedAt deletedAt cursor } }
`;
export const DELETE_MESSAGE = /* GraphQL */ `
  mutation Delete($id: ID!) { deleteMessage(id: $id) { id body createdAt editedAt deletedAt cursor } }
`;

/** The events of a subscription result list, in arrival order (errors fail the caller's expectations). */
export const eventsOf = (results: readonly { data?: { conversationEvents: ConversationEvent } | null }[]): ConversationEvent[] =>
  results.flatMap((result) => (result.data ? [result.data.conversationEvents] : []));

/** Typing events in arrival order, as `true`/`false`. */
export const typingOf = (results: readonly { data?: { conversationEvents: ConversationEvent } | null }[]): boolean[] =>
  eventsOf(results).flatMap((event) => (event.__typename === 'TypingEvent' ? [event.typing!] : []));
