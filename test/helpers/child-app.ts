import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/env.js';
import { TEST_SECRET } from './app.js';

export interface ChildApp {
  url: string;
  wsUrl: string;
  pid: number;
  /** SIGKILL: no shutdown code runs, as when a machine or container dies. */
  killHard(): Promise<void>;
}

/**
 * Another instance of `like`'s deployment (same database, Redis, key prefix and mail server),
 * running in a child process so that a test can kill it with SIGKILL.
 */
export async function startChildApp(like: Config, env: Record<string, string> = {}): Promise<ChildApp> {
  // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the app in a grandchild that
  // a SIGKILL to the CLI would leave running.
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'helpers', 'child-app-main.ts')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_SECRET,
      DATABASE_URL: like.DATABASE_URL,
      DATABASE_POOL_MAX: '4',
      SMTP_URL: like.SMTP_URL,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-child-')),
      EMAIL_COOLDOWN_SECONDS: '0',
      REDIS_KEY_PREFIX: like.REDIS_KEY_PREFIX,
      ...(like.REDIS_URL ? { REDIS_URL: like.REDIS_URL } : {}),
      PRESENCE_GRACE_SECONDS: String(like.PRESENCE_GRACE_SECONDS),
      PRESENCE_TTL_SECONDS: String(like.PRESENCE_TTL_SECONDS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('the child instance did not start within 30 s')), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/LISTENING (\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the child instance exited with ${code}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    pid: child.pid!,
    async killHard() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
