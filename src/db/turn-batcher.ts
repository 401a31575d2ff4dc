import type { EntityManager } from '@mikro-orm/postgresql';
import type { PendingWork } from '../shared/pending-work.js';

/** More items than this in one statement would only make their answers wait longer for the rest. */
const MAX_BATCH = 64;

/** A statement that does for many items at once what it does for one. */
export interface BatchedStatement<I, O> {
  /** The row an item's work locks: a batch holds one item per key. */
  keyOf(item: I): string;
  /**
   * Runs the statement for `items` (distinct keys) in one round trip and one transaction,
   * outcomes in the order of `items`. Each outcome must be what a statement of its own would
   * give, which holds when items of different keys share no row.
   */
  run(em: EntityManager, items: readonly I[]): Promise<O[]>;
}

interface Pending<I, O> {
  em: EntityManager;
  item: I;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

/**
 * Runs the items that arrive in one turn of the event loop through one statement (one round
 * trip, one commit) instead of one each. Requests that arrive together, many of them under load,
 * are handled in the same turn, so a busy server writes and commits far less per item, while a
 * lone item waits for nothing but the end of the current turn.
 *
 * A key has at most one statement in flight from this instance: a batch holds one item per key,
 * and an item whose key is being written waits for that statement to finish. So items of one key
 * run in the order they came, exactly as statements of their own would, and two batches never
 * wait for each other's rows (across instances, the statement itself must lock its rows in one
 * order). When a batch fails, each of its items runs on its own, so one item's fault (or a broken
 * connection) reaches its caller only. Inside a transaction nothing is batched: the item belongs
 * to that transaction. A batch runs on its first item's EntityManager, which outside a
 * transaction only lends it the connection pool. Every item is tracked in `work` until its
 * outcome is known, so a stopping instance does not close the pool under a batch.
 */
export class TurnBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private flushScheduled = false;
  /** Keys with a statement in flight. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly statement: BatchedStatement<I, O>,
    private readonly work: PendingWork,
  ) {}

  run(em: EntityManager, item: I): Promise<O> {
    if (em.isInTransaction()) return this.runAlone(em, item);
    return this.work.track(
      new Promise<O>((resolve, reject) => {
        this.queue.push({ em, item, resolve, reject });
        this.scheduleFlush();
      }),
    );
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiting: Pending<I, O>[] = [];
    let batch: Pending<I, O>[] = [];
    for (const pending of this.queue) {
      const key = this.statement.keyOf(pending.item);
      if (this.inFlight.has(key)) {
        waiting.push(pending);
        continue;
      }
      this.inFlight.add(key);
      batch.push(pending);
      if (batch.length === MAX_BATCH) {
        this.launch(batch);
        batch = [];
      }
    }
    this.queue = waiting;
    if (batch.length > 0) this.launch(batch);
  }

  private launch(batch: Pending<I, O>[]): void {
    void this.runBatch(batch).finally(() => {
      for (const pending of batch) this.inFlight.delete(this.statement.keyOf(pending.item));
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outcomes = await this.statement.run(
          batch[0]!.em,
          batch.map((pending) => pending.item),
        );
        batch.forEach((pending, index) => pending.resolve(outcomes[index]!));
        return;
      } catch {
        // Fall through: each item alone, so each caller gets its own outcome.
      }
    }
    await Promise.all(batch.map((pending) => this.runAlone(pending.em, pending.item).then(pending.resolve, pending.reject)));
  }

  private async runAlone(em: EntityManager, item: I): Promise<O> {
    const [outcome] = await this.statement.run(em, [item]);
    return outcome!;
  }
}
