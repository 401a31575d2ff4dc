/** Open connections allowed at once; 0 turns a cap off. */
export interface ConnectionCapSettings {
  perUser: number;
  perIp: number;
}

/**
 * Caps the long-lived connections (WebSocket sockets and SSE streams together) one user and one
 * address may hold open on this instance: each costs memory and a pub/sub listener, and without
 * a cap one token or one address could open them until the server falls over.
 */
export class ConnectionCaps {
  private readonly byUser = new Map<string, number>();
  private readonly byIp = new Map<string, number>();

  constructor(private readonly settings: ConnectionCapSettings) {}

  /** Takes a place for a new connection; returns its release, or null when a cap is reached. */
  acquire(userId: string, ip: string): (() => void) | null {
    const { perUser, perIp } = this.settings;
    if (perUser > 0 && (this.byUser.get(userId) ?? 0) >= perUser) return null;
    if (perIp > 0 && (this.byIp.get(ip) ?? 0) >= perIp) return null;
    increment(this.byUser, userId, 1);
    increment(this.byIp, ip, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      increment(this.byUser, userId, -1);
      increment(this.byIp, ip, -1);
    };
  }
}

function increment(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
