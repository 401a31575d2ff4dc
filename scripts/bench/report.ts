import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './latency.js';
import type { WorkloadId } from './options.js';

/** One line of the table: a value, what it is compared with, and the goal it is held to. */
export interface Row {
  workload: WorkloadId;
  metric: string;
  unit: string;
  value: number | null;
  baseline: number | null;
  /** value / baseline, or the ratio the goal is about (e.g. p99 under load / p99 idle). */
  ratio: number | null;
  goal: string;
  /** null: informative row without a goal. */
  met: boolean | null;
}

export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  rows: Row[];
  /** Every measured phase, baselines included, with its operation and error counts. */
  measurements: Measurement[];
  /** Highest RSS of the app's process during this workload, bytes. */
  appPeakRss: number | null;
  notes: string[];
}

export interface BenchReport {
  startedAt: string;
  command: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number | null>;
  workloads: WorkloadResult[];
  /** Highest RSS the app's process reached over the whole run, bytes. */
  appPeakRss: number | null;
}

export const ratioOf = (value: number | null, baseline: number | null) => (value !== null && baseline ? value / baseline : null);

const formatNumber = (value: number | null, unit: string): string => {
  if (value === null || !Number.isFinite(value)) return '–';
  if (unit === 'KB' || unit === 'MB') return value.toFixed(1);
  if (unit === 'ms') return value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1);
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
};

const formatRatio = (row: Row) =>
  row.ratio === null ? '–' : row.goal.includes('×') || row.unit === 'ms' ? `${row.ratio.toFixed(2)}×` : `${(row.ratio * 100).toFixed(0)} %`;

export const mb = (bytes: number | null) => (bytes === null ? null : bytes / (1024 * 1024));

/** The table as Markdown, printed by the bench and pasted into the README. */
export function renderTable(report: BenchReport): string {
  const header = ['workload', 'metric', 'value', 'baseline', 'ratio', 'goal', 'met?'];
  const lines = report.workloads.flatMap((workload) =>
    workload.rows.map((row) => [
      row.workload,
      `${row.metric} (${row.unit})`,
      formatNumber(row.value, row.unit),
      formatNumber(row.baseline, row.unit),
      formatRatio(row),
      row.goal,
      row.met === null ? '' : row.met ? 'yes' : '**no**',
    ]),
  );
  const peaks = report.workloads.map((workload) => `${workload.id} ${formatNumber(mb(workload.appPeakRss), 'MB')} MB`).join(', ');
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  return `${table}\n\nPeak RSS of the server process: ${formatNumber(mb(report.appPeakRss), 'MB')} MB over the run (per workload: ${peaks}).`;
}

export function renderMeasurements(report: BenchReport): string {
  return report.workloads
    .flatMap((workload) =>
      workload.measurements.map(
        (m) =>
          `${workload.id} ${m.name}: ${m.ops} ops in ${m.seconds.toFixed(1)} s = ${m.perSecond.toFixed(1)}/s, p50 ${m.p50?.toFixed(2) ?? '–'} ms, p99 ${m.p99?.toFixed(2) ?? '–'} ms, errors ${m.errors}` +
          (m.serverCpuMsPerOp !== undefined ? `, server ${m.serverCpuMsPerOp.toFixed(3)} ms CPU/op (${m.serverCpuPercent?.toFixed(0)} % of a core)` : '') +
          (m.sampleErrors.length ? ` (${m.sampleErrors[0]})` : ''),
      ),
    )
    .join('\n');
}

export function writeReport(report: BenchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
