import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type autocannon from 'autocannon';
import { REFRESH, graphqlBody, type GraphQLResponse, type Tokens } from '../api.js';
import type { BenchContext } from '../context.js';
import { runHttpLoad } from '../http-load.js';
import { PhaseCounter, elapsedMs, type Measurement } from '../latency.js';
import { ratioOf, type WorkloadResult } from '../report.js';
import { closedLoop, warmedUp } from './phases.js';

/** A refresh chain per connection: every request presents the refresh token the previous one returned. */
function refreshChains(context: BenchContext, chains: Tokens[], seconds: number): Promise<Measurement> {
  const { connections } = context.options;
  return runHttpLoad({
    name: `refreshToken chains at ${connections} connections`,
    port: context.app.port,
    connections,
    seconds,
    overallRate: context.options.throttle,
    requestsFor: (i, counter): autocannon.Request[] => {
      const chain = chains[i]!;
      return [
        {
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: graphqlBody(REFRESH, { refreshToken: chain.refreshToken }) }),
          onResponse: (status: number, body: string) => {
            if (status < 200 || status >= 300) return;
            const parsed = JSON.parse(body) as GraphQLResponse<{ refreshToken: Tokens }>;
            if (parsed.data?.refreshToken && !parsed.errors) {
              chain.refreshToken = parsed.data.refreshToken.refreshToken;
              chain.accessToken = parsed.data.refreshToken.accessToken;
              counter.ops += 1;
            } else {
              counter.fail(body);
            }
          },
        },
      ];
    },
  });
}

/**
 * The raw cost of a rotation's writes: per chain, a transaction that marks the newest row
 * used (pointing at its successor) and inserts the successor, as single-row statements with
 * `pg` on the same table, the same pool size and the same concurrency.
 */
async function rawRotations(context: BenchContext, sessionIds: string[], seconds: number): Promise<Measurement> {
  const { connections, poolMax } = context.options;
  const pool = new pg.Pool({ connectionString: context.db.url, max: poolMax });
  const counter = new PhaseCounter();
  const insert = `insert into "refresh_token" ("jti", "access_jti", "session_id", "parent_jti", "issued_at", "expires_at", "access_expires_at")
                  values ($1, $2, $3, $4, now(), now() + interval '1 day', now() + interval '5 minutes')`;
  try {
    const heads = await Promise.all(
      sessionIds.map(async (sessionId) => {
        const jti = randomUUID();
        await pool.query(insert, [jti, randomUUID(), sessionId, null]);
        return { sessionId, jti };
      }),
    );
    const started = process.hrtime.bigint();
    await closedLoop(
      connections,
      seconds,
      async (worker) => {
        const head = heads[worker % heads.length]!;
        const next = randomUUID();
        const t0 = process.hrtime.bigint();
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query(`update "refresh_token" set "used_at" = now(), "successor_jti" = $2 where "jti" = $1 and "used_at" is null`, [head.jti, next]);
          await client.query(insert, [next, randomUUID(), head.sessionId, head.jti]);
          await client.query('commit');
          head.jti = next;
          counter.ok(elapsedMs(t0));
        } catch (error) {
          await client.query('rollback').catch(() => {});
          counter.fail(String(error));
        } finally {
          client.release();
        }
      },
      context.options.throttle,
    );
    return counter.finish(`raw pg INSERT+UPDATE transactions, ${connections} concurrent, pool ${poolMax}`, elapsedMs(started) / 1000);
  } finally {
    await pool.end();
  }
}

/** W3: refreshToken chains against raw INSERT+UPDATE transactions. */
export async function runW3(context: BenchContext): Promise<WorkloadResult> {
  const { connections } = context.options;
  const users = context.db.startups.slice(0, connections);
  // Warm-up and measurement each get their own chains (a chain's tokens are spent as it goes).
  const warmupChains = context.warmupSeconds > 0 ? await context.freshSessions(users) : [];
  const chains = await context.freshSessions(users);
  const sessionIds = await sessionIdsOf(context, connections);

  const raw = await warmedUp(context, (seconds) => rawRotations(context, sessionIds, seconds));
  await context.app.resetPeak();
  let round = 0;
  const refresh = await warmedUp(
    context,
    (seconds) => refreshChains(context, round++ === 0 && warmupChains.length > 0 ? warmupChains : chains, seconds),
    context.app,
  );
  const ratio = ratioOf(refresh.perSecond, raw.perSecond);
  return {
    id: 'W3',
    title: `refreshToken chains at ${connections} connections`,
    measurements: [raw, refresh],
    appPeakRss: (await context.app.stats()).peakRss,
    notes: [],
    rows: [
      {
        workload: 'W3',
        metric: 'refreshToken throughput vs raw pg',
        unit: 'req/s',
        value: refresh.perSecond,
        baseline: raw.perSecond,
        ratio,
        goal: '≥ 50 %',
        met: ratio !== null && ratio >= 0.5,
      },
      {
        workload: 'W3',
        metric: 'refreshToken p99',
        unit: 'ms',
        value: refresh.p99,
        baseline: raw.p99,
        ratio: ratioOf(refresh.p99, raw.p99),
        goal: '',
        met: null,
      },
      {
        workload: 'W3',
        metric: 'server CPU per refresh',
        unit: 'ms',
        value: refresh.serverCpuMsPerOp ?? null,
        baseline: null,
        ratio: null,
        goal: '',
        met: null,
      },
    ],
  };
}

async function sessionIdsOf(context: BenchContext, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: context.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`select "id" from "session" order by "created_at" limit $1`, [count]);
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}
