import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger.js';
import type { OutboxWorker } from '../../mail/outbox.js';
import type { RateLimits } from '../../security/rate-limits.js';
import type { PendingWork } from '../../shared/pending-work.js';

export interface OffRequestMailDeps {
  rateLimits: Pick<RateLimits, 'mayRequestEmail'>;
  outbox: Pick<OutboxWorker, 'nudge'>;
  logger: Logger;
  /** Where the work is tracked, so that a stopping instance waits for it. */
  work: PendingWork;
}

/**
 * Runs the work of `resendActivation` / `requestPasswordReset` after the answer has gone out.
 * Whether an address has an account decides how much work there is (a lookup, or a lookup, a
 * token, a cooldown claim and an outbox row), so doing it on the request path would tell the
 * caller through timing (API.md "Rate limits"). The per-IP budget is checked first, in the
 * same time for every address; beyond it nothing is mailed and the answer stays the same.
 */
export class OffRequestMail {
  constructor(private readonly deps: OffRequestMailDeps) {}

  /** `work` gets its own EntityManager (the operation's may be gone) and returns whether it queued an email. */
  async run(em: EntityManager, ip: string, what: string, work: (em: EntityManager) => Promise<boolean>): Promise<void> {
    const { rateLimits, outbox, logger, work: pending } = this.deps;
    if (!(await rateLimits.mayRequestEmail(ip))) return;
    const own = em.fork();
    void pending.track(
      new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => work(own))
        .then((queued) => {
          if (queued) outbox.nudge();
        })
        .catch((error: unknown) => logger.error({ err: error }, `${what} failed off the request path`)),
    );
  }
}
