import type { BenchContext } from '../context.js';
import { PhaseCounter, elapsedMs, type Measurement } from '../latency.js';
import { ratioOf, type WorkloadResult } from '../report.js';
import { openSocket, socketUrl } from '../ws-client.js';
import { closedLoop, warmedUp } from './phases.js';

/** Connect, connection_init, connection_ack, close: over and over from `connections` loops. */
async function handshakes(name: string, connections: number, seconds: number, urlFor: (worker: number) => string, maxRate?: number): Promise<Measurement> {
  const counter = new PhaseCounter();
  const started = process.hrtime.bigint();
  await closedLoop(
    connections,
    seconds,
    async (worker) => {
      const t0 = process.hrtime.bigint();
      try {
        const socket = await openSocket(urlFor(worker));
        counter.ok(elapsedMs(t0));
        await socket.close();
      } catch (error) {
        counter.fail(String(error));
      }
    },
    maxRate,
  );
  return counter.finish(name, elapsedMs(started) / 1000);
}

/** W4: authenticated graphql-ws handshakes against bare graphql-ws handshakes without auth. */
export async function runW4(context: BenchContext): Promise<WorkloadResult> {
  const { connections } = context.options;
  const tokens = await context.signedIn(context.db.startups.slice(0, connections));
  const bare = await context.withBaseline('bare-ws', (server) =>
    warmedUp(
      context,
      (seconds) =>
        handshakes(`bare graphql-ws handshakes, ${connections} concurrent`, connections, seconds, () => socketUrl(server.port), context.options.throttle),
      server,
    ),
  );
  await context.app.resetPeak();
  const app = await warmedUp(
    context,
    (seconds) =>
      handshakes(
        `authenticated handshakes, ${connections} concurrent`,
        connections,
        seconds,
        (worker) => socketUrl(context.app.port, tokens[worker % tokens.length]!.accessToken),
        context.options.throttle,
      ),
    context.app,
  );
  const ratio = ratioOf(app.perSecond, bare.perSecond);
  return {
    id: 'W4',
    title: `WebSocket connect + token check + connection_ack, ${connections} concurrent`,
    measurements: [bare, app],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [],
    rows: [
      {
        workload: 'W4',
        metric: 'handshakes vs bare graphql-ws',
        unit: '/s',
        value: app.perSecond,
        baseline: bare.perSecond,
        ratio,
        goal: '≥ 70 %',
        met: ratio !== null && ratio >= 0.7,
      },
      { workload: 'W4', metric: 'handshake p99', unit: 'ms', value: app.p99, baseline: bare.p99, ratio: ratioOf(app.p99, bare.p99), goal: '', met: null },
      {
        workload: 'W4',
        metric: 'server CPU per handshake',
        unit: 'ms',
        value: app.serverCpuMsPerOp ?? null,
        baseline: bare.serverCpuMsPerOp ?? null,
        ratio: ratioOf(app.serverCpuMsPerOp ?? null, bare.serverCpuMsPerOp ?? null),
        goal: '',
        met: null,
      },
    ],
  };
}
