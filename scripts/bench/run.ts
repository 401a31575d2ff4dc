/**
 * `npm run bench`: the performance workloads of issue 7 against a real PostgreSQL, each next
 * to the baseline that marks its limit. See README "Performance" and `npm run bench -- --help`.
 */
import { runBench } from './bench.js';
import { parseOptions } from './options.js';
import { renderMeasurements, renderTable, writeReport } from './report.js';

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (!options) return 0;
  const report = await runBench(options, {
    warmupSeconds: Math.min(2, options.seconds / 5),
    log: (line) => console.log(line),
  });
  console.log(`\n${renderMeasurements(report)}\n`);
  console.log(renderTable(report));
  const machine = report.machine;
  console.log(`\n${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}`);
  if (options.resultsDir) console.log(`results: ${writeReport(report, options.resultsDir)}`);
  const failed = report.workloads.flatMap((w) => w.measurements).filter((m) => m.errors > 0);
  if (failed.length > 0) console.log(`\n${failed.length} phase(s) had errors: ${failed.map((m) => m.name).join('; ')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
