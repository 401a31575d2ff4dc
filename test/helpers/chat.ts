import type { TestApp } from './app.js';
import { signedInUser, type RegisteredUser, type Tokens } from './factories.js';

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
  if (!result.data) throw new Error(`startConversation failed: ${JSON.stringify(result.errors)}`);
  return result.data.startConversation.id;
}

/** Sends over HTTP; fails the test on any error. */
export async function sendMessage(t: TestApp, sender: SignedIn, conversationId: string, body: string): Promise<MessageShape> {
  const result = await t.gql<{ sendMessage: MessageShape }>(SEND_MESSAGE, { conversationId, body }, { token: sender.tokens.accessToken });
  if (!result.data) throw new Error(`sendMessage failed: ${JSON.stringify(result.errors)}`);
  return result.data.sendMessage;
}
