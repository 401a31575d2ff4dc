import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MESSAGE_SENT, SEND_MESSAGE, START_CONVERSATION, gql, mapLimit } from '../api.js';
import type { BenchContext } from '../context.js';
import { PhaseCounter, elapsedMs, sleep, type Measurement } from '../latency.js';
import { ratioOf, type WorkloadResult } from '../report.js';
import { openSocket, request, socketUrl, type OpenSocket } from '../ws-client.js';
import { closedLoop, warmedUp } from './phases.js';

interface Pair {
  conversationId: string;
  investorId: string;
  sender: OpenSocket;
  receiver: OpenSocket;
}

const DELIVERY_TIMEOUT_MS = 10_000;

/** Messages sent and not yet seen by their receiver, by body (bodies are unique). */
class Deliveries {
  private readonly waiting = new Map<string, (receivedAt: bigint) => void>();

  expect(body: string): Promise<bigint> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(body);
        reject(new Error(`message not delivered within ${DELIVERY_TIMEOUT_MS} ms`));
      }, DELIVERY_TIMEOUT_MS);
      this.waiting.set(body, (receivedAt) => {
        clearTimeout(timer);
        resolve(receivedAt);
      });
    });
  }

  received(body: string): void {
    const now = process.hrtime.bigint();
    this.waiting.get(body)?.(now);
    this.waiting.delete(body);
  }
}

async function setUpPairs(context: BenchContext, deliveries: Deliveries): Promise<Pair[]> {
  const count = context.options.chatPairs;
  const investors = context.db.investors.slice(0, count);
  const startups = context.db.startups.slice(0, count);
  const [investorTokens, startupTokens] = [await context.signedIn(investors), await context.signedIn(startups)];
  const conversationIds = await mapLimit(investors, 8, async (_investor, i) => {
    const data = await gql<{ startConversation: { id: string } }>(
      context.appUrl,
      START_CONVERSATION,
      { userId: startups[i]!.id },
      investorTokens[i]!.accessToken,
    );
    return data.startConversation.id;
  });
  const pairs = await mapLimit(investors, 25, async (investor, i): Promise<Pair> => {
    const sender = await openSocket(socketUrl(context.app.port, investorTokens[i]!.accessToken));
    const receiver = await openSocket(socketUrl(context.app.port, startupTokens[i]!.accessToken));
    receiver.client.subscribe<{ messageSent: { body: string } }>(
      { query: MESSAGE_SENT, variables: { conversationId: conversationIds[i] } },
      {
        next: (result) => {
          if (result.data?.messageSent) deliveries.received(result.data.messageSent.body);
        },
        error: (error) => context.say(`  subscription ${i} failed: ${JSON.stringify(error)}`),
        complete: () => {},
      },
    );
    return { conversationId: conversationIds[i]!, investorId: investor.id, sender, receiver };
  });
  // A subscription is live only once the server has run its subscribe; until a first message
  // comes through, sends could go unheard and count as losses.
  await mapLimit(pairs, 25, async (pair) => {
    for (let attempt = 0; ; attempt++) {
      const body = `ready ${randomUUID()}`;
      const delivered = deliveries.expect(body).catch(() => null);
      await request(pair.sender.client, SEND_MESSAGE, { conversationId: pair.conversationId, body });
      if (await Promise.race([delivered, sleep(500).then(() => null)])) return;
      if (attempt === 20) throw new Error('a messageSent subscription never went live');
    }
  });
  return pairs;
}

let sequence = 0;

/** Sends one message from the pair's investor and resolves with the time until its receiver had it. */
async function sendAndDeliver(pair: Pair, deliveries: Deliveries): Promise<number> {
  const body = `bench ${++sequence} ${pair.conversationId}`;
  const delivered = deliveries.expect(body);
  const t0 = process.hrtime.bigint();
  await request(pair.sender.client, SEND_MESSAGE, { conversationId: pair.conversationId, body });
  const receivedAt = await delivered;
  return Number(receivedAt - t0) / 1e6;
}

/** Every pair sends as soon as its previous message has arrived: the most the system delivers. */
async function maxRate(pairs: Pair[], deliveries: Deliveries, seconds: number, throttle?: number): Promise<Measurement> {
  const counter = new PhaseCounter();
  const started = process.hrtime.bigint();
  await closedLoop(
    pairs.length,
    seconds,
    async (i) => {
      try {
        counter.ok(await sendAndDeliver(pairs[i]!, deliveries));
      } catch (error) {
        counter.fail(String(error));
      }
    },
    throttle,
  );
  return counter.finish(`delivered messages, ${pairs.length} pairs, closed loop`, elapsedMs(started) / 1000);
}

