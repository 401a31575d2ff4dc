import type { EntityManager } from '@mikro-orm/postgresql';
import { Counter } from 'prom-client';
import { sql } from '../../db/db.js';
import type { Logger } from '../../logger.js';
import { enqueueMail } from '../../mail/outbox.js';
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

interface DueRow {
  id: string;
  created_at: Date;
  conversation_id: string;
  recipient_id: string;
  recipient_email: string;
  eligible: boolean;
}

interface UnreadSummary {
  unread: number;
  newest_body: string;
  newest_created_at: Date;
  sender_company: string | null;
}

// Messages past a watermark (created_at, id) whose delay is over, in sending order. The values
// are bound parameters, so PostgreSQL plans a range scan of message_created_idx
// ("created_at", "id") that stops at the first row past the delay.
const PAST_WATERMARK = `("m"."created_at", "m"."id") > (?::timestamptz, ?::uuid)
  and "m"."created_at" <= now() - make_interval(secs => ?)`;

interface Watermark {
  scanned_created_at: Date;
  scanned_message_id: string;
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
    const [row] = await sql<{ due: number }[]>(
      em,
      `select count(*)::int as "due" from (
         select 1 from "message" "m" where ${PAST_WATERMARK} order by "m"."created_at", "m"."id" limit ?) "d"`,
      [watermark.scanned_created_at, watermark.scanned_message_id, this.options.delaySeconds, cap],
    );
    return row?.due ?? 0;
  }

  private async watermark(em: EntityManager): Promise<Watermark> {
    if (!this.knownWatermark) {
      const [row] = await sql<Watermark[]>(em, `select "scanned_created_at", "scanned_message_id" from "unread_email_scan" where "id" = 1`);
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
    const [probe] = await sql<{ due: number }[]>(
      em,
      `select 1 as "due" from "message" "m" where ${PAST_WATERMARK} order by "m"."created_at", "m"."id" limit 1`,
      [known.scanned_created_at, known.scanned_message_id, delaySeconds],
    );
    if (!probe) return 'idle';

    let queued = 0;
    let advanced: Watermark | undefined;
    const outcome = await em.transactional(async (tx) => {
      const [watermark] = await sql<Watermark[]>(
        tx,
        `select "scanned_created_at", "scanned_message_id" from "unread_email_scan" where "id" = 1 for update skip locked`,
      );
      if (!watermark) return 'idle' as const; // another instance is scanning
      this.knownWatermark = watermark;
      const due = await this.dueMessages(tx, watermark, batchSize);
      if (due.length === 0) return 'done' as const;

      // One email per conversation and recipient, however many of its messages fell due.
      const candidates = new Map<string, DueRow>();
      for (const row of due) if (row.eligible) candidates.set(`${row.recipient_id}:${row.conversation_id}`, row);
      const online = await this.options.online([...new Set([...candidates.values()].map((row) => row.recipient_id))]);
      for (const row of candidates.values()) {
        if (online.has(row.recipient_id)) continue;
        if (await this.queueEmail(tx, row)) queued += 1;
      }

      const last = due[due.length - 1]!;
      await sql(tx, `update "unread_email_scan" set "scanned_created_at" = ?, "scanned_message_id" = ? where "id" = 1`, [last.created_at, last.id]);
      advanced = { scanned_created_at: last.created_at, scanned_message_id: last.id };
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

  /**
   * The next due messages past the watermark, each with its recipient and whether it calls for
   * an email: still unread, the recipient wants these emails, and no email about this
   * conversation went out since the recipient last read it.
   */
  private dueMessages(tx: EntityManager, watermark: Watermark, limit: number): Promise<DueRow[]> {
    return sql<DueRow[]>(
      tx,
      `with "due" as (
         select "m"."id", "m"."created_at", "m"."conversation_id", "m"."sender_id", "m"."deleted_at" from "message" "m"
         where ${PAST_WATERMARK}
         order by "m"."created_at", "m"."id" limit ?)
       select "d"."id", "d"."created_at", "d"."conversation_id", "u"."id" as "recipient_id", "u"."email" as "recipient_email",
         ("u"."is_active"
          and "d"."deleted_at" is null
          and "d"."created_at" > coalesce("r"."last_read_at", '-infinity')
          and coalesce("s"."email_on_unread_messages", true)
          and ("n"."covered_up_to" is null or "n"."covered_up_to" <= coalesce("r"."last_read_at", '-infinity'))) as "eligible"
       from "due" "d"
       join "conversation" "c" on "c"."id" = "d"."conversation_id"
       join "user" "u" on "u"."id" = case when "c"."investor_id" = "d"."sender_id" then "c"."startup_id" else "c"."investor_id" end
       left join "conversation_read" "r" on "r"."user_id" = "u"."id" and "r"."conversation_id" = "d"."conversation_id"
       left join "user_settings" "s" on "s"."user_id" = "u"."id"
       left join "unread_email_notice" "n" on "n"."user_id" = "u"."id" and "n"."conversation_id" = "d"."conversation_id"
       order by "d"."created_at", "d"."id"`,
      [watermark.scanned_created_at, watermark.scanned_message_id, this.options.delaySeconds, limit],
    );
  }

  /** Queues the email for one conversation and recipient, and records what it covers. */
  private async queueEmail(tx: EntityManager, row: DueRow): Promise<boolean> {
    const [summary] = await sql<UnreadSummary[]>(
      tx,
      // Unread = from the other participant, after the recipient's read mark, not deleted (as
      // Conversation.unreadCount counts).
      `select (count(*) over ())::int as "unread", "m"."body" as "newest_body", "m"."created_at" as "newest_created_at",
         coalesce(
           (select "company_name" from "startup_profile" where "owner_id" = "m"."sender_id"),
           (select "company_name" from "investor_profile" where "owner_id" = "m"."sender_id")) as "sender_company"
       from "message" "m"
       where "m"."conversation_id" = ? and "m"."sender_id" <> ? and "m"."deleted_at" is null
         and "m"."created_at" > coalesce((select "last_read_at" from "conversation_read" where "user_id" = ? and "conversation_id" = ?), '-infinity')
       order by "m"."created_at" desc, "m"."id" desc
       limit 1`,
      [row.conversation_id, row.recipient_id, row.recipient_id, row.conversation_id],
    );
    if (!summary) return false;
    enqueueMail(
      tx,
      row.recipient_email,
      unreadMessagesEmail({
        appUrl: this.options.appUrl,
        conversationId: row.conversation_id,
        senderCompany: summary.sender_company ?? 'A Forum API member',
        unreadCount: Number(summary.unread),
        newestBody: summary.newest_body,
        unsubscribeUrl: `${this.options.appUrl}/unsubscribe?token=${this.options.tokens.sign(row.recipient_id)}`,
      }),
    );
    await sql(
      tx,
      `insert into "unread_email_notice" ("user_id", "conversation_id", "covered_up_to", "queued_at") values (?, ?, ?, now())
       on conflict ("user_id", "conversation_id") do update set "covered_up_to" = excluded."covered_up_to", "queued_at" = excluded."queued_at"`,
      [row.recipient_id, row.conversation_id, summary.newest_created_at],
    );
    return true;
  }
}
