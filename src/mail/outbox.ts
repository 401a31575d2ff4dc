import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { MailTransport } from './mailer.js';
import { MailOutbox } from './mail-outbox.entity.js';
import { claimCooldown, claimDueMail, giveBackMail, markSent, scheduleRetry, type ClaimedMail } from './outbox.repository.js';
import type { MailContent } from './templates.js';

/** Queues an email inside the caller's transaction: it exists exactly when the business change does. */
export function enqueueMail(em: EntityManager, recipient: string, content: MailContent): void {
  em.create(MailOutbox, { recipient, ...content });
}

/**
 * Records that `address` is being mailed for `purpose` unless it was within `cooldownSeconds`.
 * One atomic upsert, so concurrent requests on any instance send at most one email.
 */
export async function claimEmailCooldown(em: EntityManager, address: string, purpose: string, cooldownSeconds: number): Promise<boolean> {
  if (cooldownSeconds <= 0) return true;
  return claimCooldown(em, { address, purpose, cooldownSeconds });
}

export interface OutboxWorkerOptions {
  em: EntityManager;
  transport: MailTransport;
  logger: Logger;
  pollMs: number;
  retryBaseMs: number;
  /** How long a claimed email stays invisible to other workers while it is being sent. */
  leaseMs?: number;
  batchSize?: number;
  /** Told of every email handed to the transport (metrics count them by kind). */
  onSent?: (kind: string) => void;
}

const MAX_BACKOFF_MS = 15 * 60_000;
/** The longest pause between two probes of a broken transport: mail leaves within seconds of its recovery. */
const MAX_PROBE_DELAY_MS = 10_000;

/**
 * Errors about one mail (the server refused its envelope or content); anything else (no
 * connection, timeout, TLS, authentication) is this instance's transport, not the mail.
 */
const MAIL_ERROR_CODES = new Set(['EENVELOPE', 'EMESSAGE']);
const isTransportFailure = (error: unknown) => !MAIL_ERROR_CODES.has(String((error as { code?: unknown }).code));

/**
 * A circuit breaker around this instance's transport. Instances share the outbox; one whose
 * SMTP is down must not keep claiming mail, failing it and pushing its next attempt out while
 * healthy instances could send it. After a transport failure it stops claiming until a probe of
 * its transport succeeds, with its own backoff.
 */
class TransportBreaker {
  private retryAt = 0;
  private delayMs = 0;

  constructor(private readonly baseMs: number) {}

  get open(): boolean {
    return this.delayMs > 0;
  }

  /** Milliseconds until the next probe (0 when closed or due). */
  get waitMs(): number {
    return this.open ? Math.max(0, this.retryAt - Date.now()) : 0;
  }

  /** Returns whether this failure opened it (only the first of a batch does). */
  trip(): boolean {
    if (this.open) return false;
    this.delayMs = this.baseMs;
    this.retryAt = Date.now() + this.delayMs;
    return true;
  }

  probeFailed(): void {
    this.delayMs = Math.min(this.delayMs * 2, MAX_PROBE_DELAY_MS);
    this.retryAt = Date.now() + this.delayMs;
  }

  reset(): void {
    this.delayMs = 0;
  }
}

/**
 * Delivers queued emails. Rows are claimed with SKIP LOCKED and a lease, so several instances
 * share the work, and an email whose sender died is picked up again after the lease.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly breaker: TransportBreaker;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.breaker = new TransportBreaker(options.retryBaseMs);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Called after a commit that queued mail, so it leaves now rather than at the next poll. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async pendingCount(): Promise<number> {
    const em = this.options.em.fork();
    return em.count(MailOutbox, { sentAt: null });
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        const next = this.breaker.open ? this.breaker.waitMs : this.again ? 0 : this.options.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    try {
      // A nudge while the breaker is open waits for the probe's time like everything else.
      if (this.breaker.open && (this.breaker.waitMs > 0 || !(await this.probe()))) return;
      for (;;) {
        if (this.stopped || this.breaker.open) return;
        const batch = await this.claim();
        await Promise.all(batch.map((mail) => this.deliver(mail)));
        if (batch.length < (this.options.batchSize ?? 20)) return;
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'mail outbox: could not read the queue; will retry');
    }
  }

  private async claim(): Promise<ClaimedMail[]> {
    const { leaseMs = 120_000, batchSize = 20 } = this.options;
    return claimDueMail(this.options.em, { leaseSeconds: leaseMs / 1000, batchSize });
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    const { em } = this.options;
    try {
      await this.options.transport.send({
        id: mail.id,
        kind: mail.kind,
        to: mail.recipient,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers,
      });
      await markSent(em, mail.id);
      this.options.onSent?.(mail.kind);
      this.options.logger.info({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts }, 'email sent');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isTransportFailure(error)) return this.giveBack(mail, message);
      const backoff = Math.min(this.options.retryBaseMs * 2 ** (mail.attempts - 1), MAX_BACKOFF_MS);
      this.options.logger.warn({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts, retryInMs: backoff, err: message }, 'email not sent; will retry');
      await scheduleRetry(em, { id: mail.id, backoffSeconds: backoff / 1000, error: message.slice(0, 1000) }).catch((dbError: unknown) =>
        this.options.logger.warn({ err: dbError, mailId: mail.id }, 'mail outbox: could not record the failure; the lease will expire'),
      );
    }
  }

  /**
   * This instance could not reach its transport: the mail goes back to the queue at once, its
   * attempt not counted (its backoff is about the mail, and the mail did nothing wrong), and
   * this instance stops claiming until a probe succeeds.
   */
  private async giveBack(mail: ClaimedMail, message: string): Promise<void> {
    if (this.breaker.trip()) {
      this.options.logger.warn({ err: message, retryInMs: this.breaker.waitMs }, 'mail transport failed; not claiming mail until it answers again');
    }
    await giveBackMail(this.options.em, { id: mail.id, error: message.slice(0, 1000) }).catch((dbError: unknown) =>
      this.options.logger.warn({ err: dbError, mailId: mail.id }, 'mail outbox: could not give a mail back; the lease will expire'),
    );
  }

  /** Whether the transport answers again; closes the breaker when it does. */
  private async probe(): Promise<boolean> {
    try {
      await this.options.transport.verify();
      this.breaker.reset();
      this.options.logger.info('mail transport answers again; sending queued mail');
      return true;
    } catch (error) {
      this.breaker.probeFailed();
      this.options.logger.debug(
        { err: error instanceof Error ? error.message : String(error), retryInMs: this.breaker.waitMs },
        'mail transport still failing',
      );
      return false;
    }
  }
}
