/** Latencies of one measurement, in milliseconds; percentiles by sorting (a run holds at most a few 100k). */
export class LatencyRecorder {
  private values = new Float64Array(4096);
  private length = 0;

  record(ms: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  get count(): number {
    return this.length;
  }

  summary(): LatencySummary {
    if (this.length === 0) return { p50: null, p99: null, max: null };
    const sorted = this.values.slice(0, this.length).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? null };
  }
}

export interface LatencySummary {
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** What every measured phase reports; `errors` counts failed operations of any kind. */
export interface Measurement extends LatencySummary {
  name: string;
  ops: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** The first few error messages, so a failing run says why. */
  sampleErrors: string[];
  /** CPU time the server process spent per operation, and its share of one core, during the phase. */
  serverCpuMsPerOp?: number;
  serverCpuPercent?: number;
}

/** Counts operations and errors of one phase and turns them into a Measurement. */
export class PhaseCounter {
  readonly latency = new LatencyRecorder();
  ops = 0;
  errors = 0;
  private readonly samples: string[] = [];

  ok(ms?: number): void {
    this.ops += 1;
    if (ms !== undefined) this.latency.record(ms);
  }

  fail(message: string): void {
    this.errors += 1;
    if (this.samples.length < 5) this.samples.push(message.slice(0, 300));
  }

  finish(name: string, seconds: number): Measurement {
    return { name, ops: this.ops, errors: this.errors, seconds, perSecond: this.ops / seconds, sampleErrors: this.samples, ...this.latency.summary() };
  }
}

export const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

// Schedules that fall behind ask for negative delays, which Node 24 warns about: none is asked.
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
