import type { InboxEventPayload, MessageEventPayload } from '../../events/chat-events.js';
import { builder } from '../../graphql/builder.js';
import type { Context, SignedInContext } from '../../graphql/context.js';
import { idOrReference } from '../../graphql/selection.js';
import { unauthenticated } from '../../shared/errors.js';
import { UserRef } from '../user/user.schema.js';
import type { UserEntity } from '../user/user.entity.js';
import { MESSAGE_MAX_LENGTH, participantIds, publishedMessage } from './chat.service.js';
import { Conversation, type ConversationEntity } from './conversation.entity.js';
import { messageCursor } from './message-history.js';
import type { MessageView } from './message-view.js';

export const MessageRef = builder.objectRef<MessageView>('Message');

/**
 * The context of a loader behind the `loggedIn` scope. Pothos types a loader's context as the
 * plain one, but the loader runs from the field's resolver, after the scope recorded the viewer.
 */
function signedIn(context: Context): SignedInContext {
  if (!('viewer' in context)) throw unauthenticated();
  return context as SignedInContext;
}

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
      load: (ids: string[], context) => context.services.chat.lastMessages(context.em, ids),
      sort: (message) => message.conversationId,
      resolve: (conversation) => conversation.id,
    }),
    unreadCount: t.withAuth({ loggedIn: true }).loadable({
      type: 'Int',
      description: 'Messages from the other participant that the viewer has not read (see markConversationRead).',
      load: (ids: string[], context) => context.services.chat.unreadCounts(context.em, signedIn(context).viewer, ids),
      resolve: (conversation) => conversation.id,
    }),
    peerLastReadAt: t.withAuth({ loggedIn: true }).loadable({
      type: 'DateTime',
      nullable: true,
      description:
        "The other participant's read mark: they have seen every message with createdAt up to it. Null until they first read or write. Live changes arrive as ReadEvent in conversationEvents.",
      load: (ids: string[], context) => context.services.chat.peerReadMarks(context.em, signedIn(context).viewer, ids),
      resolve: (conversation) => conversation.id,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastActivityAt: t.expose('lastActivityAt', {
      type: 'DateTime',
      description: 'When the newest message was sent, or when the conversation started; conversations are listed by it.',
    }),
    messages: t.withAuth({ loggedIn: true }).loadable({
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
      load: (conversations: ConversationEntity[], context, args) =>
        context.services.chat.messagePages(context.em, signedIn(context).viewer, conversations, args),
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

const ConversationConnection = builder.connectionObject({ type: ConversationRef, name: 'ConversationConnection' }, { name: 'ConversationEdge' });

const MessageConnection = builder.connectionObject({ type: MessageRef, name: 'MessageConnection' }, { name: 'MessageEdge' });

builder.queryFields((t) => ({
  conversations: t.withAuth({ loggedIn: true }).field({
    type: ConversationConnection,
    description: "The viewer's conversations, most recent activity first.",
    args: {
      first: t.arg.int({ description: 'Page size: 20 when absent, at most 100.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
    },
    resolve: (_root, args, context) => context.services.chat.conversations(context.em, context.viewer, args),
  }),
  conversation: t.withAuth({ loggedIn: true }).field({
    type: ConversationRef,
    nullable: true,
    description: "A conversation of the viewer's; null when there is none with this id, FORBIDDEN when it is someone else's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.services.chat.conversation(context.em, context.viewer, String(id)),
  }),
}));

builder.mutationFields((t) => ({
  startConversation: t.withAuth({ loggedIn: true }).field({
    type: ConversationRef,
    description: 'Opens the conversation between the viewing investor and a startup user; the same pair always gets the same one.',
    args: { userId: t.arg.id({ required: true, description: "The startup user's id (User.id, not the profile's)." }) },
    resolve: (_root, { userId }, context) => context.services.chat.start(context.em, context.viewer, String(userId)),
  }),
  sendMessage: t.withAuth({ loggedIn: true }).field({
    type: MessageRef,
    description: `Stores a message (1 to ${MESSAGE_MAX_LENGTH} characters after trimming), then delivers it to subscribers.`,
    args: { conversationId: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
    resolve: (_root, { conversationId, body }, context) =>
      context.services.chat.send(context.em, context.viewer, { conversationId: String(conversationId), body }),
  }),
  markConversationRead: t.withAuth({ loggedIn: true }).field({
    type: ConversationRef,
    description:
      "Moves the viewer's read mark to the newest message (its createdAt); the conversation's unreadCount becomes 0. The other participant sees the mark as peerLastReadAt, and a ReadEvent when it moved.",
    args: { conversationId: t.arg.id({ required: true }) },
    resolve: (_root, { conversationId }, context) => context.services.chat.markRead(context.em, context.viewer, String(conversationId)),
  }),
  editMessage: t.withAuth({ loggedIn: true }).field({
    type: MessageRef,
    description: `Changes the body of one of the viewer's own messages (1 to ${MESSAGE_MAX_LENGTH} characters after trimming) and sets editedAt. Someone else's or a deleted message: FORBIDDEN.`,
    args: {
      id: t.arg.id({ required: true, description: 'The message.' }),
      body: t.arg.string({ required: true, description: `The new body: 1 to ${MESSAGE_MAX_LENGTH} characters after trimming.` }),
    },
    resolve: (_root, { id, body }, context) => context.services.chat.edit(context.em, context.viewer, { messageId: String(id), body }),
  }),
  deleteMessage: t.withAuth({ loggedIn: true }).field({
    type: MessageRef,
    description:
      'Deletes one of the viewer\'s own messages: it stays in history as a tombstone (body "", deletedAt set) and no longer counts as unread. Deleting again returns the same tombstone.',
    args: { id: t.arg.id({ required: true, description: 'The message.' }) },
    resolve: (_root, { id }, context) => context.services.chat.delete(context.em, context.viewer, String(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  messageSent: t.withAuth({ loggedIn: true }).field({
    type: MessageRef,
    description: 'Every new message of a conversation the viewer takes part in.',
    args: { conversationId: t.arg.id({ required: true }) },
    subscribe: (_root, { conversationId }, context) => context.services.chat.subscribeToMessages(context.em, context.viewer, String(conversationId)),
    resolve: (event: MessageEventPayload) => publishedMessage(event),
  }),
  inbox: t.withAuth({ loggedIn: true }).field({
    type: MessageRef,
    description: "Every new message in any of the viewer's conversations, the viewer's own included (other devices stay in sync).",
    subscribe: (_root, _args, context) => context.services.chat.subscribeToInbox(context.viewer),
    resolve: (event: InboxEventPayload) => publishedMessage(event),
  }),
}));
