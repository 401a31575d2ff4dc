import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, MikroORM, PostgreSqlDriver, type EntityManager, type LogContext, type LoggerOptions, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';
import { run } from './typed-sql.js';
import { ExclusiveQueryQueue, type SocketQueryQueue } from './embedded-query-queue.js';

export type ORM = MikroORM;

/** The embedded server multiplexes connections onto one PGlite backend; more buys nothing. */
export const EMBEDDED_MAX_CONNECTIONS = 8;

/** Receives the SQL of every statement the ORM runs (tests count them to catch N+1 queries). */
export type QueryListener = (sql: string) => void;

/** Hands each statement to a listener; `debug` stays off, so nothing is printed. */
class QueryListenerLogger extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly onQuery: QueryListener,
  ) {
    super(options);
  }

  override logQuery(context: { query: string } & LogContext): void {
    this.onQuery(context.query);
    super.logQuery(context);
  }
}

export function ormOptions(clientUrl: string, poolMax = 10, onQuery?: QueryListener): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      path: 'src/db/migrations',
      pathTs: 'src/db/migrations',
      emit: 'ts',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    // MikroORM 6 derived `on update cascade` on every foreign key from the default cascade;
    // 7 no longer does. Said here so the schema diff matches the migrations already written.
    schemaGenerator: { defaultUpdateRule: 'cascade' },
    pool: { min: 0, max: poolMax },
    // Empty nullable columns read as null, which the GraphQL types return as is (not undefined).
    forceUndefined: false,
    allowGlobalContext: false,
    debug: false,
    discovery: { warnWhenNoEntities: true },
    ...(onQuery ? { loggerFactory: (options: LoggerOptions) => new QueryListenerLogger(options, onQuery) } : {}),
  };
}

export async function initORM(clientUrl: string, poolMax?: number, onQuery?: QueryListener): Promise<ORM> {
  return MikroORM.init(ormOptions(clientUrl, poolMax, onQuery));
}

/** A migration that failed: its name and the database's error, for the one line main.ts prints. */
export class MigrationFailedError extends Error {
  constructor(
    readonly migration: string,
    readonly databaseError: unknown,
  ) {
    super(`migration ${migration} failed: ${databaseError instanceof Error ? databaseError.message : String(databaseError)}`, { cause: databaseError });
    this.name = 'MigrationFailedError';
  }
}

export async function migrate(orm: ORM): Promise<void> {
  // All pending migrations run in one transaction; the last one started is the one that failed.
  let current = '(before the first migration)';
  const onMigrating = ({ name }: { name: string }) => {
    current = name;
  };
  orm.migrator.on('migrating', onMigrating);
  try {
    await orm.migrator.up();
  } catch (error) {
    throw new MigrationFailedError(current, error);
  } finally {
    orm.migrator.off('migrating', onMigrating);
  }
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL compiled to WASM, served over the wire protocol so the app uses the same driver
 * as in production. `dataDir` undefined keeps everything in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: a server on PostgreSQL never pays for them in memory.
  const [{ PGlite }, { pg_trgm }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite-socket'),
  ]);
  // pg_trgm backs the profile search index; real PostgreSQL ships it in contrib.
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  // Connection handlers take the server's queue when they are made, so it is swapped before the first.
  const replaceable = server as unknown as { queryQueue?: SocketQueryQueue };
  if (!replaceable.queryQueue) throw new Error('@electric-sql/pglite-socket changed: its server has no queryQueue to replace (see embedded-query-queue.ts)');
  replaceable.queryQueue = new ExclusiveQueryQueue(db);
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export const embeddedDataDir = (dataDir: string) => join(dataDir, 'pglite');

/** Fails unless the database answers a trivial statement (the health check). */
export async function pingDatabase(em: EntityManager): Promise<void> {
  await run(em, 'select 1');
}
