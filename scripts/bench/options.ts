import { availableParallelism } from 'node:os';

export const WORKLOAD_IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface BenchOptions {
  /** Server of the bench database; a fresh database is created on it and dropped afterwards. */
  databaseUrl: string;
  /** Length of each measured phase, seconds. */
  seconds: number;
  workloads: WorkloadId[];
  /** HTTP connections (W1, W2, W3) and concurrent handshakes (W4). */
  connections: number;
  /** Connections and total rate (req/s) of the W1 probe that runs beside the W2 login storm. */
  probeConnections: number;
  probeRate: number;
  chatPairs: number;
  idleSockets: number;
  /** The server's (and the argon2 baseline's) libuv thread pool size; undefined keeps the server's own default. */
  threadpoolSize: number | undefined;
  poolMax: number;
  logLevel: string;
  /** Write a V8 CPU profile of every server process into this directory. */
  cpuProfileDir: string | undefined;
  /** W6 writes heap snapshots of both servers before and after the subscribed sockets here. */
  heapSnapshotDir: string | undefined;
  /**
   * Caps every load generator at this many operations per second (the smoke test, which must
   * not crowd the test files running beside it); undefined: as fast as the server answers.
   */
  throttle?: number;
  /** Where the JSON result goes; null writes nothing (the smoke test). */
  resultsDir: string | null;
}

const HELP = `npm run bench -- [options]            (DATABASE_URL must name a PostgreSQL server)
  --seconds N        length of each measured phase (BENCH_SECONDS, default 10)
  --only W1,W3       run only these workloads (BENCH_ONLY, default all)
  --connections N    HTTP connections / concurrent handshakes (default 50)
  --probe-connections N  connections of the W1 probe beside the W2 login storm (default 10)
  --probe-rate N     its total rate, requests per second (default 100)
  --pairs N          W5 investor/startup pairs (default 200)
  --sockets N        W6 idle sockets (default 5000)
  --threads N        UV_THREADPOOL_SIZE of the server and the argon2 baseline (default: the server's own)
  --pool N           DATABASE_POOL_MAX of the server and of the pg baselines (default 10)
  --log-level L      server LOG_LEVEL (BENCH_LOG_LEVEL, default warn)
  --cpu-prof DIR     write .cpuprofile files of the server processes to DIR
  --heap-snapshots DIR  W6: heap snapshots before/after the subscribed sockets (read them with heap-diff.ts)
  --out DIR          directory of the JSON result (default bench-results)`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return value;
}

function workloadList(raw: string | undefined): WorkloadId[] {
  if (!raw) return [...WORKLOAD_IDS];
  const ids = raw.split(',').map((id) => id.trim().toUpperCase());
  for (const id of ids) if (!(WORKLOAD_IDS as readonly string[]).includes(id)) throw new Error(`unknown workload "${id}" (known: ${WORKLOAD_IDS.join(', ')})`);
  return ids as WorkloadId[];
}

/** Flags win over environment variables; returns null (after printing help) for --help. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | null {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      return null;
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${HELP}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    flags.set(name, value);
  }
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    throw new Error(
      'The bench needs a real PostgreSQL server: set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres). It creates a database forum_bench_<random> there and drops it afterwards.',
    );
  }
  const threads = flags.get('threads') ?? env.BENCH_THREADS;
  return {
    databaseUrl,
    seconds: positiveInt('--seconds', flags.get('seconds') ?? env.BENCH_SECONDS, 10),
    workloads: workloadList(flags.get('only') ?? env.BENCH_ONLY),
    connections: positiveInt('--connections', flags.get('connections'), 50),
    probeConnections: positiveInt('--probe-connections', flags.get('probe-connections'), 10),
    probeRate: positiveInt('--probe-rate', flags.get('probe-rate'), 100),
    chatPairs: positiveInt('--pairs', flags.get('pairs'), 200),
    idleSockets: positiveInt('--sockets', flags.get('sockets'), 5000),
    threadpoolSize: threads ? positiveInt('--threads', threads, 1) : undefined,
    poolMax: positiveInt('--pool', flags.get('pool'), 10),
    logLevel: flags.get('log-level') ?? env.BENCH_LOG_LEVEL ?? 'warn',
    cpuProfileDir: flags.get('cpu-prof') ?? env.BENCH_CPU_PROF,
    heapSnapshotDir: flags.get('heap-snapshots'),
    resultsDir: flags.get('out') ?? 'bench-results',
  };
}

export const machineCores = () => availableParallelism();
