import type { EntityManager } from '@mikro-orm/postgresql';
import type { ORM } from '../../db/db.js';
import type { OutboxWorker } from '../../mail/outbox.js';
import type { Logger } from '../../logger.js';
import type { RateLimits } from '../../security/rate-limits.js';

/** The ports this needs from the container (a module does not import the container). */
export interface MailOffRequestPorts {
  orm: ORM;
  outbox: Pick<OutboxWorker, 'nudge'>;
  logger: Logger;
  rateLimits: Pick<RateLimits, 'mayRequestEmail'>;
}

/**
 * Runs the work of `resendActivation` / `requestPasswordReset` after the answer has gone out.
 * Whether an address has an account decides how much work there is (a lookup, or a lookup, a
 * token, a cooldown claim and an outbox row), so doing it on the request path would tell the
 * caller through timing (API.md "Rate limits"). The per-IP budget is checked first, in the
 * same time for every address; beyond it nothing is mailed and the answer stays the same.
 * `work` returns whether it queued an email.
 */
export async function mailOffRequestPath(
  services: MailOffRequestPorts,
  ip: string,
  what: string,
  work: (em: EntityManager) => Promise<boolean>,
): Promise<void> {
  if (!(await services.rateLimits.mayRequestEmail(ip))) return;
  setImmediate(() => {
    work(services.orm.em.fork() as EntityManager)
      .then((queued) => {
        if (queued) services.outbox.nudge();
      })
      .catch((error: unknown) => services.logger.error({ err: error }, `${what} failed off the request path`));
  });
}
