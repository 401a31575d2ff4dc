// The server as a user runs it: `npm start` (compiled dist/, plain node), stopped by a signal to
// npm's PID or to node's, started on a wrong Node, or on a database whose migration fails.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_SECRET } from './helpers/app.js';
import { createEmptyTestDatabase, createTestDatabase, withClient, type TestDatabase } from './helpers/database.js';
import { signedInUser } from './helpers/factories.js';
import { connectedWs } from './helpers/ws.js';
import { withTimeout } from './helpers/time.js';

const ROOT = new URL('..', import.meta.url).pathname;

beforeAll(() => {
  // What `npm start` would do first; done here so that no test's time includes a build.
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  expect(build.status).toBe(0);
}, 300_000);

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves with the port once the server logs that it listens. */
  listening: Promise<number>;
}

const databases: TestDatabase[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

function serverEnv(databaseUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: '',
    SMTP_URL: '',
    JWT_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-runtime-')),
  };
}

/** Spawns a command the way a shell would, collecting its output, until it listens. */
function spawnServer(command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  let reportPort!: (port: number) => void;
  const listening = new Promise<number>((resolve) => (reportPort = resolve));
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    const match = /"port":(\d+)[^\n]*"msg":"Forum API listening"/.exec(output);
    if (match) reportPort(Number(match[1]));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited, listening };
}

/** Every process below `pid` (ps lists children by parent). */
function descendants(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  const children = out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter(Boolean);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

describe('npm start', () => {
  it.each([
    { signal: 'SIGTERM', to: 'npm' },
    { signal: 'SIGINT', to: 'node' },
  ] as const)(
    'stops on $signal to the $to process: sockets closed with 1001, exit 0, port free, no process left',
    async ({ signal, to }) => {
      const db = await createTestDatabase();
      databases.push(db);
      // A signed-in user, made through the API by an in-process app on the same database.
      const setup = await startTestApp({ db });
      const user = await signedInUser(setup);
      await setup.stop();

      const server = spawnServer('npm', ['start'], serverEnv(db.url));
      const port = await withTimeout(
        Promise.race([server.listening, server.exited.then(() => Promise.reject(new Error(server.output())))]),
        120_000,
        'npm start to listen',
      );
      const npmPid = server.child.pid!;
      const below = descendants(npmPid);
      // npm's script execs node: no shell stands between npm and the server.
      expect(below).toHaveLength(1);
      const nodePid = below[0]!;
      // With a young generation of 4 MiB semi-spaces (V8's default, 32 MiB on this machine, held
      // ~25 MiB more RSS idle and doubled RSS per idle socket) and two malloc arenas, as
      // README Performance measured them.
      expect(execFileSync('ps', ['-o', 'args=', '-p', String(nodePid)], { encoding: 'utf8' }).trim()).toMatch(/node --max-semi-space-size=4 dist\/main\.js$/);
      expect(readFileSync(`/proc/${nodePid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');

      const socket = await connectedWs(`ws://127.0.0.1:${port}/graphql`, { token: user.tokens.accessToken });
      process.kill(to === 'npm' ? npmPid : nodePid, signal);

      expect(await withTimeout(socket.closed, 10_000, 'the socket to close')).toMatchObject({ code: 1001 });
      expect(await withTimeout(server.exited, 10_000, 'npm start to exit')).toBe(0);
      expect(alive(nodePid)).toBe(false);
      expect(await portIsFree(port)).toBe(true);
      expect(server.output()).toContain('shutting down');
    },
    180_000,
  );
});

describe('start-up faults', () => {
  it('refuses a wrong Node with one line naming the required version', async () => {
    // The pinned Node, told it is 18: the check reads process.version.
    const fake = 'data:text/javascript,Object.defineProperty(process,"version",{value:"v18.20.4"})';
    const result = spawnSync(process.execPath, ['--import', fake, 'dist/main.js'], {
      cwd: ROOT,
      env: serverEnv('postgresql://unused@127.0.0.1:1/none'),
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Node.js ^24.11.0');
    expect(lines[0]).toContain('v18.20.4');
  });

  it('stops with the failing migration, the database error and a non-zero exit', async () => {
    const db = await createEmptyTestDatabase();
    databases.push(db);
    // Something in the way of the first migration.
    await withClient(db.url, (client) => client.query('create table "user" (something int)'));
    const server = spawnServer(process.execPath, ['dist/main.js'], serverEnv(db.url));
    const code = await withTimeout(server.exited, 60_000, 'the server to exit');
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    // One plain line on stderr (besides the JSON log line with the whole error).
    expect(server.output()).toMatch(/^Forum API did not start: migration Migration20261125061808_Foundation failed: relation "user" already exists$/m);
    expect(server.output()).not.toContain('Forum API listening');
  }, 120_000);
});
