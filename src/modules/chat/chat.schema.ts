import type { InboxEventPayload, MessageEventPayload } from '../../events/chat-events.js';
import { builder } from '../../graphql/builder.js';
import { signedInViewer } from '../../graphql/context.js';
import { idOrReference } from '../../graphql/selection.js';
import { UserRef } from '../user/user.schema.js';
import type { UserEntity } from '../user/user.entity.js';
import {
  MESSAGE_MAX_LENGTH,
  deleteMessage,
  editMessage,
  findConversation,
  listConversationMessages,
  listConversations,
  loadLastMessages,
  loadPeerReadMarks,
  loadUnreadCounts,
  markConversationRead,
  participantIds,
  publishedMessage,
  sendMessage,
  startConversation,
  subscribeToInbox,
  subscribeToMessages,
} from './chat.service.js';
import { Conversation, type ConversationEntity } from './conversation.entity.js';
import { messageCursor } from './message-history.js';
import type { MessageView } from './message-view.js';

export const MessageRef = builder.objectRef<MessageView>('Message');

export const ConversationRef = builder.loadableObject('Conversation', {
  description: 'An investor and a startup talking; only the two of them can see it.',
  // Reached from a message the viewer can already see, so the viewer is a participant.
  load: (ids: string[], context) => context.em.find(Conversation, { id: { $in: ids } }),
  sort: (conversation: ConversationEntity) => conversation.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    participants: t.field({
      type: [UserRef],
      description: 'The investor, then the startup.',
      resolve: (conversation) => participantIds(conversation),
    }),
    lastMessage: t.loadable({
      type: MessageRef,
      nullable: true,
      description: 'The newest message; null before the first one.',
      load: (ids: string[], context) => loadLastMessages(context.em, ids),
      sort: (message) => message.conversationId,
      resolve: (conversation) => conversation.id,
    }),
    unreadCount: t.loadable({
      type: 'Int',
      description: 'Messages from the other participant that the viewer has not read (see markConversationRead).',
      load: async (ids: string[], context) => loadUnreadCounts(context.em, await signedInViewer(context), ids),
      resolve: (conversation) => conversation.id,
    }),
    peerLastReadAt: t.loadable({
      type: 'DateTime',
      nullable: true,
      description:
        "The other participant's read mark: they have seen every message with createdAt up to it. Null until they first read or write. Live changes arrive as ReadEvent in conversationEvents.",
      load: async (ids: string[], context) => loadPeerReadMarks(context.em, await signedInViewer(context), ids),
      resolve: (conversation) => conversation.id,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastActivityAt: t.expose('lastActivityAt', {
      type: 'DateTime',
      description: 'When the newest message was sent, or when the conversation started; conversations are listed by it.',
    }),
    messages: t.loadable({
      type: MessageConnection,
      // One loader per field of the document (its arguments are the same for every parent).
      byPath: true,
      description:
        'History as a Relay connection, edges oldest to newest on every page. No arguments: the newest 20 (as `last: 20`). Page back with `last` + `before: pageInfo.startCursor` while hasPreviousPage; catch up after a reconnect with `first` + `after: <cursor of the newest message held>` while hasNextPage.',
      args: {
        first: t.arg.int({ description: 'The oldest messages after `after` (or from the start): at most 100. Not with `last`.' }),
        after: t.arg.string({ description: 'Only messages newer than this cursor (a Message.cursor or an edge cursor of this conversation).' }),
        last: t.arg.int({ description: 'The newest messages before `before` (or of all): 20 when neither first nor last is given, at most 100.' }),
        before: t.arg.string({ description: 'Only messages older than this cursor (a Message.cursor or an edge cursor of this conversation).' }),
      },
      load: async (conversations: ConversationEntity[], context, args) =>
        listConversationMessages(context.em, await signedInViewer(context), conversations, args),
      resolve: (conversation) => conversation,
    }),
  }),
});

MessageRef.implement({
  description: 'A chat message, stored before anyone is told about it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    conversation: t.field({
      type: ConversationRef,
      resolve: (message, _args, _context, info) => idOrReference<ConversationEntity>(message.conversationId, info),
    }),
    sender: t.field({ type: UserRef, resolve: (message, _args, _context, info) => idOrReference<UserEntity>(message.senderId, info) }),
    body: t.exposeString('body', { description: `1 to ${MESSAGE_MAX_LENGTH} characters, trimmed; "" once deleted.` }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true, description: 'When the sender last edited it; null if never edited.' }),
    deletedAt: t.expose('deletedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the sender deleted it; null unless deleted. A deleted message stays in history as a tombstone with body "".',
    }),
    cursor: t.string({
      description: "This message's cursor in Conversation.messages: pass the newest held message's as `after` to catch up after a reconnect.",
      resolve: (message) => messageCursor(message),
    }),
  }),
});

