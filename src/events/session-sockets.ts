/** graphql-ws's code for a refused connection (`CloseCode.Forbidden`); API.md fixes it. */
export const REFUSED_CLOSE_CODE = 4403;

/** What the registry needs of a socket: `ws`'s WebSocket fits. */
export interface ClosableSocket {
  close(code: number, reason: string): void;
}

interface Entry {
  sessionId: string;
  timer: NodeJS.Timeout | undefined;
}

// setTimeout fires at once beyond 2^31-1 ms; longer waits are taken in steps.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The open sockets of each session, so that a revocation heard from any instance closes them,
 * and each socket closes when its access token expires.
 */
export class SessionSockets<S extends ClosableSocket = ClosableSocket> {
  private readonly bySession = new Map<string, Set<S>>();
  private readonly entries = new Map<S, Entry>();

  constructor(private readonly closeCode: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Tracks `socket` under its session and closes it with 'token expired' at `expiresAt`. */
  add(socket: S, sessionId: string, expiresAt: Date): void {
    this.remove(socket);
    const entry: Entry = { sessionId, timer: undefined };
    this.entries.set(socket, entry);
    let sockets = this.bySession.get(sessionId);
    if (!sockets) this.bySession.set(sessionId, (sockets = new Set()));
    sockets.add(socket);
    const schedule = () => {
      const wait = expiresAt.getTime() - Date.now();
      if (wait <= 0) return this.close(socket, 'token expired');
      entry.timer = setTimeout(schedule, Math.min(wait, MAX_TIMER_MS));
      entry.timer.unref();
    };
    schedule();
  }

  /** Moves a tracked socket's expiry to `expiresAt`; false when it is no longer tracked (closed). */
  renew(socket: S, expiresAt: Date): boolean {
    const entry = this.entries.get(socket);
    if (!entry) return false;
    this.add(socket, entry.sessionId, expiresAt);
    return true;
  }

  remove(socket: S): void {
    const entry = this.entries.get(socket);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(socket);
    const sockets = this.bySession.get(entry.sessionId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.bySession.delete(entry.sessionId);
  }

  /** Closes every socket of these sessions; returns how many were closed. */
  closeSessions(sessionIds: readonly string[], reason: string): number {
    let closed = 0;
    for (const sessionId of sessionIds) {
      for (const socket of [...(this.bySession.get(sessionId) ?? [])]) {
        this.close(socket, reason);
        closed += 1;
      }
    }
    return closed;
  }

  private close(socket: S, reason: string): void {
    this.remove(socket);
    socket.close(this.closeCode, reason);
  }
}
