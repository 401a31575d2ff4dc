import { cacheExchange, type Cache } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { gql } from '@urql/core';

const PEER_READ_MARK = gql`
  fragment PeerReadMark on Conversation { id peerLastReadAt }
`;

/** Drops every cached page of a list (invalidate() without arguments only drops the argument-less one). */
const invalidateList = (cache: Cache, fieldName: string) => {
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName === fieldName) cache.invalidate('Query', fieldName, field.arguments ?? undefined);
  }
};

const viewerId = (cache: Cache): string | null => {
  const me = cache.resolve('Query', 'me');
  return typeof me === 'string' ? (cache.resolve(me, 'id') as string | null) : null;
};

/**
 * Normalized cache: an edited message, a new unread count or a partner going offline updates
 * every screen that shows it. Lists are Relay connections merged by relayPagination();
 * history merges 'outwards' (older pages before the newest, catch-up pages after it).
 */
export const createCache = () =>
  cacheExchange({
    keys: {
      // Value objects without an id live inside their parent.
      PageInfo: () => null,
      MessagePayload: () => null,
      AuthPayload: () => null,
      Settings: () => null,
      MessageSentEvent: () => null,
      MessageEditedEvent: () => null,
      MessageDeletedEvent: () => null,
      TypingEvent: () => null,
      ReadEvent: () => null,
      PresenceEvent: () => null,
    },
    resolvers: {
      Query: {
        startups: relayPagination(),
        investors: relayPagination(),
        conversations: relayPagination(),
      },
      Conversation: {
        messages: relayPagination({ mergeMode: 'outwards' }),
      },
    },
    updates: {
      Mutation: {
        startConversation: (_result, _args, cache) => invalidateList(cache, 'conversations'),
        revokeSession: (_result, _args, cache) => invalidateList(cache, 'sessions'),
      },
      Subscription: {
        inbox: (result, _args, cache) => {
          // A conversation the list has never shown (a partner just started it): reload the list.
          const message = result.inbox as { conversation?: { id: string } } | undefined;
          const key = message?.conversation && cache.keyOfEntity({ __typename: 'Conversation', id: message.conversation.id });
          if (key && cache.resolve(key, 'participants') == null) invalidateList(cache, 'conversations');
        },
        conversationEvents: (result, _args, cache) => {
          const event = result.conversationEvents as { __typename?: string; conversationId?: string; lastReadAt?: string; user?: { id: string } };
          if (event.__typename !== 'ReadEvent' || !event.conversationId || event.user?.id === viewerId(cache)) return;
          cache.writeFragment(PEER_READ_MARK, { __typename: 'Conversation', id: event.conversationId, peerLastReadAt: event.lastReadAt });
        },
      },
    },
  });
