export interface SocketLifecycleListener {
  /** The user's first authenticated socket on this instance opened. */
  firstOpened?(userId: string): void;
  /** The user's last authenticated socket on this instance closed. */
  lastClosed?(userId: string): void;
}

/**
 * Counts each user's open authenticated sockets on this instance, and tells listeners when a
 * user's first one opens and their last one closes (typing ends then; presence builds on it).
 * The WebSocket server reports; it knows nothing of who listens.
 */
export class SocketLifecycle {
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<SocketLifecycleListener>();

  opened(userId: string): void {
    const count = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, count);
    if (count === 1) this.emit((listener) => listener.firstOpened?.(userId));
  }

  closed(userId: string): void {
    const count = this.counts.get(userId);
    if (count === undefined) return;
    if (count > 1) return void this.counts.set(userId, count - 1);
    this.counts.delete(userId);
    this.emit((listener) => listener.lastClosed?.(userId));
  }

  /** Open sockets of `userId` on this instance. */
  socketsOf(userId: string): number {
    return this.counts.get(userId) ?? 0;
  }

  listen(listener: SocketLifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(call: (listener: SocketLifecycleListener) => void): void {
    // One listener's failure must not keep the others from hearing, nor break the socket server.
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch {
        // listeners log their own failures
      }
    }
  }
}
