export const KINDS = ['industry', 'location', 'user', 'startupProfile', 'investorProfile', 'conversation', 'message', 'readMark'] as const;
export type Kind = (typeof KINDS)[number];

export type Outcome = 'imported' | 'updated' | 'unchanged' | 'skipped';

/**
 * `warning`: something was not brought over, or not as it was; it makes the import exit non-zero
 * unless `--accept-warnings`. `note`: a deliberate conversion worth knowing (a website that got
 * `https://`, a location matched to a city); listed, never an error.
 */
export type Severity = 'warning' | 'note';

export interface ReportEntry {
  kind: Kind;
  sourceId: string;
  severity: Severity;
  code: string;
  /** What happened to the record: not imported, or imported with this change. */
  action: 'skipped' | 'imported';
  message: string;
  details?: Record<string, unknown>;
}

export interface KindCounts {
  imported: number;
  updated: number;
  unchanged: number;
  skipped: number;
  reported: number;
}

export interface ImportReportJson {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  counts: Record<Kind, KindCounts>;
  /** Seconds per phase, and the rows it went through. */
  phases: Record<string, PhaseTiming>;
  warnings: number;
  notes: number;
  entries: ReportEntry[];
}

/** Counts per kind and every reported record; nothing the importer leaves out goes unsaid. */
/** Wall time of a phase, and the CPU time the importer itself spent in it (the database's is not in it). */
export interface PhaseTiming {
  seconds: number;
  cpuSeconds: number;
  rows: number;
}

export class ImportReport {
  readonly counts = Object.fromEntries(KINDS.map((kind) => [kind, { imported: 0, updated: 0, unchanged: 0, skipped: 0, reported: 0 }])) as Record<
    Kind,
    KindCounts
  >;
  readonly entries: ReportEntry[] = [];
  readonly phases: Record<string, PhaseTiming> = {};
  private readonly startedAt = new Date();

  constructor(readonly dryRun: boolean) {}

  count(kind: Kind, outcome: Outcome, n = 1): void {
    this.counts[kind][outcome] += n;
  }

  /** Reports a record; a skipped one is counted as skipped too. */
  add(entry: ReportEntry): ReportEntry {
    this.entries.push(entry);
    this.counts[entry.kind].reported += 1;
    if (entry.action === 'skipped') this.counts[entry.kind].skipped += 1;
    return entry;
  }

  get warnings(): number {
    return this.entries.filter((entry) => entry.severity === 'warning').length;
  }

  toJSON(): ImportReportJson {
    return {
      dryRun: this.dryRun,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      counts: this.counts,
      phases: this.phases,
      warnings: this.warnings,
      notes: this.entries.length - this.warnings,
      entries: this.entries,
    };
  }

  /** The table printed at the end of a run. */
  summaryTable(): string {
    const header = ['kind', 'imported', 'updated', 'unchanged', 'skipped', 'reported'];
    const rows = KINDS.map((kind) => {
      const c = this.counts[kind];
      return [kind, c.imported, c.updated, c.unchanged, c.skipped, c.reported].map(String);
    });
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    const title = this.dryRun ? 'Dry run: nothing was written. What the import would do:' : 'Import summary:';
    return [
      title,
      line(header),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...rows.map(line),
      '',
      `${this.warnings} warning(s), ${this.entries.length - this.warnings} note(s)`,
    ].join('\n');
  }
}
