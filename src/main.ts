// A wrong Node stops here, with one line, before anything else is evaluated.
import './node-version.js';
import { buildApp } from './app.js';
import { embeddedDataDir, initORM, migrate, startEmbeddedPostgres, type EmbeddedPostgres } from './db.js';
import { loadConfig } from './env.js';
import { createLogger } from './logger.js';
import { seedReferenceData } from './seeders/reference-data.js';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);

let embedded: EmbeddedPostgres | undefined;
if (!config.DATABASE_URL) {
  embedded = await startEmbeddedPostgres(embeddedDataDir(config.DATA_DIR));
  config.DATABASE_URL = embedded.url;
  config.DATABASE_POOL_MAX = Math.min(config.DATABASE_POOL_MAX, 4);
  logger.warn({ dataDir: embeddedDataDir(config.DATA_DIR) }, 'DATABASE_URL is not set: using the embedded PostgreSQL (PGlite); set DATABASE_URL for production');
}

const orm = await initORM(config.DATABASE_URL);
await migrate(orm);
await seedReferenceData(orm.em.fork());
await orm.close(true);

const app = await buildApp(config, { logger });
await app.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await app.stop();
    await embedded?.stop();
    clearTimeout(force);
    process.exit(0);
  });
}
