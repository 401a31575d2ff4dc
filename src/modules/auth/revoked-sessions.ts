import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppPubSub, SessionRevokedEvent } from '../../events/pubsub.js';
import type { Logger } from '../../logger.js';
import { recentlyRevokedSessions } from './session.repository.js';

export interface RevokedSessionsOptions {
  em: EntityManager;
  pubsub: AppPubSub;
  logger: Logger;
  /** Access tokens live this long, so a revocation older than it has no token left to refuse. */
  accessTokenTtlSeconds: number;
  syncIntervalSeconds: number;
}

type Listener = (event: SessionRevokedEvent) => void;

/**
 * The sessions revoked within the last access-token lifetime, held in memory so that checking a
 * token costs no query. Fed by the `session:revoked` event (every instance hears it), and
 * re-read from the database periodically in case an event was missed.
 */
export class RevokedSessions {
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private subscription: AsyncIterator<SessionRevokedEvent> | undefined;

  constructor(private readonly options: RevokedSessionsOptions) {}

  get size(): number {
    return this.revoked.size;
  }

  has(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Called for every revocation heard, local or remote; container.ts closes the sessions' sockets and SSE streams with it. */
  onRevoked(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.sync();
    const iterator = this.options.pubsub.subscribe('session:revoked')[Symbol.asyncIterator]();
    this.subscription = iterator;
    void (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        this.add(next.value);
      }
    })().catch((error: unknown) => this.options.logger.error({ err: error }, 'session revocation subscription ended'));
    this.timer = setInterval(() => {
      this.sync().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not re-sync revoked sessions'));
    }, this.options.syncIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.subscription?.return?.();
  }

  /** Records revocations made here and tells every instance, this one included. */
  publish(event: SessionRevokedEvent): void {
    if (event.sessionIds.length === 0) return;
    this.add(event);
    this.options.pubsub.publish('session:revoked', event);
  }

  private add(event: SessionRevokedEvent): void {
    const now = Date.now();
    const fresh = event.sessionIds.filter((id) => !this.revoked.has(id));
    for (const id of event.sessionIds) this.revoked.set(id, now);
    if (fresh.length === 0) return;
    for (const listener of this.listeners) {
      // One failing listener must not end the subscription loop that feeds every revocation.
      try {
        listener({ userId: event.userId, sessionIds: fresh });
      } catch (error) {
        this.options.logger.error({ err: error }, 'a session revocation listener failed');
      }
    }
  }

  private async sync(): Promise<void> {
    const windowSeconds = this.options.accessTokenTtlSeconds + 60;
    const rows = await recentlyRevokedSessions(this.options.em, windowSeconds);
    const horizon = Date.now() - windowSeconds * 1000;
    for (const [id, at] of this.revoked) if (at < horizon) this.revoked.delete(id);
    for (const row of rows) {
      if (!this.revoked.has(row.id)) this.add({ userId: row.userId, sessionIds: [row.id] });
    }
  }
}
