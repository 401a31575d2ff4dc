/**
 * A server under test, in a process of its own so that its RSS and CPU are its own. The
 * parent chooses the mode and the app's configuration through the environment and talks to
 * it over IPC (see protocol.ts). Run by processes.ts; not meant to be started by hand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { verify } from '@node-rs/argon2';
import { createSchema, createYoga, Repeater } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { buildApp } from '../../src/app.js';
import { parseConfig, type EnvInput } from '../../src/env.js';
import { isParentMessage, type ChildMessage, type HashRateResult, type ParentMessage, type ProcessStats, type ServerMode } from './protocol.js';

const mode = process.env.BENCH_MODE as ServerMode | undefined;

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50);
sampler.unref();

function stats(): ProcessStats {
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  const cpu = process.cpuUsage();
  return { rss, peakRss, heapUsed: process.memoryUsage().heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const send = (message: ChildMessage) => process.send?.(message);

/** Collects until the heap stops shrinking, so RSS readings compare like with like. */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A tiny schema for the bare baselines: the least a GraphQL server can do per request. */
const bareSchema = () =>
  createSchema({
    typeDefs: /* GraphQL */ `
      type Query { hello: String }
      type Subscription { tick: Int }
    `,
    resolvers: {
      Query: { hello: () => 'world' },
      // A subscription that never yields: W6's bare socket holds one open, as the app's holds `inbox`.
      Subscription: { tick: { subscribe: () => new Repeater<{ tick: number }>(async (_push, stop) => await stop) } },
    },
  });

const listen = (server: Server) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

/**
 * The raw argon2id verify rate on this process's thread pool. The parameters come from the
 * encoded hash (made by the app's hashPassword), exactly as at login.
 */
async function hashRate(seconds: number, concurrency: number, hash: string, password: string): Promise<HashRateResult> {
  const deadline = Date.now() + seconds * 1000;
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        const ok = await verify(hash, password).catch(() => false);
        if (ok) latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else errors += 1;
      }
    }),
  );
  return { ops: latenciesMs.length, errors, seconds: Number(process.hrtime.bigint() - started) / 1e9, latenciesMs };
}

async function start(): Promise<{ port: number; stop: () => Promise<void> }> {
  switch (mode) {
    case 'app': {
      const env = JSON.parse(process.env.BENCH_APP_ENV ?? '{}') as EnvInput;
      const app = await buildApp(parseConfig(env));
      const { port } = await app.start(0);
      return { port, stop: () => app.stop() };
    }
    case 'bare-yoga': {
      const yoga = createYoga({ schema: bareSchema(), logging: false, landingPage: false, graphiql: false });
      const server = createServer(yoga);
      return { port: await listen(server), stop: () => new Promise((resolve) => server.close(() => resolve())) };
    }
    case 'bare-ws': {
      const server = createServer((_req, res) => res.writeHead(404).end());
      const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
      const disposable = useServer({ schema: bareSchema() }, wss);
      const port = await listen(server);
      return {
        port,
        stop: async () => {
          await disposable.dispose();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    }
    case 'argon2':
      return { port: 0, stop: async () => {} };
    default:
      throw new Error(`BENCH_MODE must be app, bare-yoga, bare-ws or argon2, not ${String(mode)}`);
  }
}

const { port, stop } = await start();

process.on('message', (raw: unknown) => {
  if (!isParentMessage(raw)) return;
  void handle(raw).catch((error: unknown) => send({ type: 'reply', id: raw.id, error: String(error) }));
});

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case 'stats':
      return void send({ type: 'reply', id: message.id, stats: stats() });
    case 'gc':
      await collectGarbage();
      return void send({ type: 'reply', id: message.id, stats: stats() });
    case 'heap-snapshot':
      // V8 collects garbage before it writes, so the snapshot holds only what is alive.
      writeHeapSnapshot(message.path);
      return void send({ type: 'reply', id: message.id, stats: stats() });
    case 'reset-peak':
      peakRss = process.memoryUsage.rss();
      return void send({ type: 'reply', id: message.id, stats: stats() });
    case 'hash-rate':
      return void send({ type: 'reply', id: message.id, hashRate: await hashRate(message.seconds, message.concurrency, message.hash, message.password) });
    case 'stop': {
      const final = stats();
      await stop();
      send({ type: 'reply', id: message.id, stats: final });
      // Exit on our own so --cpu-prof writes its profile.
      setTimeout(() => process.exit(0), 50);
      return;
    }
  }
}

// The parent going away (a crashed bench) must not leave a server behind.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', port });
