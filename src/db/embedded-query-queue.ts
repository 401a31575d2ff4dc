import type { PGlite } from '@electric-sql/pglite';

/** What pglite-socket's connection handlers ask of the server's query queue (0.2.17). */
export interface SocketQueryQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  getQueueLength(): number;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

interface Queued {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': ReadyForQuery outside a transaction block
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** The transaction status of the last ReadyForQuery among complete backend messages, or null without one. */
function lastReadyStatus(chunks: Uint8Array[]): number | null {
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let status: number | null = null;
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = view.getInt32(at + 1); // counts itself, not the type byte
    if (length < 4) break; // not a backend message: no status to read
    if (bytes[at] === READY_FOR_QUERY && at + 5 < bytes.length) status = bytes[at + 5]!;
    at += 1 + length;
  }
  return status;
}

/**
 * The embedded server's query queue, in place of pglite-socket's own. PGlite has one backend
 * session, shared by every connection; pglite-socket 0.2.17 takes turns between connections
 * message by message and keeps a connection's turn only inside a transaction block. Between a
 * Parse and its Sync outside one, another connection's messages got in: its BEGIN then opened a
 * transaction under the first one's statement, replies went to the wrong connection, and the
 * queue could wait forever for a connection that had gone idle (electric-sql/pglite#1046; the fix,
 * PR #977, is not released). Here a connection keeps the backend from its first message until
 * the backend says it is idle again (ReadyForQuery with status I), so extended-protocol exchanges,
 * transactions and COPY all reach the backend whole. A connection that goes away while it holds
 * the backend gets its exchange synced and its transaction rolled back, so the others go on.
 */
export class ExclusiveQueryQueue implements SocketQueryQueue {
  private readonly queue: Queued[] = [];
  /** The connection the backend serves until it is idle again. */
  private owner: number | null = null;
  private running: number | null = null;
  /** Connections that went away while they held, or were being served by, the backend. */
  private readonly gone = new Set<number>();
  private draining = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const queued = this.queue[i]!;
      if (queued.handlerId !== handlerId) continue;
      this.queue.splice(i, 1);
      queued.reject(new Error('Handler disconnected'));
    }
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId && this.running !== handlerId) return;
    this.gone.add(handlerId);
    await this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.owner !== null && this.gone.has(this.owner)) {
          this.gone.delete(this.owner);
          this.owner = null;
          await this.reset();
          continue;
        }
        const index = this.owner === null ? 0 : this.queue.findIndex((queued) => queued.handlerId === this.owner);
        if (index < 0 || index >= this.queue.length) return;
        const [next] = this.queue.splice(index, 1);
        await this.serve(next!);
      }
    } finally {
      this.draining = false;
    }
  }

  private async serve({ handlerId, message, onData, resolve, reject }: Queued): Promise<void> {
    this.running = handlerId;
    if (message[0] === TERMINATE) {
      // The connection ends; what it held is released as for one that went away.
      this.running = null;
      if (this.owner === handlerId) this.gone.add(handlerId);
      resolve(0);
      return;
    }
    const replies: Uint8Array[] = [];
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(message, {
          onRawData: (data) => {
            bytes += data.length;
            replies.push(data.slice());
            onData(data);
          },
        }),
      );
      resolve(bytes);
    } catch (error) {
      reject(error);
    } finally {
      this.running = null;
      const status = replies.length > 0 ? lastReadyStatus(replies) : null;
      // Until a reply says the backend is idle, the exchange or transaction is this connection's.
      this.owner = status === IDLE ? null : handlerId;
      if (this.gone.has(handlerId) && this.owner !== handlerId) this.gone.delete(handlerId);
    }
  }

  /** Ends whatever a departed connection left open: an unsynced exchange, then its transaction. */
  private async reset(): Promise<void> {
    await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
  }
}
