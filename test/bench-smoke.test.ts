import { describe, expect, it } from 'vitest';
import { runBench } from '../scripts/bench/bench.js';
import { WORKLOAD_IDS } from '../scripts/bench/options.js';

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  console.warn(
    'SKIPPED: the bench smoke needs a PostgreSQL server (DATABASE_URL); the embedded database is not what the bench measures. CI sets DATABASE_URL.',
  );
}

/**
 * Every bench workload runs for a second at a tiny scale, so `npm run bench` cannot rot. Only
 * that operations completed without errors is asserted; the goals are the bench's business
 * (timings on a shared CI machine say nothing).
 */
describe.skipIf(!serverUrl)('npm run bench (smoke: each workload for about a second)', () => {
  it('runs every workload and its baseline with operations completed and no errors', async () => {
    const report = await runBench(
      {
        databaseUrl: serverUrl!,
        seconds: 1,
        workloads: [...WORKLOAD_IDS],
        connections: 4,
        probeConnections: 2,
        probeRate: 20,
        chatPairs: 4,
        idleSockets: 40,
        threadpoolSize: undefined,
        poolMax: 4,
        logLevel: 'warn',
        cpuProfileDir: undefined,
        heapSnapshotDir: undefined,
        throttle: 40,
        resultsDir: null,
      },
      { warmupSeconds: 0, log: () => {} },
    );
    expect(report.workloads.map((workload) => workload.id)).toEqual([...WORKLOAD_IDS]);
    for (const workload of report.workloads) {
      expect(workload.rows.length, workload.id).toBeGreaterThan(0);
      for (const measurement of workload.measurements) {
        const where = `${workload.id} ${measurement.name}: ${measurement.sampleErrors.join(' | ')}`;
        expect(measurement.ops, where).toBeGreaterThan(0);
        expect(measurement.errors, where).toBe(0);
      }
    }
    expect(report.appPeakRss).toBeGreaterThan(0);
  }, 120_000);
});
