import type { EnvInput } from '../../src/env.js';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';

/**
 * Every background worker's period, far beyond any test: the outbox poll, the revocation
 * re-sync, the expired-token flush and the unread-email scan then never run on their own.
 */
export const QUIET_WORKERS: EnvInput = {
  MAIL_POLL_MS: '3600000',
  REVOCATION_SYNC_SECONDS: '3600',
  TOKEN_FLUSH_INTERVAL_SECONDS: '3600',
  UNREAD_EMAIL_SCAN_SECONDS: '3600',
};

/**
 * The outbox still drains once at start and after each commit that queued mail (so sign-ups
 * through a counted app get their emails): its statements name its table, and are not counted.
 */
const OUTBOX_STATEMENT = /"mail_outbox"/;

/** The statements an app ran, oldest first, since it started or since `clear()`. */
export class StatementLog {
  private readonly recorded: string[] = [];

  readonly record = (sql: string): void => {
    if (!OUTBOX_STATEMENT.test(sql)) this.recorded.push(sql.trim());
  };

  get all(): readonly string[] {
    return this.recorded;
  }

  /** Those matching `pattern`. */
  matching(pattern: RegExp): string[] {
    return this.recorded.filter((sql) => pattern.test(sql));
  }

  clear(): void {
    this.recorded.length = 0;
  }

  /** The statements `run` caused (nothing else runs on a counted app). */
  async during(run: () => Promise<unknown>): Promise<string[]> {
    const from = this.recorded.length;
    await run();
    return this.recorded.slice(from);
  }
}

export type CountedApp = TestApp & { statements: StatementLog };

/**
 * An app whose every statement belongs to the test's requests and events: background workers
 * idle, statements recorded from the moment it listens. Pass `db` and `inbox` of another app to
 * count a second instance of its deployment (set-up traffic then stays on the first).
 */
export async function startCountedApp(options: TestAppOptions = {}): Promise<CountedApp> {
  const statements = new StatementLog();
  const app = await startTestApp({
    ...options,
    env: { ...options.env, ...QUIET_WORKERS },
    buildOptions: { ...options.buildOptions, onQuery: statements.record },
  });
  // Loading the revoked sessions is part of starting, not of any test.
  statements.clear();
  return Object.assign(app, { statements });
}
