import { mapLimit } from '../api.js';
import type { BenchContext } from '../context.js';
import { PhaseCounter, elapsedMs, sleep, type Measurement } from '../latency.js';
import type { ServerProcess } from '../processes.js';
import type { ProcessStats } from '../protocol.js';
import type { WorkloadResult } from '../report.js';
import { openSocket, socketUrl, type OpenSocket } from '../ws-client.js';

const KB = 1024;

interface IdleResult {
  measurement: Measurement;
  before: ProcessStats;
  after: ProcessStats;
}

/**
 * Opens `count` sockets and leaves them idle, then compares the server's RSS (after full
 * collections on both sides) with what it was before: the memory one idle socket costs.
 */
async function idleSockets(server: ServerProcess, name: string, count: number, urlFor: (i: number) => string): Promise<IdleResult> {
  const counter = new PhaseCounter();
  const before = await server.collectGarbage();
  const started = process.hrtime.bigint();
  const sockets = await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    100,
    async (i): Promise<OpenSocket | null> => {
      const t0 = process.hrtime.bigint();
      try {
        const socket = await openSocket(urlFor(i));
        counter.ok(elapsedMs(t0));
        return socket;
      } catch (error) {
        counter.fail(String(error));
        return null;
      }
    },
  );
  const seconds = elapsedMs(started) / 1000;
  // Let the server settle (late acks, buffers) before reading it.
  await sleep(1_000);
  const after = await server.collectGarbage();
  await Promise.all(sockets.map((socket) => socket?.close()));
  return { measurement: counter.finish(name, seconds), before, after };
}

const perSocketKb = (result: IdleResult) => (result.measurement.ops > 0 ? (result.after.rss - result.before.rss) / result.measurement.ops / KB : null);
const heapPerSocketKb = (result: IdleResult) =>
  result.measurement.ops > 0 ? (result.after.heapUsed - result.before.heapUsed) / result.measurement.ops / KB : null;

/** W6: RSS per idle authenticated socket (the bare graphql-ws server's for comparison). */
export async function runW6(context: BenchContext): Promise<WorkloadResult> {
  const count = context.options.idleSockets;
  // Sockets spread over the sessions of the chat users (signed in already when W5 ran), as
  // many devices of many users would be.
  const tokens = await context.signedIn(context.db.investors.slice(0, context.options.chatPairs));
  const bare = await context.withBaseline('bare-ws', (server) =>
    idleSockets(server, `${count} idle bare graphql-ws sockets`, count, () => socketUrl(server.port)),
  );
  await context.app.resetPeak();
  const app = await idleSockets(context.app, `${count} idle authenticated sockets`, count, (i) =>
    socketUrl(context.app.port, tokens[i % tokens.length]!.accessToken),
  );
  for (const result of [bare, app])
    context.say(`  ${result.measurement.name}: ${perSocketKb(result)?.toFixed(1) ?? '–'} KB RSS per socket, errors ${result.measurement.errors}`);
  const value = perSocketKb(app);
  return {
    id: 'W6',
    title: `${count} idle authenticated sockets`,
    measurements: [bare.measurement, app.measurement],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [`RSS of the app before ${Math.round(app.before.rss / KB / KB)} MB, with the sockets ${Math.round(app.after.rss / KB / KB)} MB`],
    rows: [
      {
        workload: 'W6',
        metric: 'RSS per idle socket',
        unit: 'KB',
        value,
        baseline: perSocketKb(bare),
        ratio: null,
        goal: '≤ 16 KB',
        met: value !== null && value <= 16,
      },
      {
        workload: 'W6',
        metric: 'JS heap per idle socket',
        unit: 'KB',
        value: heapPerSocketKb(app),
        baseline: heapPerSocketKb(bare),
        ratio: null,
        goal: '',
        met: null,
      },
    ],
  };
}
