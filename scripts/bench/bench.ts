import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createBenchDatabase } from './bench-database.js';
import { BenchContext, appEnvironment } from './context.js';
import { machineCores, type BenchOptions, type WorkloadId } from './options.js';
import { ServerProcess } from './processes.js';
import type { BenchReport, WorkloadResult } from './report.js';
import { runW1 } from './workloads/w1-me.js';
import { runW2 } from './workloads/w2-login.js';
import { runW3 } from './workloads/w3-refresh.js';
import { runW4 } from './workloads/w4-handshake.js';
import { runW5 } from './workloads/w5-chat.js';
import { runW6 } from './workloads/w6-idle.js';

const WORKLOADS: Record<WorkloadId, (context: BenchContext) => Promise<WorkloadResult>> = {
  W1: runW1,
  W2: runW2,
  W3: runW3,
  W4: runW4,
  W5: runW5,
  W6: runW6,
};

export interface RunSettings {
  /** Unmeasured warm-up before each measured phase, seconds. */
  warmupSeconds: number;
  log: (line: string) => void;
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Creates a bench database, starts the app in its own process, runs the chosen workloads one
 * after the other (each with its baseline), and tears everything down again.
 */
export async function runBench(options: BenchOptions, settings: RunSettings): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const usersPerRole = Math.max(options.chatPairs, options.connections);
  settings.log(`creating a bench database with ${usersPerRole} startups and ${usersPerRole} investors…`);
  const db = await createBenchDatabase(options.databaseUrl, usersPerRole);
  const dataDir = mkdtempSync(join(tmpdir(), 'forum-bench-'));
  let app: ServerProcess | undefined;
  try {
    app = await ServerProcess.spawn({
      mode: 'app',
      label: 'app',
      appEnv: appEnvironment(options, db.url, dataDir),
      threadpoolSize: options.threadpoolSize,
      cpuProfileDir: options.cpuProfileDir,
    });
    const context = new BenchContext(options, db, app, settings.warmupSeconds, settings.log);
    const workloads: WorkloadResult[] = [];
    let appPeakRss = 0;
    for (const id of options.workloads) {
      settings.log(`${id}…`);
      const result = await WORKLOADS[id](context);
      appPeakRss = Math.max(appPeakRss, result.appPeakRss ?? 0);
      workloads.push(result);
    }
    const cpu = cpus()[0];
    return {
      startedAt,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        cpu: cpu?.model ?? 'unknown',
        cores: machineCores(),
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        os: release(),
        postgres: await postgresVersion(db.url),
        commit: gitCommit(),
      },
      settings: {
        seconds: options.seconds,
        warmupSeconds: settings.warmupSeconds,
        connections: options.connections,
        probeConnections: options.probeConnections,
        probeRate: options.probeRate,
        chatPairs: options.chatPairs,
        idleSockets: options.idleSockets,
        threadpoolSize: options.threadpoolSize ?? process.env.UV_THREADPOOL_SIZE ?? 'default',
        poolMax: options.poolMax,
        logLevel: options.logLevel,
        throttle: options.throttle ?? null,
      },
      workloads,
      appPeakRss: appPeakRss || null,
    };
  } finally {
    await app?.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
