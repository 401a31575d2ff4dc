import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

// What `npm start` tells a developer: where GraphiQL is, which database and where mail goes,
// and one clear line when the port is taken.

interface Run {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first log line whose message matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

const MAIN = resolve('src/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function runServer(env: Record<string, string>): Run {
  const child = spawn(TSX, [MAIN], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', JWT_SECRET: TEST_SECRET, DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-start-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    lines.push(...complete.filter((text) => text.trim() !== ''));
    waiters.splice(0).forEach((wake) => wake());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const parsed = (text: string) => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { msg: text };
    }
  };
  const line = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.map(parsed).find((entry) => pattern.test(String(entry.msg)));
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no log line matching ${pattern}; got:\n${lines.join('\n')}`);
      await new Promise<void>((wake) => {
        waiters.push(wake);
        setTimeout(wake, 200);
      });
    }
  };
  return { child, lines, line, exited };
}

async function stopServer(run: Run | undefined): Promise<void> {
  if (!run || run.child.exitCode !== null) return;
  run.child.kill('SIGTERM');
  await run.exited;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('npm start', () => {
  let run: Run | undefined;
  afterAll(async () => {
    await stopServer(run);
  });

  it('logs the GraphiQL URL with the real port, the database and where emails go', async () => {
    run = runServer({ DATABASE_URL: db.url, PORT: '0', NODE_ENV: 'development' });
    const ready = await run.line(/^Forum API ready/);
    const graphiql = String(ready.graphiql);
    expect(graphiql).toMatch(/^http:\/\/localhost:\d+\/graphql$/);
    expect(graphiql).not.toMatch(/:0\//);
    expect(ready.database).toBe(`PostgreSQL at ${new URL(db.url).host}${new URL(db.url).pathname}`);
    expect(String(ready.mail)).toMatch(/\.eml files in .*forum-start-.*\/mail/);
    expect(JSON.stringify(ready)).not.toContain(TEST_SECRET);
    // The URL it printed is the one that answers.
    const page = await fetch(graphiql, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
  });
});

describe('a port already in use', () => {
  let blocker: Server;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((listening) => blocker.listen(0, listening));
  });
  afterAll(async () => {
    await new Promise<void>((closed) => blocker.close(() => closed()));
  });

  it('stops the server with one clear line and no stack', async () => {
    const port = (blocker.address() as { port: number }).port;
    const run = runServer({ DATABASE_URL: db.url, PORT: String(port) });
    expect(await run.exited).toBe(1);
    const failure = run.lines.filter((text) => /already in use/.test(text));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain(`Port ${port} is already in use`);
    expect(run.lines.join('\n')).not.toMatch(/EADDRINUSE|\n\s+at /);
  });
});

describe('production without CORS_ORIGINS', () => {
  let run: Run | undefined;
  afterAll(async () => {
    await stopServer(run);
  });

  it('warns at start that no browser origin is allowed', async () => {
    run = runServer({ DATABASE_URL: db.url, PORT: '0', NODE_ENV: 'production' });
    const warning = await run.line(/CORS_ORIGINS is not set in production/);
    expect(warning.level).toBe(40);
    const ready = await run.line(/^Forum API ready/);
    expect(ready.corsOrigins).toBe('none');
    expect(ready.graphiql).toMatch(/^off/);
  });
});
