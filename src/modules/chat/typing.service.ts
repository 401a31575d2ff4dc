import type { EntityManager } from '@mikro-orm/postgresql';
import type { SocketLifecycle } from '../../events/socket-lifecycle.js';
import type { TypingStore } from '../../events/typing-store.js';
import type { AppPubSub } from '../../events/pubsub.js';
import type { Logger } from '../../logger.js';
import type { RateLimits } from '../../security/rate-limits.js';
import type { UserView } from '../user/user.entity.js';
import { requireConversation } from './chat.service.js';

export interface TypingServiceDeps {
  store: TypingStore;
  pubsub: AppPubSub;
  rateLimits: Pick<RateLimits, 'beforeSetTyping'>;
  logger: Logger;
  /** A user's last socket on this instance closing ends their typing states. */
  sockets: SocketLifecycle;
}

/**
 * Typing indicators (API.md Chat → Typing): one `TypingEvent { typing: true }` when a state
 * starts, one `typing: false` when it ends, by `setTyping(false)`, a message sent by the typist,
 * the timeout (the store's), or the typist's last socket on this instance closing.
 */
export class TypingService {
  private readonly store: TypingStore;
  private readonly pubsub: AppPubSub;
  private readonly rateLimits: Pick<RateLimits, 'beforeSetTyping'>;
  private readonly logger: Logger;
  private readonly stopListening: () => void;

  constructor({ store, pubsub, rateLimits, logger, sockets }: TypingServiceDeps) {
    this.store = store;
    this.pubsub = pubsub;
    this.rateLimits = rateLimits;
    this.logger = logger;
    this.stopListening = sockets.listen({
      closed: ({ userId, lastOfUser }) => {
        if (lastOfUser) this.userLeft(userId);
      },
    });
  }

  /** The `setTyping` mutation: a participant's typing state in one conversation. */
  async set(em: EntityManager, viewer: UserView, conversationId: string, typing: boolean): Promise<boolean> {
    await this.rateLimits.beforeSetTyping(viewer.id);
    const conversation = await requireConversation(em, viewer, conversationId);
    if (typing ? await this.store.start(conversation.id, viewer.id) : await this.store.stop(conversation.id, viewer.id)) {
      this.announce(conversation.id, viewer.id, typing);
    }
    return typing;
  }

  /** The store's timeout ended a state; exactly one instance hears of it. */
  expired(conversationId: string, userId: string): void {
    this.announce(conversationId, userId, false);
  }

  /** A message from the typist ends their typing there. Off the sender's path: nothing waits for it. */
  messageSent(conversationId: string, userId: string): void {
    this.end(conversationId, userId);
  }

  close(): void {
    this.stopListening();
    this.store.close();
  }

  private userLeft(userId: string): void {
    for (const conversationId of this.store.conversationsOf(userId)) this.end(conversationId, userId);
  }

  private end(conversationId: string, userId: string): void {
    this.store.stop(conversationId, userId).then(
      (ended) => ended && this.announce(conversationId, userId, false),
      (error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not end a typing state'),
    );
  }

  private announce(conversationId: string, userId: string, typing: boolean): void {
    this.pubsub.publish('chat:conversation', conversationId, { kind: 'typing', conversationId, userId, typing });
  }
}
