import { ME_QUERY, TYPENAME_QUERY, graphqlBody } from '../api.js';
import type { BenchContext } from '../context.js';
import { fixedGraphQLRequest, runHttpLoad } from '../http-load.js';
import type { Measurement } from '../latency.js';
import { ratioOf, type WorkloadResult } from '../report.js';
import { warmedUp } from './phases.js';

/** The authenticated `me` query at `connections`, each connection with its own user's token. */
export async function measureMe(context: BenchContext, name: string, connections: number, seconds: number, overallRate?: number): Promise<Measurement> {
  const users = context.db.startups.slice(0, connections);
  const tokens = await context.signedIn(users);
  const body = graphqlBody(ME_QUERY);
  return runHttpLoad({
    name,
    port: context.app.port,
    connections,
    seconds,
    overallRate: overallRate ?? context.options.throttle,
    requestsFor: (i, counter) => [fixedGraphQLRequest(body, counter, { authorization: `Bearer ${tokens[i % tokens.length]!.accessToken}` })],
  });
}

/** W1: authenticated `me` against a bare Yoga answering `{ __typename }`, both at the same connections. */
export async function runW1(context: BenchContext): Promise<WorkloadResult> {
  const { connections } = context.options;
  const bare = await context.withBaseline('bare-yoga', (server) =>
    warmedUp(
      context,
      (seconds) =>
        runHttpLoad({
          name: 'bare Yoga { __typename }',
          port: server.port,
          connections,
          seconds,
          overallRate: context.options.throttle,
          requestsFor: (_i, counter) => [fixedGraphQLRequest(graphqlBody(TYPENAME_QUERY), counter)],
        }),
      server,
    ),
  );
  await context.app.resetPeak();
  const me = await warmedUp(context, (seconds) => measureMe(context, `me at ${connections} connections`, connections, seconds), context.app);
  const ratio = ratioOf(me.perSecond, bare.perSecond);
  return {
    id: 'W1',
    title: `authenticated me query at ${connections} connections`,
    measurements: [bare, me],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [],
    rows: [
      {
        workload: 'W1',
        metric: 'me throughput',
        unit: 'req/s',
        value: me.perSecond,
        baseline: bare.perSecond,
        ratio,
        goal: '≥ 60 %',
        met: ratio !== null && ratio >= 0.6,
      },
      {
        workload: 'W1',
        metric: 'server CPU per request',
        unit: 'ms',
        value: me.serverCpuMsPerOp ?? null,
        baseline: bare.serverCpuMsPerOp ?? null,
        ratio: ratioOf(me.serverCpuMsPerOp ?? null, bare.serverCpuMsPerOp ?? null),
        goal: '',
        met: null,
      },
      { workload: 'W1', metric: 'me p99', unit: 'ms', value: me.p99, baseline: bare.p99, ratio: ratioOf(me.p99, bare.p99), goal: '', met: null },
    ],
  };
}