// Non-null edges and nodes: Apollo and urql clients then need no null checks per row.
const ConversationConnection = builder.connectionObject(
  { type: ConversationRef, name: 'ConversationConnection', edgesNullable: { list: false, items: false }, nodeNullable: false },
  { name: 'ConversationEdge' },
);

const MessageConnection = builder.connectionObject(
  { type: MessageRef, name: 'MessageConnection', edgesNullable: { list: false, items: false }, nodeNullable: false },
  { name: 'MessageEdge' },
);

builder.queryFields((t) => ({
  conversations: t.field({
    type: ConversationConnection,
    authScopes: { loggedIn: true },
    description: "The viewer's conversations, most recent activity first.",
    args: {
      first: t.arg.int({ description: 'Page size: 20 when absent, at most 100.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
    },
    resolve: async (_root, args, context) => listConversations(context.em, await signedInViewer(context), args),
  }),
  conversation: t.field({
    type: ConversationRef,
    nullable: true,
    authScopes: { loggedIn: true },
    description: "A conversation of the viewer's; null when there is none with this id, FORBIDDEN when it is someone else's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => findConversation(context.em, await signedInViewer(context), String(id)),
  }),
}));

builder.mutationFields((t) => ({
  startConversation: t.field({
    type: ConversationRef,
    authScopes: { loggedIn: true },
    description: 'Opens the conversation between the viewing investor and a startup user; the same pair always gets the same one.',
    args: { userId: t.arg.id({ required: true, description: "The startup user's id (User.id, not the profile's)." }) },
    resolve: async (_root, { userId }, context) => startConversation(context.em, await signedInViewer(context), String(userId)),
  }),
  sendMessage: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: `Stores a message (1 to ${MESSAGE_MAX_LENGTH} characters after trimming), then delivers it to subscribers.`,
    args: { conversationId: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
    resolve: async (_root, { conversationId, body }, context) =>
      sendMessage(context.em, context.services, await signedInViewer(context), String(conversationId), body),
  }),
  markConversationRead: t.field({
    type: ConversationRef,
    authScopes: { loggedIn: true },
    description:
      "Moves the viewer's read mark to the newest message (its createdAt); the conversation's unreadCount becomes 0. The other participant sees the mark as peerLastReadAt, and a ReadEvent when it moved.",
    args: { conversationId: t.arg.id({ required: true }) },
    resolve: async (_root, { conversationId }, context) =>
      markConversationRead(context.em, context.services.pubsub, await signedInViewer(context), String(conversationId)),
  }),
  editMessage: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: `Changes the body of one of the viewer's own messages (1 to ${MESSAGE_MAX_LENGTH} characters after trimming) and sets editedAt. Someone else's or a deleted message: FORBIDDEN.`,
    args: {
      id: t.arg.id({ required: true, description: 'The message.' }),
      body: t.arg.string({ required: true, description: `The new body: 1 to ${MESSAGE_MAX_LENGTH} characters after trimming.` }),
    },
    resolve: async (_root, { id, body }, context) => editMessage(context.em, context.services.pubsub, await signedInViewer(context), String(id), body),
  }),
  deleteMessage: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description:
      'Deletes one of the viewer\'s own messages: it stays in history as a tombstone (body "", deletedAt set) and no longer counts as unread. Deleting again returns the same tombstone.',
    args: { id: t.arg.id({ required: true, description: 'The message.' }) },
    resolve: async (_root, { id }, context) => deleteMessage(context.em, context.services.pubsub, await signedInViewer(context), String(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  messageSent: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: 'Every new message of a conversation the viewer takes part in.',
    args: { conversationId: t.arg.id({ required: true }) },
    subscribe: async (_root, { conversationId }, context) =>
      subscribeToMessages(context.em, context.services.pubsub, await signedInViewer(context), String(conversationId)),
    resolve: (event: MessageEventPayload) => publishedMessage(event),
  }),
  inbox: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: "Every new message in any of the viewer's conversations, the viewer's own included (other devices stay in sync).",
    subscribe: async (_root, _args, context) => subscribeToInbox(context.services.pubsub, await signedInViewer(context)),
    resolve: (event: InboxEventPayload) => publishedMessage(event),
  }),
}));
