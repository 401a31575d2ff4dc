import pg from 'pg';
import { initORM, migrate } from '../../db/db.js';
import { seedReferenceData } from '../../db/seeders/reference-data.js';
import { restoreDeferredIndexes } from './deferred-indexes.js';
import { DjangoSource } from './django-source.js';
import { importChat } from './import-chat.js';
import { ImportReport } from './import-report.js';
import { importUsers } from './import-users.js';
import { silentProgress, type Progress } from './progress.js';
import { mapIndustries, mapLocations } from './reference-mapping.js';
import { ImportTarget } from './target.js';

export interface DjangoImportOptions {
  /** The original's PostgreSQL database. */
  sourceUrl: string;
  /** This platform's database. */
  targetUrl: string;
  /** Folder with `rooms.jsonl` and `messages.jsonl` from mongoexport; no chat import without it. */
  chatDir?: string;
  dryRun: boolean;
  /** Rows per batch, and per transaction. */
  batchSize?: number;
  /**
   * The target is the embedded database (PGlite behind a socket): it runs every connection on one
   * backend and does not speak `COPY FROM STDIN`, so messages are written on one connection with
   * multi-row inserts there. Elsewhere they go in with COPY on two connections. Unset: asked of
   * the target's server.
   */
  embeddedTarget?: boolean;
  progress?: Progress;
}

export const DEFAULT_BATCH_SIZE = 5_000;

/**
 * Brings the Django original's accounts, profiles and chat over: users first (with their
 * profiles, batch by batch), then rooms, messages and read marks. Every record is either
 * imported or reported; a re-run skips what it already imported and updates what changed.
 */
export async function runDjangoImport(options: DjangoImportOptions): Promise<ImportReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const progress = options.progress ?? silentProgress;
  const report = new ImportReport(options.dryRun);
  await prepareTarget(options.targetUrl, options.dryRun);

  const embedded = options.embeddedTarget ?? (await isPglite(options.targetUrl));
  const sourceClient = new pg.Client({ connectionString: options.sourceUrl });
  const targetClient = new pg.Client({ connectionString: options.targetUrl });
  const writerClient = embedded || options.dryRun ? targetClient : new pg.Client({ connectionString: options.targetUrl });
  await sourceClient.connect();
  try {
    const target = new ImportTarget(targetClient, options.dryRun, { writer: writerClient, copy: !embedded });
    try {
      await targetClient.connect();
      if (writerClient !== targetClient) await writerClient.connect();
      const source = new DjangoSource(sourceClient);
      await target.prepare();
      // An earlier run stopped during a first import of messages: its indexes come back first.
      await restoreDeferredIndexes(target);
      await source.beginSnapshot();
      const timed = async <T>(phase: string, rows: () => number, run: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const result = await run();
        const used = process.cpuUsage(cpu);
        report.phases[phase] = {
          seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
          cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(3)),
          rows: rows(),
        };
        return result;
      };
      const reference = await timed(
        'reference data',
        () => 0,
        async () => {
          const industries = await mapIndustries(target, await source.industryNames(), report);
          const locations = await mapLocations(target, await source.locationNames(), report);
          return { industries, locations };
        },
      );
      const countOf = (kind: 'user' | 'message') => () => {
        const c = report.counts[kind];
        return c.imported + c.updated + c.unchanged + c.skipped;
      };
      const users = await timed('users', countOf('user'), () => importUsers(source, target, report, progress, batchSize, reference));
      await source.endSnapshot();
      if (options.chatDir) {
        const chatDir = options.chatDir;
        await timed('chat', countOf('message'), () => importChat(chatDir, target, report, progress, batchSize, users));
      }
    } finally {
      // An interrupted run still commits the batch it already sent, or rolls it back whole.
      await target.settle().catch(() => {});
      await Promise.all([targetClient.end(), writerClient === targetClient ? undefined : writerClient.end()]);
    }
  } finally {
    await sourceClient.end();
  }
  return report;
}

/**
 * Brings the schema up to date as `npm start` would. A dry run writes nothing, so it needs a
 * database that is already migrated (it refuses otherwise).
 */
/**
 * Whether the target is PGlite behind its socket (the embedded default, also what `npm test`
 * uses without DATABASE_URL): it takes neither COPY nor a second writer, so the import then uses
 * multi-row upserts on one connection. Asked of the server itself, so any URL pointing at PGlite
 * is recognised, not only the one the CLI started.
 */
async function isPglite(targetUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: targetUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('select version()');
    return rows[0]?.version.includes('PGlite') ?? false;
  } finally {
    await client.end();
  }
}

async function prepareTarget(targetUrl: string, dryRun: boolean): Promise<void> {
  const orm = await initORM(targetUrl, 1);
  try {
    if (dryRun) {
      const pending = await orm.migrator.getPending();
      if (pending.length > 0)
        throw new Error(
          `The target database has ${pending.length} pending migration(s); a dry run writes nothing, so run \`npm start\` once (or the import without --dry-run) first.`,
        );
      return;
    }
    await migrate(orm);
    await seedReferenceData(orm.em.fork());
  } finally {
    await orm.close(true);
  }
}
