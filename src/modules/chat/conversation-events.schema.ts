import type { ConversationEventPayload, MessageEventPayload } from '../../events/chat-events.js';
import { builder } from '../../graphql/builder.js';
import { idOrReference } from '../../graphql/selection.js';
import type { UserEntity } from '../user/user.entity.js';
import { UserRef } from '../user/user.schema.js';
import { MessageRef } from './chat.schema.js';
import { messageFromRecord } from './message-view.js';

type TypingPayload = Extract<ConversationEventPayload, { kind: 'typing' }>;
type ReadPayload = Extract<ConversationEventPayload, { kind: 'read' }>;

/** The three message events share one shape: the message as it is now. */
const messageEvent = (name: string, description: string) =>
  builder.objectRef<MessageEventPayload>(name).implement({
    description,
    fields: (t) => ({
      message: t.field({ type: MessageRef, description: 'The message as it is now.', resolve: (event) => messageFromRecord(event.message) }),
    }),
  });

const MessageSentEvent = messageEvent('MessageSentEvent', 'A new message in the conversation (the same as messageSent delivers).');
const MessageEditedEvent = messageEvent('MessageEditedEvent', 'The sender edited a message: `message` has the new body and editedAt.');
const MessageDeletedEvent = messageEvent(
  'MessageDeletedEvent',
  'The sender deleted a message: `message` is its tombstone (body "", deletedAt set); keep it in place in the history.',
);

const TypingEvent = builder.objectRef<TypingPayload>('TypingEvent').implement({
  description: "The other participant started (typing: true) or stopped (typing: false) typing in the conversation. Never sent about the viewer's own typing.",
  fields: (t) => ({
    conversationId: t.exposeID('conversationId', { description: 'The conversation typed in.' }),
    user: t.field({ type: UserRef, description: 'Who is typing.', resolve: (event, _args, _context, info) => idOrReference<UserEntity>(event.userId, info) }),
    typing: t.exposeBoolean('typing', {
      description: 'True once when typing starts; false once when it ends (setTyping(false), a message sent, the timeout, or their last socket closing).',
    }),
  }),
});

const ReadEvent = builder.objectRef<ReadPayload>('ReadEvent').implement({
  description:
    "A participant's read mark moved (markConversationRead, or a reply that read the other's messages): they have seen every message with createdAt up to lastReadAt.",
  fields: (t) => ({
    conversationId: t.exposeID('conversationId', { description: 'The conversation read.' }),
    user: t.field({
      type: UserRef,
      description: 'Whose read mark moved.',
      resolve: (event, _args, _context, info) => idOrReference<UserEntity>(event.userId, info),
    }),
    lastReadAt: t.field({
      type: 'DateTime',
      description: 'The new read mark (Conversation.peerLastReadAt, for the other participant).',
      resolve: (event) => new Date(event.lastReadAt),
    }),
  }),
});

const ConversationEvent = builder.unionType('ConversationEvent', {
  description: 'What happens in one conversation; switch on __typename.',
  types: [MessageSentEvent, MessageEditedEvent, MessageDeletedEvent, TypingEvent, ReadEvent],
  resolveType: (event: ConversationEventPayload) => {
    switch (event.kind) {
      case 'sent':
        return MessageSentEvent;
      case 'edited':
        return MessageEditedEvent;
      case 'deleted':
        return MessageDeletedEvent;
      case 'typing':
        return TypingEvent;
      case 'read':
        return ReadEvent;
    }
  },
});

builder.subscriptionField('conversationEvents', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: ConversationEvent,
    description:
      'Everything that happens in one conversation the viewer takes part in, in order: messages sent, edited and deleted, read marks moving, and the other participant typing.',
    args: { conversationId: t.arg.id({ required: true, description: 'A conversation the viewer takes part in.' }) },
    subscribe: (_root, { conversationId }, context) => context.services.chat.subscribeToEvents(context.em, context.viewer, String(conversationId)),
    resolve: (event: ConversationEventPayload) => event,
  }),
);

builder.mutationField('setTyping', (t) =>
  t.withAuth({ loggedIn: true }).boolean({
    description:
      "Starts (true) or ends (false) the viewer's typing state in a conversation. A state lasts TYPING_TIMEOUT_SECONDS (default 5); calling again renews it without a new event. At most 10 calls a second per user (RATE_LIMITED beyond). Answers `typing`.",
    args: {
      conversationId: t.arg.id({ required: true, description: 'A conversation the viewer takes part in.' }),
      typing: t.arg.boolean({ required: true, description: 'True while the viewer types; false when they stop.' }),
    },
    resolve: (_root, { conversationId, typing }, context) => context.services.typing.set(context.em, context.viewer, String(conversationId), typing),
  }),
);
