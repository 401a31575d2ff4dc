import { builder } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import { unauthenticated } from '../../graphql/errors.js';
import type { ChatMessageEvent } from '../../graphql/pubsub.js';
import { UserRef } from '../user/user.schema.js';
import type { UserEntity } from '../user/user.entity.js';
import {
  MESSAGE_MAX_LENGTH,
  findConversation,
  listConversations,
  listMessagePages,
  loadLastMessages,
  loadPublishedMessage,
  loadUnreadCounts,
  markConversationRead,
  participantIds,
  sendMessage,
  startConversation,
  subscribeToConversation,
  subscribeToInbox,
} from './chat.service.js';
import { Conversation, type ConversationEntity } from './conversation.entity.js';
import type { MessageEntity } from './message.entity.js';

/** The signed-in user; the `loggedIn` scope has already refused anonymous callers. */
const viewerOf = (context: Context): UserEntity => {
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
};

export const MessageRef = builder.objectRef<MessageEntity>('Message');

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
      sort: (message) => message.conversation.id,
      resolve: (conversation) => conversation.id,
    }),
    unreadCount: t.loadable({
      type: 'Int',
      description: "Messages from the other participant that the viewer has not read (see markConversationRead).",
      load: (ids: string[], context) => loadUnreadCounts(context.em, viewerOf(context), ids),
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
        'History, newest first. For older messages pass pageInfo.startCursor (the oldest message of the page) as `before` while pageInfo.hasPreviousPage is true.',
      args: {
        first: t.arg.int({ description: 'Page size: 20 when absent, at most 100.' }),
        before: t.arg.string({ description: 'Only messages older than this cursor.' }),
      },
      load: (conversations: ConversationEntity[], context, args) => listMessagePages(context.em, viewerOf(context), conversations, args),
      resolve: (conversation) => conversation,
    }),
  }),
});

MessageRef.implement({
  description: 'A chat message, stored before anyone is told about it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    conversation: t.field({ type: ConversationRef, resolve: (message) => message.conversation.id }),
    sender: t.field({ type: UserRef, resolve: (message) => message.sender.id }),
    body: t.exposeString('body', { description: `1 to ${MESSAGE_MAX_LENGTH} characters, trimmed.` }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
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
    resolve: (_root, args, context) => listConversations(context.em, viewerOf(context), args),
  }),
  conversation: t.field({
    type: ConversationRef,
    nullable: true,
    authScopes: { loggedIn: true },
    description: "A conversation of the viewer's; null when there is none with this id, FORBIDDEN when it is someone else's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => findConversation(context.em, viewerOf(context), String(id)),
  }),
}));

builder.mutationFields((t) => ({
  startConversation: t.field({
    type: ConversationRef,
    authScopes: { loggedIn: true },
    description: 'Opens the conversation between the viewing investor and a startup user; the same pair always gets the same one.',
    args: { userId: t.arg.id({ required: true, description: "The startup user's id (User.id, not the profile's)." }) },
    resolve: (_root, { userId }, context) => startConversation(context.em, viewerOf(context), String(userId)),
  }),
  sendMessage: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: `Stores a message (1 to ${MESSAGE_MAX_LENGTH} characters after trimming), then delivers it to subscribers.`,
    args: { conversationId: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
    resolve: (_root, { conversationId, body }, context) =>
      sendMessage(context.em, context.services.pubsub, viewerOf(context), String(conversationId), body),
  }),
  markConversationRead: t.field({
    type: ConversationRef,
    authScopes: { loggedIn: true },
    description: "Marks every message so far as read by the viewer; the conversation's unreadCount becomes 0.",
    args: { conversationId: t.arg.id({ required: true }) },
    resolve: (_root, { conversationId }, context) => markConversationRead(context.em, viewerOf(context), String(conversationId)),
  }),
}));

// Chat owns the only subscriptions so far, so it declares the root type.
builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  messageSent: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: 'Every new message of a conversation the viewer takes part in.',
    args: { conversationId: t.arg.id({ required: true }) },
    subscribe: (_root, { conversationId }, context) =>
      subscribeToConversation(context.em, context.services.pubsub, viewerOf(context), String(conversationId)),
    resolve: (event: ChatMessageEvent, _args, context) => loadPublishedMessage(context.em, event),
  }),
  inbox: t.field({
    type: MessageRef,
    authScopes: { loggedIn: true },
    description: "Every new message in any of the viewer's conversations, the viewer's own included (other devices stay in sync).",
    subscribe: (_root, _args, context) => subscribeToInbox(context.services.pubsub, viewerOf(context)),
    resolve: (event: ChatMessageEvent, _args, context) => loadPublishedMessage(context.em, event),
  }),
}));
