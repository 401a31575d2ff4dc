import type { EntityManager } from '@mikro-orm/postgresql';
import type { PresenceStore, ReapedUsers, ResyncedUsers } from '../../events/presence-store.js';
import type { SocketLifecycle } from '../../events/socket-lifecycle.js';
import type { AppPubSub } from '../../events/pubsub.js';
import type { Logger } from '../../logger.js';
import { presencePartners, recordLastSeen } from './presence.repository.js';

export interface PresenceTrackerOptions {
  store: PresenceStore;
  lifecycle: SocketLifecycle;
  pubsub: AppPubSub;
  /** Forked per announcement. */
  em: EntityManager;
  graceSeconds: number;
  logger: Logger;
}

/**
 * Turns this instance's socket opens and closes into presence: a user's first socket here joins
 * the store, their last one leaves it after the grace period (a reconnect within it changes
 * nothing), and whenever the store says a user's state changed for everyone, this instance
 * tells their conversation partners. Nothing is written to a table except `lastSeenAt` when a
 * user goes offline.
 */
export class PresenceTracker {
  /** Users with a socket here, or whose last socket here closed less than the grace ago. */
  private readonly present = new Set<string>();
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  /** Per user, so that an online and the following offline are announced in that order. */
  private readonly queues = new Map<string, Promise<void>>();
  private stopListening: (() => void) | undefined;

  constructor(private readonly options: PresenceTrackerOptions) {
    options.store.onReaped((reaped) => this.reaped(reaped));
    options.store.onResynced((resynced) => this.resynced(resynced));
  }

  /** Users this instance counts as online (its sockets, and those within the grace). */
  localUsers(): Iterable<string> {
    return this.present;
  }

  start(): void {
    this.stopListening = this.options.lifecycle.listen({
      opened: ({ userId, firstOfUser }) => {
        if (firstOfUser) this.arrived(userId);
      },
      closed: ({ userId, lastOfUser }) => {
        if (lastOfUser) this.departed(userId, new Date());
      },
    });
    this.options.store.start();
  }

  /** Which of these users are online anywhere (this instance's own knowledge if Redis is away). */
  online(userIds: readonly string[]): Promise<Set<string>> {
    return this.options.store.online(userIds);
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    for (const timer of this.leaving.values()) clearTimeout(timer);
    this.leaving.clear();
    await this.options.store.stop(this.options.graceSeconds);
    await Promise.allSettled([...this.queues.values()]);
  }

  private arrived(userId: string): void {
    const pending = this.leaving.get(userId);
    if (pending) {
      clearTimeout(pending);
      this.leaving.delete(userId);
      return;
    }
    this.present.add(userId);
    this.enqueue(userId, async () => {
      if (await this.options.store.join(userId)) await this.announce(userId, true, null);
    });
  }

  private departed(userId: string, closedAt: Date): void {
    const timer = setTimeout(() => {
      this.leaving.delete(userId);
      this.present.delete(userId);
      this.enqueue(userId, async () => {
        if (await this.options.store.leave(userId)) await this.announce(userId, false, closedAt);
      });
    }, this.options.graceSeconds * 1000);
    timer.unref();
    this.leaving.set(userId, timer);
  }

  private reaped({ userIds, lastSeenAt }: ReapedUsers): void {
    for (const userId of userIds) this.enqueue(userId, () => this.announce(userId, false, lastSeenAt));
  }

  private resynced({ cameOnline, wentOffline }: ResyncedUsers): void {
    const now = new Date();
    for (const userId of cameOnline) this.enqueue(userId, () => this.announce(userId, true, null));
    for (const userId of wentOffline) this.enqueue(userId, () => this.announce(userId, false, now));
  }

  private enqueue(userId: string, work: () => Promise<void>): void {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((error: unknown) => this.options.logger.warn({ err: error, userId }, 'presence: could not announce a change'))
      .finally(() => {
        if (this.queues.get(userId) === next) this.queues.delete(userId);
      });
    this.queues.set(userId, next);
  }

  /**
   * Records when an offline user was last seen, then tells each conversation partner, unless
   * the user hides their presence.
   */
  private async announce(userId: string, online: boolean, lastSeenAt: Date | null): Promise<void> {
    const em = this.options.em.fork();
    if (lastSeenAt) await recordLastSeen(em, userId, lastSeenAt);
    const partners = await presencePartners(em, userId);
    const event = { userId, online, lastSeenAt: lastSeenAt?.toISOString() ?? null };
    for (const partnerId of partners) this.options.pubsub.publish('presence:partner', partnerId, event);
  }
}
