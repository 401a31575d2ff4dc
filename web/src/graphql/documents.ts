/**
 * Every operation the client runs, next to the shape of its result. Operations that use
 * fields added in API.md revision 2 for chat extras (cursors, edits, read marks, typing,
 * presence) are kept apart from the core ones, so an older server degrades those extras only.
 */
import { gql } from '@urql/core';

export type Role = 'STARTUP' | 'INVESTOR';

export interface Industry {
  id: string;
  name: string;
}
export interface Location {
  id: string;
  country: string;
  city: string | null;
}

export interface UserSummary {
  id: string;
  role: Role;
  firstName: string | null;
  lastName: string | null;
  startupProfile: { id: string; companyName: string } | null;
  investorProfile: { id: string; companyName: string } | null;
}

export interface Viewer extends UserSummary {
  email: string | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
}

export interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: Viewer;
}

const USER_SUMMARY = gql`
  fragment UserSummary on User {
    id
    role
    firstName
    lastName
    startupProfile { id companyName }
    investorProfile { id companyName }
  }
`;

// ─── Accounts ─────────────────────────────────────────────────────────────────────────────

export const ME = gql`
  query Me { me { ...UserSummary email } }
  ${USER_SUMMARY}
`;
export interface MeResult {
  me: Viewer | null;
}

export const REFERENCE_DATA = gql`
  query ReferenceData { industries { id name } locations { id country city } }
`;
export interface ReferenceDataResult {
  industries: Industry[];
  locations: Location[];
}

export const REGISTER = gql`
  mutation Register($input: RegisterInput!) { register(input: $input) { ok message } }
`;
export interface RegisterInput {
  email: string;
  password: string;
  role: Role;
  companyName: string;
  website: string;
  industryId?: string | null;
  locationId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

export const ACTIVATE = gql`
  mutation Activate($token: String!) { activate(token: $token) { id isActive } }
`;

export const RESEND_ACTIVATION = gql`
  mutation ResendActivation($email: String!) { resendActivation(email: $email) { ok message } }
`;

export const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
      user { ...UserSummary email }
    }
  }
  ${USER_SUMMARY}
`;
export interface LoginResult {
  login: AuthPayload;
}

export const LOGOUT = gql`
  mutation Logout($refreshToken: String!) { logout(refreshToken: $refreshToken) { ok } }
`;

export const LOGOUT_ALL = gql`
  mutation LogoutAll { logoutAll { ok } }
`;

export interface Session {
  id: string;
  current: boolean;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
}
export const SESSIONS = gql`
  query Sessions { sessions { id current createdAt lastUsedAt userAgent } }
`;
export interface SessionsResult {
  sessions: Session[];
}

export const REVOKE_SESSION = gql`
  mutation RevokeSession($id: ID!) { revokeSession(id: $id) { ok } }
