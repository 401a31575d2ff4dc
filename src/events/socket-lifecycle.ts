/** What listeners hear when an authenticated socket opens or closes on this instance. */
export interface SocketLifecycleEvent {
  userId: string;
  sessionId: string;
  connectionId: string;
}

export interface SocketLifecycleListener {
  /** An authenticated socket was accepted; `firstOfUser` when the user had none open here. */
  opened?(event: SocketLifecycleEvent & { firstOfUser: boolean }): void;
  /** An accepted socket closed; `lastOfUser` when the user has none left open here. */
  closed?(event: SocketLifecycleEvent & { lastOfUser: boolean }): void;
}

/**
 * The authenticated sockets of this instance, by user, for features that care who is
 * connected (presence, typing). The WebSocket server reports opens and closes; listeners hear
 * them synchronously and must not throw (a failing listener is reported, never propagated).
 */
export class SocketLifecycle {
  private readonly listeners = new Set<SocketLifecycleListener>();
  private readonly socketsByUser = new Map<string, number>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Adds a listener; returns the function that removes it. */
  listen(listener: SocketLifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Users with at least one authenticated socket open on this instance. */
  connectedUsers(): string[] {
    return [...this.socketsByUser.keys()];
  }

  isConnected(userId: string): boolean {
    return this.socketsByUser.has(userId);
  }

  opened(event: SocketLifecycleEvent): void {
    const count = this.socketsByUser.get(event.userId) ?? 0;
    this.socketsByUser.set(event.userId, count + 1);
    this.notify((listener) => listener.opened?.({ ...event, firstOfUser: count === 0 }));
  }

  closed(event: SocketLifecycleEvent): void {
    const count = this.socketsByUser.get(event.userId);
    if (count === undefined) return;
    if (count > 1) this.socketsByUser.set(event.userId, count - 1);
    else this.socketsByUser.delete(event.userId);
    this.notify((listener) => listener.closed?.({ ...event, lastOfUser: count === 1 }));
  }

  private notify(call: (listener: SocketLifecycleListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
