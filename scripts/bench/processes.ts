import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isChildMessage, type ChildMessage, type HashRateResult, type ParentMessage, type ProcessStats, type ServerMode } from './protocol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The child compiled with the app (tsconfig.bench.json): the bench measures what `npm start` runs, not tsx. */
const CHILD_ENTRY = join(ROOT, 'dist-bench/scripts/bench/server-child.js');

/** Builds the compiled child when it is missing or older than its sources (a no-op otherwise). */
function buildChild(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale', 'bench'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('could not build the bench server child (node scripts/build.mjs bench)');
}

/**
 * The environment variables and V8 flags of package.json's start script
 * (`exec [env VAR=value …] node [flags] dist/main.js`), so the app under test runs as `npm start` runs it.
 */
function startScriptRuntime(): { env: Record<string, string>; flags: string[] } {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const match = /exec (?:env ((?:\w+=\S+ )*))?node ((?:--\S+ )*)dist\/main\.js/.exec(scripts.start ?? '');
  if (!match) throw new Error('package.json start script no longer reads `exec [env VAR=value …] node [flags] dist/main.js`');
  const env = Object.fromEntries(
    (match[1] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  return { env, flags: (match[2] ?? '').split(' ').filter(Boolean) };
}
type Request = ParentMessage extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

export interface SpawnOptions {
  mode: ServerMode;
  /** The app's environment (parseConfig input), app mode only. */
  appEnv?: Record<string, string>;
  threadpoolSize?: number;
  cpuProfileDir?: string;
  /** A name for the profile file and error messages. */
  label: string;
}

/** A server process under test, with its port and an IPC line for stats, GC and stop. */
export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (message: Extract<ChildMessage, { type: 'reply' }>) => void>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly label: string,
  ) {
    child.on('message', (raw: unknown) => {
      if (!isChildMessage(raw) || raw.type !== 'reply') return;
      this.pending.get(raw.id)?.(raw);
      this.pending.delete(raw.id);
    });
    child.on('exit', () => {
      this.exited = true;
    });
  }

  static async spawn(options: SpawnOptions): Promise<ServerProcess> {
    buildChild();
    // The baselines run with the app's flags and allocator settings too, so they differ from it in code only.
    const runtime = startScriptRuntime();
    const execArgv = [...runtime.flags, '--expose-gc'];
    // One directory per server: a profile per thread.
    if (options.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfileDir, options.label)}`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...runtime.env, BENCH_MODE: options.mode, BENCH_APP_ENV: JSON.stringify(options.appEnv ?? {}) };
    // The thread pool is sized when libuv starts it, so it can only come from the environment.
    if (options.threadpoolSize !== undefined) env.UV_THREADPOOL_SIZE = String(options.threadpoolSize);
    const child = fork(CHILD_ENTRY, [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.label}: server process did not start within 60 s`)), 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.label}: server process exited with code ${code} before it was ready`));
      });
      child.on('message', (raw: unknown) => {
        if (isChildMessage(raw) && raw.type === 'ready') {
          clearTimeout(timer);
          resolve(raw.port);
        }
      });
    });
    return new ServerProcess(child, port, options.label);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(message: Request, timeoutMs = 120_000): Promise<Extract<ChildMessage, { type: 'reply' }>> {
    if (this.exited) return Promise.reject(new Error(`${this.label}: server process has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${this.label}: ${reply.error}`));
        else resolve(reply);
      });
      this.child.send({ ...message, id } as ParentMessage);
    });
  }

  async stats(): Promise<ProcessStats> {
    return statsOf(await this.request({ type: 'stats' }));
  }

  /** Full garbage collection, then stats: for RSS comparisons. */
  async collectGarbage(): Promise<ProcessStats> {
    return statsOf(await this.request({ type: 'gc' }));
  }

  /** Writes a heap snapshot of what is alive to `path` (V8 collects first), then stats. */
  async heapSnapshot(path: string): Promise<ProcessStats> {
    return statsOf(await this.request({ type: 'heap-snapshot', path }));
  }

  async resetPeak(): Promise<ProcessStats> {
    return statsOf(await this.request({ type: 'reset-peak' }));
  }

  async hashRate(seconds: number, concurrency: number, hash: string, password: string): Promise<HashRateResult> {
    const reply = await this.request({ type: 'hash-rate', seconds, concurrency, hash, password }, seconds * 1000 + 60_000);
    if (!reply.hashRate) throw new Error(`${this.label}: hash-rate reply without a result`);
    return reply.hashRate;
  }

  /** Stops the server gracefully (so a CPU profile is written) and waits for the exit. */
  async stop(): Promise<ProcessStats | null> {
    if (this.exited) return null;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    let final: ProcessStats | null = null;
    try {
      final = statsOf(await this.request({ type: 'stop' }, 30_000));
    } catch {
      this.child.kill('SIGKILL');
    }
    await exited;
    return final;
  }
}

function statsOf(reply: Extract<ChildMessage, { type: 'reply' }>): ProcessStats {
  if (!reply.stats) throw new Error('reply without stats');
  return reply.stats;
}
