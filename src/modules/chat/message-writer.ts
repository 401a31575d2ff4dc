import type { EntityManager } from '@mikro-orm/postgresql';
import { storeMessages, type MessageToStore, type StoredMessage } from './chat.repository.js';

interface Pending {
  em: EntityManager;
  message: MessageToStore;
  resolve(outcome: StoredMessage | null): void;
  reject(error: unknown): void;
}

/** More rows than this in one statement would only make its answer wait longer for the rest. */
const MAX_BATCH = 64;

/**
 * Stores the messages sent in one turn of the event loop in one statement (one round trip, one
 * commit) instead of one each. A socket's frames that arrive together, and the sends of many
 * sockets under load, are handled in the same turn, so a busy server writes and commits far
 * less per message, while a lone message waits for nothing but the end of the current turn.
 *
 * A conversation has at most one statement in flight from this instance: a batch holds one
 * message per conversation, and a message for a conversation that is being written waits for
 * that statement to commit. So every outcome is exactly what a statement of its own would give
 * (see `storeMessages`), a conversation's messages are stored in the order they were sent, and
 * two batches never wait for each other's rows (they share no conversation; across instances
 * `storeMessages` locks conversations in one order). When a batch fails, each of its messages is
 * stored on its own, so one message's fault (or a broken connection) is reported to its sender
 * only. Inside a transaction there is no batching: the message belongs to that transaction.
 */
export class MessageWriter {
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** Conversations with a statement in flight. */
  private readonly writing = new Set<string>();

  store(em: EntityManager, message: MessageToStore): Promise<StoredMessage | null> {
    if (em.isInTransaction()) return storeOne(em, message);
    return new Promise((resolve, reject) => {
      this.queue.push({ em, message, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiting: Pending[] = [];
    let batch: Pending[] = [];
    for (const item of this.queue) {
      if (this.writing.has(item.message.conversationId)) {
        waiting.push(item);
        continue;
      }
      this.writing.add(item.message.conversationId);
      batch.push(item);
      if (batch.length === MAX_BATCH) {
        this.launch(batch);
        batch = [];
      }
    }
    this.queue = waiting;
    if (batch.length > 0) this.launch(batch);
  }

  private launch(batch: Pending[]): void {
    void this.writeBatch(batch).finally(() => {
      for (const item of batch) this.writing.delete(item.message.conversationId);
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outcomes = await storeMessages(
          batch[0]!.em,
          batch.map((item) => item.message),
        );
        batch.forEach((item, index) => item.resolve(outcomes[index] ?? null));
        return;
      } catch {
        // Fall through: each message alone, so each sender gets its own outcome.
      }
    }
    await Promise.all(batch.map((item) => storeOne(item.em, item.message).then(item.resolve, item.reject)));
  }
}

async function storeOne(em: EntityManager, message: MessageToStore): Promise<StoredMessage | null> {
  const [outcome] = await storeMessages(em, [message]);
  return outcome ?? null;
}
