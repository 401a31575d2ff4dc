// A wrong Node stops here, with one line, before anything else is evaluated.
import './node-version.js';
import { buildApp, type App } from './app.js';
import { embeddedDataDir, initORM, migrate, MigrationFailedError, startEmbeddedPostgres, type EmbeddedPostgres } from './db/db.js';
import { loadConfig, type Config } from './env.js';
import { createLogger } from './logger.js';
import { warmPages } from './http/pages.js';
import { seedReferenceData } from './db/seeders/reference-data.js';
import { listenFailure, logStartup } from './startup-report.js';
import { startMemoryReducer, type MemoryReducer } from './memory-reducer.js';

/** Past this, a stop that hangs (a stuck request, an unreachable database) exits anyway, with 1. */
const STOP_DEADLINE_MS = 9_000;

// Replaced once, when the embedded database decides where the data lives.
let config: Config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);

let embedded: EmbeddedPostgres | undefined;
let app: App | undefined;
let memoryReducer: MemoryReducer | undefined;
let stopping = false;

/** Stops whatever has started so far; a signal during start-up stops it just the same. */
async function stop(exitCode: number): Promise<never> {
  stopping = true;
  const force = setTimeout(() => {
    logger.error({ afterMs: STOP_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
    process.exit(1);
  }, STOP_DEADLINE_MS);
  force.unref();
  try {
    memoryReducer?.stop();
    await app?.stop();
    await embedded?.stop();
  } catch (error) {
    logger.error({ err: error }, 'error while shutting down');
    exitCode ||= 1;
  }
  clearTimeout(force);
  process.exit(exitCode);
}

// `npm start` execs node, so these reach the server whether sent to npm's PID or to node's.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    logger.info({ signal }, 'shutting down');
    void stop(0);
  });
}

try {
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(embeddedDataDir(config.DATA_DIR));
    databaseUrl = embedded.url;
    config = Object.freeze({ ...config, DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: Math.min(config.DATABASE_POOL_MAX, 4) });
    logger.warn(
      { dataDir: embeddedDataDir(config.DATA_DIR) },
      'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite); set DATABASE_URL for production',
    );
  }

  const orm = await initORM(databaseUrl);
  try {
    await migrate(orm);
    await seedReferenceData(orm.em.fork());
  } finally {
    await orm.close(true);
  }

  if (!stopping) {
    app = await buildApp(config, { logger });
    const address = await app.start().catch((error: unknown) => {
      const line = listenFailure(error, config);
      if (!line) throw error;
      // One line for a port in use, not a stack trace.
      logger.fatal(line);
      return stop(1);
    });
    logStartup(logger, config, { address, embeddedDir: embedded ? embeddedDataDir(config.DATA_DIR) : undefined });
    warmPages(config.GRAPHIQL)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not precompress the static pages; they are compressed on first request'))
      // Start-up garbage (the migration run, the page compression) is gone by now.
      .finally(() => {
        if (!stopping) memoryReducer = startMemoryReducer(logger);
      });
  }
} catch (error) {
  if (error instanceof MigrationFailedError) {
    // One line an operator can act on: which migration, and what the database said.
    logger.fatal({ migration: error.migration, err: error.databaseError }, error.message);
    console.error(`Forum API did not start: ${error.message}`);
  } else {
    logger.fatal({ err: error }, 'Forum API did not start');
  }
  if (!stopping) await stop(1);
}
