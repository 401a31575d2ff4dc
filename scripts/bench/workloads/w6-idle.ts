import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
  /** Subscriptions the server ended with an error (each should stay open and silent). */
  subscriptionErrors: number;
  /** False when heap snapshots were written: writing one leaves the process's RSS grown. */
  rssComparable: boolean;
}

interface IdlePhase {
  name: string;
  count: number;
  urlFor: (i: number) => string;
  /** A subscription each socket starts and keeps (the app's `inbox`), or none. */
  subscription?: string;
  /** Heap snapshots `<prefix>-before.heapsnapshot` and `<prefix>-after.heapsnapshot` (`--heap-snapshots`). */
  snapshotPrefix?: string;
}

/**
 * Opens `count` sockets and leaves them idle, then compares the server's RSS (after full
 * collections on both sides) with what it was before: the memory one idle socket costs.
 */
async function idleSockets(server: ServerProcess, phase: IdlePhase): Promise<IdleResult> {
  const counter = new PhaseCounter();
  let subscriptionErrors = 0;
  const measure = (moment: 'before' | 'after') =>
    phase.snapshotPrefix ? server.heapSnapshot(`${phase.snapshotPrefix}-${moment}.heapsnapshot`) : server.collectGarbage();
  const before = await measure('before');
  const started = process.hrtime.bigint();
  const sockets = await mapLimit(
    Array.from({ length: phase.count }, (_, i) => i),
    100,
    async (i): Promise<OpenSocket | null> => {
      const t0 = process.hrtime.bigint();
      try {
        const socket = await openSocket(phase.urlFor(i));
        if (phase.subscription) socket.client.subscribe({ query: phase.subscription }, { next() {}, error: () => void subscriptionErrors++, complete() {} });
        counter.ok(elapsedMs(t0));
        return socket;
      } catch (error) {
        counter.fail(String(error));
        return null;
      }
    },
  );
  const seconds = elapsedMs(started) / 1000;
  // Let the server settle (late acks, subscriptions still starting, buffers) before reading it.
  await sleep(1_000);
  const after = await measure('after');
  // The next phase's "before" must not still hold these sockets.
  await Promise.all(sockets.map((socket) => socket && Promise.all([socket.close(), socket.closed])));
  return { measurement: counter.finish(phase.name, seconds), before, after, subscriptionErrors, rssComparable: !phase.snapshotPrefix };
}

const perSocketKb = (result: IdleResult) =>
  result.measurement.ops > 0 && result.rssComparable ? (result.after.rss - result.before.rss) / result.measurement.ops / KB : null;
const heapPerSocketKb = (result: IdleResult) =>
  result.measurement.ops > 0 ? (result.after.heapUsed - result.before.heapUsed) / result.measurement.ops / KB : null;

/** The harness's W6 selection (../shared/bench): each idle socket follows its user's inbox. */
const INBOX = 'subscription { inbox { id } }';
const TICK = 'subscription { tick }';

const row = (metric: string, unit: string, value: number | null, baseline: number | null, goal = '', met: boolean | null = null) => ({
  workload: 'W6' as const,
  metric,
  unit,
  value,
  baseline,
  ratio: null,
  goal,
  met,
});

/**
 * W6: RSS and heap per idle authenticated socket, then per idle socket subscribed to `inbox`
 * (the bare graphql-ws server's, with a subscription that never yields, for comparison).
 */
export async function runW6(context: BenchContext): Promise<WorkloadResult> {
  const count = context.options.idleSockets;
  const snapshots = context.options.heapSnapshotDir;
  if (snapshots) mkdirSync(snapshots, { recursive: true });
  // Sockets spread over the sessions of the chat users (signed in already when W5 ran), as
  // many devices of many users would be.
  const tokens = await context.signedIn(context.db.investors.slice(0, context.options.chatPairs));
  const appUrl = (i: number) => socketUrl(context.app.port, tokens[i % tokens.length]!.accessToken);
  const [bare, bareSubscribed] = await context.withBaseline(
    'bare-ws',
    async (server): Promise<[IdleResult, IdleResult]> => [
      await idleSockets(server, { name: `${count} idle bare graphql-ws sockets`, count, urlFor: () => socketUrl(server.port) }),
      await idleSockets(server, {
        name: `${count} idle bare graphql-ws sockets, each subscribed`,
        count,
        urlFor: () => socketUrl(server.port),
        subscription: TICK,
        snapshotPrefix: snapshots && join(snapshots, 'bare-ws'),
      }),
    ],
  );
  await context.app.resetPeak();
  const app = await idleSockets(context.app, { name: `${count} idle authenticated sockets`, count, urlFor: appUrl });
  const appSubscribed = await idleSockets(context.app, {
    name: `${count} idle authenticated sockets subscribed to inbox`,
    count,
    urlFor: appUrl,
    subscription: INBOX,
    snapshotPrefix: snapshots && join(snapshots, 'app'),
  });
  for (const result of [bare, app, bareSubscribed, appSubscribed])
    context.say(
      `  ${result.measurement.name}: ${perSocketKb(result)?.toFixed(1) ?? '–'} KB RSS per socket, errors ${result.measurement.errors + result.subscriptionErrors}`,
    );
  const subscribedKb = perSocketKb(appSubscribed);
  return {
    id: 'W6',
    title: `${count} idle authenticated sockets, then as many subscribed to inbox`,
    measurements: [bare.measurement, app.measurement, bareSubscribed.measurement, appSubscribed.measurement],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [
      `RSS of the app before ${Math.round(app.before.rss / KB / KB)} MB, with the idle sockets ${Math.round(app.after.rss / KB / KB)} MB`,
      ...(snapshots
        ? [`heap snapshots in ${snapshots}: npx tsx scripts/bench/heap-diff.ts ${join(snapshots, 'app')}-{before,after}.heapsnapshot ${count}`]
        : []),
    ],
    rows: [
      row('RSS per idle socket', 'KB', perSocketKb(app), perSocketKb(bare)),
      row('JS heap per idle socket', 'KB', heapPerSocketKb(app), heapPerSocketKb(bare)),
      row('RSS per idle socket subscribed to inbox', 'KB', subscribedKb, perSocketKb(bareSubscribed), '≤ 16 KB', subscribedKb !== null && subscribedKb <= 16),
      row('JS heap per idle socket subscribed to inbox', 'KB', heapPerSocketKb(appSubscribed), heapPerSocketKb(bareSubscribed)),
    ],
  };
}