`;

// ─── Browse ───────────────────────────────────────────────────────────────────────────────

export interface StartupCard {
  id: string;
  companyName: string;
  website: string;
  description: string | null;
  industry: Industry | null;
  location: Location | null;
  owner: UserSummary;
}
export type InvestorCard = Omit<StartupCard, 'industry'>;

export const STARTUPS = gql`
  query Startups($first: Int!, $after: String, $filter: StartupFilter) {
    startups(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id companyName website description industry { id name } location { id country city } owner { ...UserSummary } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
  ${USER_SUMMARY}
`;
export interface StartupsResult {
  startups: Connection<StartupCard>;
}

export const INVESTORS = gql`
  query Investors($first: Int!, $after: String, $filter: InvestorFilter) {
    investors(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id companyName website description location { id country city } owner { ...UserSummary } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
  ${USER_SUMMARY}
`;
export interface InvestorsResult {
  investors: Connection<InvestorCard>;
}

// ─── Chat (core) ──────────────────────────────────────────────────────────────────────────

export interface LastMessage {
  id: string;
  body: string;
  createdAt: string;
  sender: { id: string };
}

export interface ConversationSummary {
  id: string;
  unreadCount: number;
  createdAt: string;
  lastMessage: LastMessage | null;
  participants: UserSummary[];
}

export const CONVERSATIONS = gql`
  query Conversations($first: Int!, $after: String) {
    conversations(first: $first, after: $after) {
      edges { cursor node { id unreadCount createdAt lastMessage { id body createdAt sender { id } } participants { ...UserSummary } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
  ${USER_SUMMARY}
`;
export interface ConversationsResult {
  conversations: Connection<ConversationSummary>;
}

export const START_CONVERSATION = gql`
  mutation StartConversation($userId: ID!) { startConversation(userId: $userId) { id } }
`;

export interface LiveMessage {
  id: string;
  body: string;
  createdAt: string;
  sender: { id: string };
  conversation: { id: string; unreadCount: number; lastMessage: { id: string; body: string; createdAt: string } | null };
}

export const SEND_MESSAGE = gql`
  mutation SendMessage($conversationId: ID!, $body: String!) {
    sendMessage(conversationId: $conversationId, body: $body) {
      id body createdAt sender { id } conversation { id unreadCount lastMessage { id body createdAt } }
    }
  }
`;
export interface SendMessageResult {
  sendMessage: LiveMessage;
}

export const MARK_READ = gql`
  mutation MarkRead($conversationId: ID!) { markConversationRead(conversationId: $conversationId) { id unreadCount } }
`;

/** Every new message of every conversation of the viewer, the viewer's own included. */
export const INBOX = gql`
  subscription Inbox {
    inbox { id body createdAt sender { id } conversation { id unreadCount lastMessage { id body createdAt } } }
  }
`;
export interface InboxResult {
  inbox: LiveMessage;
}

// ─── Chat (revision 2: Relay history, edits, read marks, typing, presence) ───────────────

export interface HistoryMessage {
  id: string;
  body: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  sender: { id: string };
}

/**
 * One document for every page of history, so Graphcache's relayPagination() merges them into
 * one chronological list: `last` (+ `before`) pages back, `first` + `after` catches up.
 */
export const HISTORY = gql`
  query History($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    conversation(id: $id) {
      id
      messages(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id body createdAt editedAt deletedAt sender { id } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;
export interface HistoryResult {
  conversation: { id: string; messages: Connection<HistoryMessage> } | null;
}

export const READ_STATE = gql`
  query ReadState($id: ID!) { conversation(id: $id) { id peerLastReadAt } }
`;
export interface ReadStateResult {
  conversation: { id: string; peerLastReadAt: string | null } | null;
}

export const PRESENCE_STATE = gql`
  query PresenceState($id: ID!) { conversation(id: $id) { id participants { id online lastSeenAt } } }
`;
export interface PresenceStateResult {
  conversation: { id: string; participants: Array<{ id: string; online: boolean | null; lastSeenAt: string | null }> } | null;
}

export const EDIT_MESSAGE = gql`
  mutation EditMessage($id: ID!, $body: String!) { editMessage(id: $id, body: $body) { id body editedAt deletedAt } }
`;

export const DELETE_MESSAGE = gql`
  mutation DeleteMessage($id: ID!) { deleteMessage(id: $id) { id body editedAt deletedAt } }
`;

export const SET_TYPING = gql`
  mutation SetTyping($conversationId: ID!, $typing: Boolean!) { setTyping(conversationId: $conversationId, typing: $typing) }
`;

export const CONVERSATION_EVENTS = gql`
  subscription ConversationEvents($conversationId: ID!) {
    conversationEvents(conversationId: $conversationId) {
      __typename
      ... on MessageSentEvent { message { id body createdAt editedAt deletedAt sender { id } } }
      ... on MessageEditedEvent { message { id body createdAt editedAt deletedAt sender { id } } }
      ... on MessageDeletedEvent { message { id body createdAt editedAt deletedAt sender { id } } }
      ... on TypingEvent { conversationId typing user { id } }
      ... on ReadEvent { conversationId lastReadAt user { id } }
    }
  }
`;
export type ConversationEvent =
  | { __typename: 'MessageSentEvent' | 'MessageEditedEvent' | 'MessageDeletedEvent'; message: HistoryMessage }
  | { __typename: 'TypingEvent'; conversationId: string; typing: boolean; user: { id: string } }
  | { __typename: 'ReadEvent'; conversationId: string; lastReadAt: string; user: { id: string } };
export interface ConversationEventsResult {
  conversationEvents: ConversationEvent;
}

export const PRESENCE = gql`
  subscription Presence { presence { online lastSeenAt user { id online lastSeenAt } } }
`;

export const RENEW_CONNECTION = /* GraphQL */ `
  mutation RenewConnection($accessToken: String!) { renewConnection(accessToken: $accessToken) }
`;
