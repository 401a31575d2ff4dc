// `npm run import:django -- --from <postgres URL of the Django database> [--chat-dir <dir>]
// [--dry-run] [--report <file>] [--accept-warnings] [--batch-size N]`: imports the Django
// original's users, profiles and chat into the configured database (DATABASE_URL, or the
// embedded one under DATA_DIR while the server is stopped). README "Moving from the Django original".
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { embeddedDataDir, startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/db.js';
import { loadConfig } from '../src/env.js';
import { DEFAULT_BATCH_SIZE, runDjangoImport } from '../src/modules/migration-import/django-import.js';
import { streamProgress } from '../src/modules/migration-import/progress.js';

const USAGE = `usage: npm run import:django -- --from <postgres URL> [--chat-dir <dir with rooms.jsonl and messages.jsonl>]
                              [--dry-run] [--report <file.json>] [--accept-warnings] [--batch-size N]`;

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    'chat-dir': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    report: { type: 'string' },
    'accept-warnings': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || !values.from) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 1);
}
const batchSize = values['batch-size'] ? Number(values['batch-size']) : DEFAULT_BATCH_SIZE;
if (!Number.isInteger(batchSize) || batchSize < 1) {
  console.error(`--batch-size must be a positive integer.\n${USAGE}`);
  process.exit(1);
}

const config = loadConfig();
let embedded: EmbeddedPostgres | undefined;
if (!config.DATABASE_URL) {
  console.error(`DATABASE_URL is not set: importing into the embedded database under ${embeddedDataDir(config.DATA_DIR)} (stop the server first).`);
  embedded = await startEmbeddedPostgres(embeddedDataDir(config.DATA_DIR));
}
try {
  const report = await runDjangoImport({
    sourceUrl: values.from,
    targetUrl: config.DATABASE_URL ?? embedded!.url,
    ...(values['chat-dir'] ? { chatDir: values['chat-dir'] } : {}),
    dryRun: values['dry-run'],
    batchSize,
    // Unset, the importer asks the target whether it is PGlite (a DATABASE_URL may point at one too).
    embeddedTarget: embedded !== undefined ? true : undefined,
    progress: streamProgress(process.stderr),
  });
  // Every warning on its own line; notes (deliberate conversions) by kind, in full in --report.
  const notes = new Map<string, { count: number; example: string }>();
  for (const entry of report.entries) {
    const line = `${entry.kind} ${entry.sourceId}: [${entry.code}] ${entry.message}`;
    if (entry.severity === 'warning') console.log(`WARN  ${line}`);
    else {
      const key = `${entry.kind} ${entry.code}`;
      notes.set(key, { count: (notes.get(key)?.count ?? 0) + 1, example: notes.get(key)?.example ?? line });
    }
  }
  for (const { count, example } of notes.values()) console.log(`note  ${example}${count > 1 ? ` (and ${count - 1} more like it)` : ''}`);
  console.log('');
  console.log(report.summaryTable());
  for (const [phase, { seconds, cpuSeconds, rows }] of Object.entries(report.phases)) {
    if (rows > 0)
      console.log(
        `${phase}: ${rows.toLocaleString('en-US')} in ${seconds} s (${Math.round(rows / seconds).toLocaleString('en-US')}/s), importer CPU ${cpuSeconds} s`,
      );
  }
  if (values.report) {
    writeFileSync(values.report, `${JSON.stringify(report.toJSON(), null, 2)}\n`);
    console.log(`report written to ${values.report}`);
  }
  process.exitCode = report.warnings > 0 && !values['accept-warnings'] ? 2 : 0;
} catch (error) {
  console.error(`import failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
