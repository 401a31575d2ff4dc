import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App, type BuildAppOptions } from '../../src/app.js';
import { parseConfig, type Config, type EnvInput } from '../../src/env.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TestInbox } from './smtp.js';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> & { code?: string } }>;
}

export interface GqlOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: App;
  config: Config;
  url: string;
  wsUrl: string;
  port: number;
  db: TestDatabase;
  inbox: TestInbox;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: GqlOptions): Promise<GqlResult<T>>;
  stop(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-keys';

export interface TestAppOptions {
  env?: EnvInput;
  /** Reuse a database (a second instance of the same deployment). */
  db?: TestDatabase;
  inbox?: TestInbox;
  /** Passed to buildApp (tests that read the app's logs). */
  buildOptions?: BuildAppOptions;
}

/** Starts the real app on port 0 with a fresh database and a real SMTP server. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const inbox = options.inbox ?? new TestInbox();
  if (!options.inbox) await inbox.start();
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: TEST_SECRET,
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: db.kind === 'embedded' ? '4' : '10',
    SMTP_URL: inbox.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-test-')),
    EMAIL_COOLDOWN_SECONDS: '0',
    MAIL_POLL_MS: '200',
    MAIL_RETRY_BASE_MS: '100',
    // Tests sign in and register far more often than people; rate-limit tests set their own.
    RATE_LIMIT_LOGIN_PER_IP: '100000',
    RATE_LIMIT_REGISTER_PER_IP: '100000',
    RATE_LIMIT_REFRESH_PER_IP: '100000',
    // Test files share one Redis: each deployment (its database) keeps its keys apart.
    REDIS_KEY_PREFIX: `test:${createHash('sha256').update(db.url).digest('hex').slice(0, 12)}:`,
    RATE_LIMIT_RESET_PASSWORD_PER_IP: '100000',
    RATE_LIMIT_EMAIL_REQUESTS_PER_IP: '100000',
    // Every test client comes from 127.0.0.1; the caps have their own test.
    MAX_CONNECTIONS_PER_IP: '100000',
    ...options.env,
  });
  const app = await buildApp(config, options.buildOptions);
  const { port } = await app.start(0);
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    db,
    inbox,
    gql: (query, variables, gqlOptions) => gql(url, query, variables, gqlOptions),
    async stop() {
      await app.stop();
      if (!options.inbox) await inbox.stop();
      if (!options.db) await db.drop();
    },
  };
}

export async function gql<T>(url: string, query: string, variables?: Record<string, unknown>, options: GqlOptions = {}): Promise<GqlResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: response.status, ...body };
}

/** A unique email per call, so tests never collide. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(5).toString('hex')}@example.com`;

export const errorCode = (result: GqlResult<unknown>) => result.errors?.[0]?.extensions?.code;
