import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger.js';
import type { OutboxWorker } from '../../mail/outbox.js';
import type { RateLimits } from '../../security/rate-limits.js';

export interface OffRequestMailDeps {
  rateLimits: Pick<RateLimits, 'mayRequestEmail'>;
  outbox: Pick<OutboxWorker, 'nudge'>;
  logger: Logger;
}

/**
 * Runs the work of `resendActivation` / `requestPasswordReset` after the answer has gone out.
 * Whether an address has an account decides how much work there is (a lookup, or a lookup, a
 * token, a cooldown claim and an outbox row), so doing it on the request path would tell the
 * caller through timing (API.md "Rate limits"). The per-IP budget is checked first, in the
 * same time for every address; beyond it nothing is mailed and the answer stays the same.
 */
export class OffRequestMail {
  /** Work scheduled or running: an instance that stops waits for it before closing the database. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: OffRequestMailDeps) {}

  /** `work` gets its own EntityManager (the operation's may be gone) and returns whether it queued an email. */
  async run(em: EntityManager, ip: string, what: string, work: (em: EntityManager) => Promise<boolean>): Promise<void> {
    const { rateLimits, outbox, logger } = this.deps;
    if (!(await rateLimits.mayRequestEmail(ip))) return;
    const own = em.fork();
    const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(own))
      .then((queued) => {
        if (queued) outbox.nudge();
      })
      .catch((error: unknown) => logger.error({ err: error }, `${what} failed off the request path`))
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /**
   * Resolves once the work of answered requests has finished. Called when the instance stops,
   * after it stopped taking requests: closing the database under a running transaction would
   * fail that work, and on the embedded database leave it, and the stop, waiting for ever.
   */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