/** Messages at a fixed total rate, evenly spread over the pairs (open loop: lateness shows as latency). */
async function fixedRate(pairs: Pair[], deliveries: Deliveries, seconds: number, perSecond: number): Promise<Measurement> {
  const counter = new PhaseCounter();
  const interval = (pairs.length / perSecond) * 1000;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const inFlight: Promise<void>[] = [];
  await Promise.all(
    pairs.map(async (pair) => {
      let next = started + Math.random() * interval;
      while (next < deadline) {
        await sleep(Math.max(0, next - Date.now()));
        inFlight.push(
          sendAndDeliver(pair, deliveries).then(
            (ms) => counter.ok(ms),
            (error: unknown) => counter.fail(String(error)),
          ),
        );
        next += interval;
      }
    }),
  );
  await Promise.all(inFlight);
  return counter.finish(`delivered messages at ${perSecond.toFixed(0)}/s (half the closed-loop rate)`, seconds);
}

/** The raw cost of storing a message: one single-row INSERT of the same row, same pool and concurrency. */
async function rawInserts(context: BenchContext, pairs: Pair[], seconds: number): Promise<Measurement> {
  const pool = new pg.Pool({ connectionString: context.db.url, max: context.options.poolMax });
  const counter = new PhaseCounter();
  const started = process.hrtime.bigint();
  try {
    await closedLoop(
      pairs.length,
      seconds,
      async (i) => {
        const pair = pairs[i]!;
        const t0 = process.hrtime.bigint();
        try {
          await pool.query(`insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at") values ($1, $2, $3, $4, now())`, [
            randomUUID(),
            pair.conversationId,
            pair.investorId,
            `raw ${++sequence} ${pair.conversationId}`,
          ]);
          counter.ok(elapsedMs(t0));
        } catch (error) {
          counter.fail(String(error));
        }
      },
      context.options.throttle,
    );
    return counter.finish(`raw pg INSERT of message rows, ${pairs.length} concurrent, pool ${context.options.poolMax}`, elapsedMs(started) / 1000);
  } finally {
    await pool.end();
  }
}

/** W5: chat delivery (sendMessage → messageSent) against raw inserts of the same rows. */
export async function runW5(context: BenchContext): Promise<WorkloadResult> {
  const deliveries = new Deliveries();
  const pairs = await setUpPairs(context, deliveries);
  try {
    const raw = await warmedUp(context, (seconds) => rawInserts(context, pairs, seconds));
    await context.app.resetPeak();
    const max = await warmedUp(context, (seconds) => maxRate(pairs, deliveries, seconds, context.options.throttle), context.app);
    const half = await fixedRate(pairs, deliveries, context.options.seconds, Math.max(1, max.perSecond / 2));
    context.say(`  ${half.name}: p99 ${half.p99?.toFixed(2) ?? '–'} ms, errors ${half.errors}`);
    const ratio = ratioOf(max.perSecond, raw.perSecond);
    return {
      id: 'W5',
      title: `chat, ${pairs.length} investor/startup pairs`,
      measurements: [raw, max, half],
      appPeakRss: (await context.app.stats()).peakRss,
      notes: [],
      rows: [
        {
          workload: 'W5',
          metric: 'delivered messages vs raw inserts',
          unit: 'msg/s',
          value: max.perSecond,
          baseline: raw.perSecond,
          ratio,
          goal: '≥ 40 %',
          met: ratio !== null && ratio >= 0.4,
        },
        { workload: 'W5', metric: 'end-to-end p99 at the max rate', unit: 'ms', value: max.p99, baseline: null, ratio: null, goal: '', met: null },
        {
          workload: 'W5',
          metric: 'server CPU per delivered message',
          unit: 'ms',
          value: max.serverCpuMsPerOp ?? null,
          baseline: null,
          ratio: null,
          goal: '',
          met: null,
        },
        {
          workload: 'W5',
          metric: 'end-to-end p99 at half the max rate',
          unit: 'ms',
          value: half.p99,
          baseline: null,
          ratio: null,
          goal: '≤ 25 ms',
          met: half.p99 !== null && half.p99 <= 25,
        },
      ],
    };
  } finally {
    await Promise.all(pairs.flatMap((pair) => [pair.sender.close(), pair.receiver.close()]));
  }
}
