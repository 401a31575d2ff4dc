import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const positiveSeconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => value || undefined)
  .pipe(z.url().optional())
  .optional();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().trim().min(1).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optionalUrl,
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  REDIS_URL: optionalUrl,
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('forum-api'),
  JWT_AUDIENCE: z.string().min(1).default('forum-api'),
  ACCESS_TOKEN_TTL: positiveSeconds(300),
  REFRESH_TOKEN_TTL: positiveSeconds(86_400),
  ACTIVATION_TOKEN_TTL: positiveSeconds(86_400),
  PASSWORD_RESET_TOKEN_TTL: positiveSeconds(1_800),
  REFRESH_REUSE_GRACE_SECONDS: seconds(10),
  /** Whether a refresh waits for its WAL flush (false: the rotation commits asynchronously; see session.repository.ts). */
  REFRESH_DURABLE_COMMIT: z.stringbool().default(false),
  SESSION_MAX_AGE: positiveSeconds(2_592_000),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  SMTP_URL: optionalUrl,
  MAIL_FROM: z.string().min(3).default('Forum API <no-reply@forum.local>'),
  MAIL_RETRY_BASE_MS: z.coerce.number().int().positive().default(2_000),
  MAIL_POLL_MS: z.coerce.number().int().positive().default(5_000),
  /** Unset: `http://localhost:<PORT>`, so links follow the port the server listens on. */
  APP_URL: z.url().optional(),
  EMAIL_COOLDOWN_SECONDS: seconds(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHIQL: z.stringbool().optional(),
  TOKEN_FLUSH_INTERVAL_SECONDS: positiveSeconds(3_600),
  // Abuse limits (API.md "Rate limits"); a limit of 0 turns that rule off.
  RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL: seconds(10),
  RATE_LIMIT_LOGIN_PER_IP: seconds(300),
  RATE_LIMIT_LOGIN_WINDOW_SECONDS: positiveSeconds(900),
  RATE_LIMIT_REGISTER_PER_IP: seconds(30),
  RATE_LIMIT_REGISTER_WINDOW_SECONDS: positiveSeconds(3_600),
  RATE_LIMIT_REFRESH_PER_IP: seconds(1_200),
  RATE_LIMIT_REFRESH_WINDOW_SECONDS: positiveSeconds(900),
  RATE_LIMIT_TYPING_PER_SECOND: seconds(10),
  TYPING_TIMEOUT_SECONDS: positiveSeconds(5),
  RATE_LIMIT_RESET_PASSWORD_PER_IP: seconds(30),
  RATE_LIMIT_RESET_PASSWORD_WINDOW_SECONDS: positiveSeconds(900),
  RATE_LIMIT_EMAIL_REQUESTS_PER_IP: seconds(30),
  RATE_LIMIT_EMAIL_REQUESTS_WINDOW_SECONDS: positiveSeconds(3_600),
  /** Password hashes that may wait for a hashing thread; beyond it RATE_LIMITED at once. Unset: sized from the cores. */
  HASH_QUEUE_MAX: z.coerce.number().int().positive().optional(),
  /** Password hashes at once. Unset: one fewer than the cores and than libuv's 4 threads. */
  HASH_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Open WebSocket connections and SSE streams at once, per user and per client address (0: no cap). */
  MAX_CONNECTIONS_PER_USER: seconds(20),
  MAX_CONNECTIONS_PER_IP: seconds(200),
  /** Bearer token for GET /metrics in production (unset there: 404). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Behind a reverse proxy, take the client address from X-Forwarded-For (its last hop). */
  TRUST_PROXY: z.stringbool().default(false),
  INTROSPECTION: z.stringbool().optional(),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(100_000),
  REVOCATION_SYNC_SECONDS: z.coerce.number().positive().default(5),
  /** The built web client (`npm run build:web`), served at /app. */
  WEB_CLIENT_DIR: z.string().min(1).default('web/dist'),

  /** Prefix of every Redis key the app writes (not pub/sub channels); instances of one deployment share it. */
  REDIS_KEY_PREFIX: z.string().min(1).default('forum:'),
  // Presence and unread-message emails (API.md "Presence", "Notifications"); fractions allowed.
  PRESENCE_GRACE_SECONDS: z.coerce.number().nonnegative().default(5),
  PRESENCE_TTL_SECONDS: z.coerce.number().positive().default(30),
  UNREAD_EMAIL_DELAY_SECONDS: z.coerce.number().nonnegative().default(600),
  UNREAD_EMAIL_SCAN_SECONDS: z.coerce.number().positive().default(5),
  UNREAD_EMAIL_BATCH: z.coerce.number().int().positive().default(200),
});

export type EnvInput = Record<string, string | undefined>;
type ParsedEnv = z.infer<typeof envSchema>;

/** Every variable the app reads; .env.example lists each one (test/env-example.test.ts). */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as (keyof ParsedEnv)[];

/** Read-only, and frozen at run time: settings are decided once, at start. */
export type Config = Readonly<
  Omit<ParsedEnv, 'JWT_SECRET' | 'GRAPHIQL' | 'INTROSPECTION' | 'APP_URL'> & {
    JWT_SECRET: string;
    GRAPHIQL: boolean;
    INTROSPECTION: boolean;
    APP_URL: string;
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses configuration from an env-like object. Pure apart from the development JWT secret,
 * which is generated once and kept under DATA_DIR so restarts do not sign everyone out.
 */
export function parseConfig(source: EnvInput): Config {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || 'env'}: ${issue.message}`));
  }
  const env = result.data;
  const production = env.NODE_ENV === 'production';
  if (production && !env.JWT_SECRET) {
    throw new ConfigError(['JWT_SECRET: required when NODE_ENV=production (at least 32 random characters)']);
  }
  return Object.freeze({
    ...env,
    JWT_SECRET: env.JWT_SECRET ?? developmentSecret(env.DATA_DIR),
    GRAPHIQL: env.GRAPHIQL ?? !production,
    INTROSPECTION: env.INTROSPECTION ?? !production,
    APP_URL: (env.APP_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
  });
}

function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The only reader of process.env: prints every problem and exits on bad configuration. */
export function loadConfig(source: EnvInput = process.env): Config {
  try {
    return parseConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
