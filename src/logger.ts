import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces them wherever a log object holds them. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'variables.*',
];

/** What PostgreSQL errors carry (pg's DatabaseError, and MikroORM's exceptions copy it). */
interface DatabaseErrorFields {
  severity: string;
  code?: string;
  routine?: string;
}

const isDatabaseError = (value: unknown): value is Error & DatabaseErrorFields =>
  value instanceof Error && typeof (value as Partial<DatabaseErrorFields>).severity === 'string';

/** The database error behind `error`, if any (GraphQL errors wrap it as originalError). */
function databaseErrorIn(error: unknown): (Error & DatabaseErrorFields) | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    if (isDatabaseError(current)) return current;
    current = (current as { originalError?: unknown; cause?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A driver may write "<statement with values> - <PostgreSQL's message>" (MikroORM 6 with knex
 * did); only the latter is kept. MikroORM 7 gives PostgreSQL's message alone.
 */
const databaseMessage = (error: Error) => {
  const separator = error.message.lastIndexOf(' - ');
  return separator === -1 ? error.message : error.message.slice(separator + 3);
};

/**
 * Errors as pino logs them, except that a database error keeps only PostgreSQL's own message
 * and codes. The driver prefixes the message with the statement, its parameters filled in
 * (password hashes, message bodies, emails, token hashes), and `detail` can quote row values.
 */
function serializeError(error: unknown): unknown {
  const database = databaseErrorIn(error);
  if (!database) return pino.stdSerializers.err(error as Error);
  const message = databaseMessage(database);
  const frames = (error as Error).stack?.split('\n').filter((line) => line.trim().startsWith('at ')) ?? [];
  const fields = database as unknown as Record<string, unknown>;
  return {
    type: (error as Error).name,
    message,
    code: database.code,
    severity: database.severity,
    routine: database.routine,
    ...(typeof fields.table === 'string' ? { table: fields.table } : {}),
    ...(typeof fields.constraint === 'string' ? { constraint: fields.constraint } : {}),
    stack: frames.join('\n'),
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { service: 'forum-api' },
      serializers: { err: serializeError },
      hooks: {
        // `logger.error(error)` (Yoga logs so) would use the error's message, statement and all, as `msg`.
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          const database = databaseErrorIn(first);
          if (!database || typeof rest[0] === 'string') return method.apply(this, args);
          return method.call(this, { err: first }, databaseMessage(database));
        },
      },
    },
    destination,
  );
}

/** Query strings may hold `?token=`; logs only ever see the path. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const index = url.indexOf('?');
  return index === -1 ? url : `${url.slice(0, index)}?[redacted]`;
}
