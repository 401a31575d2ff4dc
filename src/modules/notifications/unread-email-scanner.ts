import type { EntityManager } from '@mikro-orm/postgresql';
import { Counter } from 'prom-client';
import type { Logger } from '../../logger.js';
import { enqueueMail } from '../../mail/outbox.js';
import {
  advanceWatermark,
  anyDue,
  countDue,
  dueMessages,
  lockWatermark,
  readWatermark,
  recordUnreadEmailNotice,
  unreadSummary,
  type DueMessage,
  type Watermark,
} from './notifications.repository.js';
import { unreadMessagesEmail } from './unread-email.template.js';
import type { UnsubscribeTokens } from './unsubscribe-tokens.js';

/** Prometheus counters of notifications; AppMetrics serves them. */
export class NotificationCounters {
  readonly unreadEmailsQueued = new Counter({
    name: 'forum_unread_emails_queued_total',
    help: 'Unread-message emails queued in the outbox by this instance.',
    registers: [],
  });
  readonly emailsSent = new Counter({
    name: 'forum_emails_sent_total',
    help: 'Emails handed to the mail server by this instance, by kind.',
    labelNames: ['kind'] as const,
    registers: [],
  });
  readonly unsubscribes = new Counter({
    name: 'forum_unsubscribes_total',
    help: 'One-click unsubscribes (POST /unsubscribe) that turned emails off.',
    registers: [],
  });

  all() {
    return [this.unreadEmailsQueued, this.emailsSent, this.unsubscribes];
  }
}

export interface UnreadEmailScannerOptions {
  /** Forked per pass. */
  em: EntityManager;
  delaySeconds: number;
  intervalMs: number;
  batchSize: number;
  appUrl: string;
  tokens: UnsubscribeTokens;
  /** Which of these users are online anywhere (presence). */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Called after a pass queued emails, so they leave now. */
  queued(count: number): void;
  counters: NotificationCounters;
  logger: Logger;
}

/**
 * Finds messages that are still unread UNREAD_EMAIL_DELAY_SECONDS after they were sent and
 * queues one email per conversation and recipient. The database decides everything: a single
 * watermark row, locked with SKIP LOCKED, says how far messages have been examined, and moving
 * it, queueing the emails and recording what they covered commit together, so however many
 * instances scan, each message is examined once and each email queued once. Nothing is added
 * to `sendMessage`: the scan finds due messages by itself, through an index, in bounded batches,
 * and a pass with nothing due is one index probe.
 */
export class UnreadEmailScanner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /**
   * The last watermark this instance saw. It only ever moves forward, so a stale copy is a safe
   * lower bound for the lock-free probe: at worst the probe finds an examined message and the
   * locked pass then finds nothing to do.
   */
  private knownWatermark: Watermark | undefined;

  constructor(private readonly options: UnreadEmailScannerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Messages past their delay that the scan has not examined yet (at most `cap`), for /metrics. */
  async dueCount(cap = 10_000): Promise<number> {
    const em = this.options.em.fork();
    const watermark = await this.watermark(em);
    return countDue(em, watermark, this.options.delaySeconds, cap);
  }

  private async watermark(em: EntityManager): Promise<Watermark> {
    if (!this.knownWatermark) {
      const row = await readWatermark(em);
      if (!row) throw new Error('unread_email_scan has no row: run the migrations');
      this.knownWatermark = row;
    }
    return this.knownWatermark;
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.options.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.pass()) === 'more') {
        // a full batch: there may be more due right now
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'unread-email scan failed; will retry');
    }
  }

  /** One bounded pass; 'more' when it examined a full batch. */
  async pass(): Promise<'idle' | 'done' | 'more'> {
    const { delaySeconds, batchSize } = this.options;
    const em = this.options.em.fork();
    // Nothing due is the usual case: one index probe, no transaction, no lock.
    const known = await this.watermark(em);
    if (!(await anyDue(em, known, delaySeconds))) return 'idle';

    let queued = 0;
    let advanced: Watermark | undefined;
    const outcome = await em.transactional(async (tx) => {
      const watermark = await lockWatermark(tx);
      if (!watermark) return 'idle' as const; // another instance is scanning
      this.knownWatermark = watermark;
      const due = await dueMessages(tx, watermark, delaySeconds, batchSize);
      if (due.length === 0) return 'done' as const;

      // One email per conversation and recipient, however many of its messages fell due.
      const candidates = new Map<string, DueMessage>();
      for (const row of due) if (row.eligible) candidates.set(`${row.recipientId}:${row.conversationId}`, row);
      const online = await this.options.online([...new Set([...candidates.values()].map((row) => row.recipientId))]);
      for (const row of candidates.values()) {
        if (online.has(row.recipientId)) continue;
        if (await this.queueEmail(tx, row)) queued += 1;
      }

      const last = due[due.length - 1]!;
      const next = { createdAt: last.createdAt, messageId: last.id };
      await advanceWatermark(tx, next);
      advanced = next;
      return due.length === batchSize ? ('more' as const) : ('done' as const);
    });
    if (advanced) this.knownWatermark = advanced; // committed
    if (queued > 0) {
      this.options.counters.unreadEmailsQueued.inc(queued);
      this.options.logger.info({ queued }, 'unread-message emails queued');
      this.options.queued(queued);
    }
    return outcome;
  }

  /** Queues the email for one conversation and recipient, and records what it covers. */
  private async queueEmail(tx: EntityManager, row: DueMessage): Promise<boolean> {
    const summary = await unreadSummary(tx, { conversationId: row.conversationId, recipientId: row.recipientId });
    if (!summary) return false;
    enqueueMail(
      tx,
      row.recipientEmail,
      unreadMessagesEmail({
        appUrl: this.options.appUrl,
        conversationId: row.conversationId,
        senderCompany: summary.senderCompany ?? 'A Forum API member',
        unreadCount: summary.unread,
        newestBody: summary.newestBody,
        unsubscribeUrl: `${this.options.appUrl}/unsubscribe?token=${this.options.tokens.sign(row.recipientId)}`,
      }),
    );
    await recordUnreadEmailNotice(tx, { recipientId: row.recipientId, conversationId: row.conversationId, coveredUpTo: summary.newestCreatedAt });
    return true;
  }
}
