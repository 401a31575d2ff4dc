import { randomBytes } from 'node:crypto';
import { loginAll, type Tokens } from './api.js';
import type { BenchDatabase, BenchUser } from './bench-database.js';
import type { BenchOptions } from './options.js';
import { ServerProcess } from './processes.js';
import type { ServerMode } from './protocol.js';

/**
 * The app's configuration under load: production mode, real PostgreSQL, in-process pub/sub,
 * and limits raised so that the limiter never answers instead of the code being measured.
 */
export function appEnvironment(options: BenchOptions, databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: String(options.poolMax),
    LOG_LEVEL: options.logLevel,
    DATA_DIR: dataDir,
    // Long enough that no token expires during a run, short runs and long alike.
    ACCESS_TOKEN_TTL: '7200',
    RATE_LIMIT_LOGIN_PER_IP: '10000000',
    RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL: '0',
    RATE_LIMIT_REFRESH_PER_IP: '10000000',
    RATE_LIMIT_REGISTER_PER_IP: '10000000',
    // W6 holds thousands of sockets from one address.
    MAX_CONNECTIONS_PER_USER: '0',
    MAX_CONNECTIONS_PER_IP: '0',
  };
}

/** What the workloads share: options, the database, the app's process and signed-in users. */
export class BenchContext {
  private readonly tokens = new Map<string, Tokens>();

  constructor(
    readonly options: BenchOptions,
    readonly db: BenchDatabase,
    readonly app: ServerProcess,
    /** Warm-up before each measured phase, seconds (0 in the smoke test). */
    readonly warmupSeconds: number,
    private readonly log: (line: string) => void,
  ) {}

  get appUrl(): string {
    return `http://127.0.0.1:${this.app.port}`;
  }

  say(line: string): void {
    this.log(line);
  }

  /** Access and refresh tokens of each user, signing in (once per user) those not signed in yet. */
  async signedIn(users: readonly BenchUser[]): Promise<Tokens[]> {
    const missing = users.filter((user) => !this.tokens.has(user.id));
    const fresh = await loginAll(this.appUrl, missing);
    missing.forEach((user, i) => this.tokens.set(user.id, fresh[i]!));
    return users.map((user) => this.tokens.get(user.id)!);
  }

  /** New sessions (a login each), never shared with other workloads: refresh chains consume them. */
  freshSessions(users: readonly BenchUser[]): Promise<Tokens[]> {
    return loginAll(this.appUrl, users);
  }

  /** A baseline server in its own process, stopped when `use` returns. */
  async withBaseline<T>(mode: Exclude<ServerMode, 'app'>, use: (server: ServerProcess) => Promise<T>): Promise<T> {
    const server = await ServerProcess.spawn({
      mode,
      label: mode,
      threadpoolSize: this.options.threadpoolSize,
      cpuProfileDir: this.options.cpuProfileDir,
    });
    try {
      return await use(server);
    } finally {
      await server.stop();
    }
  }
}
