import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { ConversationEventPayload, InboxEventPayload } from './chat-events.js';
import type { Logger } from '../logger.js';
import { LocalFirstEventTarget } from './local-first-event-target.js';

export interface SessionRevokedEvent {
  userId: string;
  sessionIds: string[];
}

export interface PresenceChangedEvent {
  userId: string;
  online: boolean;
  /** ISO 8601; null while online. */
  lastSeenAt: string | null;
}

/**
 * Every topic the app publishes, with its payload. Topics with an id argument are scoped by it
 * (`chat:conversation:<conversationId>`). Chat events carry the rows they announce, so that
 * delivering them usually needs no query (DESIGN.md "Chat's hot path").
 */
export type PubSubTopics = {
  'session:revoked': [SessionRevokedEvent];
  /** Messages sent, edited, deleted; typing; read marks: everything `<id>`'s participants follow. */
  'chat:conversation': [conversationId: string, event: ConversationEventPayload];
  /** A message was stored in one of user `<id>`'s conversations (their own included). */
  'chat:inbox': [userId: string, event: InboxEventPayload];
  /** A conversation partner of user `<id>` came online or went offline. */
  'presence:partner': [watcherId: string, event: PresenceChangedEvent];
};

export type AppPubSub = PubSub<PubSubTopics>;

export interface PubSubHandle {
  pubsub: AppPubSub;
  close(): Promise<void>;
}

/**
 * The two connections Redis pub/sub needs. Commands wait through a reconnect instead of
 * failing (maxRetriesPerRequest: null). The subscriber skips ioredis's ready check: a SUBSCRIBE
 * sent while the connection is being set up puts it in subscriber mode, the check's INFO is
 * then refused ("Connection in subscriber mode"), and the subscription was silently lost.
 */
export function createRedisPubSubClients(redisUrl: string): { publishClient: Redis; subscribeClient: Redis } {
  return {
    publishClient: new Redis(redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true }),
    subscribeClient: new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: false }),
  };
}

/**
 * In-process by default; with REDIS_URL, delivered locally at once and through Redis to every
 * other instance (see LocalFirstEventTarget).
 */
export function createAppPubSub(redisUrl: string | undefined, logger: Logger): PubSubHandle {
  if (!redisUrl) {
    // Every subscriber adds a listener for its topic (a user's tabs all listen to their inbox);
    // that is not a leak, so Node's warning past 10 listeners is switched off.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return { pubsub: createPubSub<PubSubTopics>({ eventTarget }), close: async () => {} };
  }
  const { publishClient, subscribeClient } = createRedisPubSubClients(redisUrl);
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection problem; retrying'));
  }
  const eventTarget = new LocalFirstEventTarget(publishClient, subscribeClient, logger);
  setMaxListeners(0, eventTarget);
  return {
    pubsub: createPubSub<PubSubTopics>({ eventTarget }),
    async close() {
      // quit() waits for Redis, which may be the thing that is down; disconnect() does not.
      await Promise.allSettled(
        [publishClient.quit(), subscribeClient.quit()].map((quit) => Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 500).unref())])),
      );
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
