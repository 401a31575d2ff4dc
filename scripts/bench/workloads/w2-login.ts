import { LOGIN, graphqlBody } from '../api.js';
import { DEFAULT_HASH_CONCURRENCY as HASH_CONCURRENCY } from '../../../src/modules/auth/passwords.js';
import { BENCH_PASSWORD } from '../bench-database.js';
import type { BenchContext } from '../context.js';
import { fixedGraphQLRequest, runHttpLoad } from '../http-load.js';
import { LatencyRecorder, type Measurement } from '../latency.js';
import { ratioOf, type WorkloadResult } from '../report.js';
import { measureMe } from './w1-me.js';
import { warmedUp } from './phases.js';

function loginStorm(context: BenchContext, seconds: number): Promise<Measurement> {
  const { connections } = context.options;
  const users = context.db.startups;
  return runHttpLoad({
    name: `login at ${connections} connections`,
    port: context.app.port,
    connections,
    seconds,
    overallRate: context.options.throttle,
    requestsFor: (i, counter) => [fixedGraphQLRequest(graphqlBody(LOGIN, { email: users[i % users.length]!.email, password: BENCH_PASSWORD }), counter)],
  });
}

/**
 * W2: `login` against the raw argon2id verification rate (same hash, hence the same
 * parameters, and as many threads as the server hashes on), and the `me` probe's p99 while the
 * logins run against its p99 alone: hashing must not hold up the event loop.
 */
export async function runW2(context: BenchContext): Promise<WorkloadResult> {
  const { connections, probeConnections, probeRate } = context.options;
  // The server hashes HASH_CONCURRENCY at a time (passwords.ts), so its limit is that many
  // verifications running back to back on as many pool threads.
  const raw = await context.withBaseline('argon2', async (server) => {
    if (context.warmupSeconds > 0) await server.hashRate(context.warmupSeconds, HASH_CONCURRENCY, context.db.passwordHash, BENCH_PASSWORD);
    const result = await server.hashRate(context.options.seconds, HASH_CONCURRENCY, context.db.passwordHash, BENCH_PASSWORD);
    const latency = new LatencyRecorder();
    for (const ms of result.latenciesMs) latency.record(ms);
    const measurement: Measurement = {
      name: `raw argon2id verify, ${HASH_CONCURRENCY} at a time`,
      ops: result.ops,
      errors: result.errors,
      seconds: result.seconds,
      perSecond: result.ops / result.seconds,
      sampleErrors: result.errors > 0 ? ['argon2 verify failed'] : [],
      ...latency.summary(),
    };
    context.say(`  ${measurement.name}: ${measurement.perSecond.toFixed(1)}/s`);
    return measurement;
  });

  await context.app.resetPeak();
  const storm = await warmedUp(context, (seconds) => loginStorm(context, seconds), context.app);
  // The probe asks at a fixed rate (open loop), so its latency shows waiting, not its own load.
  const probe = (label: string) =>
    measureMe(context, `me probe at ${probeRate}/s over ${probeConnections} connections, ${label}`, probeConnections, context.options.seconds, probeRate);
  const idleProbe = await probe('idle');
  context.say(`  ${idleProbe.name}: p99 ${idleProbe.p99?.toFixed(2) ?? '–'} ms`);
  const [stormBeside, stormProbe] = await Promise.all([loginStorm(context, context.options.seconds), probe('during the login storm')]);
  context.say(`  ${stormProbe.name}: p99 ${stormProbe.p99?.toFixed(2) ?? '–'} ms`);
  const throughputRatio = ratioOf(storm.perSecond, raw.perSecond);
  const p99Ratio = ratioOf(stormProbe.p99, idleProbe.p99);
  return {
    id: 'W2',
    title: `login at ${connections} connections; me probe at ${probeRate}/s`,
    measurements: [raw, storm, idleProbe, { ...stormBeside, name: `${stormBeside.name}, beside the probe` }, stormProbe],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [],
    rows: [
      {
        workload: 'W2',
        metric: 'login throughput vs argon2id',
        unit: 'req/s',
        value: storm.perSecond,
        baseline: raw.perSecond,
        ratio: throughputRatio,
        goal: '≥ 90 %',
        met: throughputRatio !== null && throughputRatio >= 0.9,
      },
      { workload: 'W2', metric: 'login p99', unit: 'ms', value: storm.p99, baseline: raw.p99, ratio: ratioOf(storm.p99, raw.p99), goal: '', met: null },
      {
        workload: 'W2',
        metric: 'me p99 during logins vs idle',
        unit: 'ms',
        value: stormProbe.p99,
        baseline: idleProbe.p99,
        ratio: p99Ratio,
        goal: '≤ 3×',
        met: p99Ratio !== null && p99Ratio <= 3,
      },
    ],
  };
}
