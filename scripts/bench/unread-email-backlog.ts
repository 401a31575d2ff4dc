// Does a backlog of unread messages slow sendMessage? Measures sequential sendMessage latency
// (HTTP, one in flight) against an in-process app on real PostgreSQL: with no other messages,
// with 10,000 pending unread messages (not due yet), and while the unread-email scan works
// through 10,000 that fell due at once.
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/unread-email-backlog.ts [sends]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/env.js';
import { BENCH_PASSWORD } from './bench-database.js';
import { createBenchDatabase } from './bench-database.js';
import { LOGIN, SEND_MESSAGE, START_CONVERSATION, gql, type Tokens } from './api.js';

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('set DATABASE_URL to a PostgreSQL server');
const sends = Number(process.argv[2] ?? 500);
const BACKLOG = 10_000;

const db = await createBenchDatabase(serverUrl, 101);
const config = parseConfig({
  NODE_ENV: 'production',
  JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-keys',
  LOG_LEVEL: 'silent',
  DATABASE_URL: db.url,
  DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-unread-bench-')),
  ACCESS_TOKEN_TTL: '7200',
  UNREAD_EMAIL_DELAY_SECONDS: '600',
  UNREAD_EMAIL_SCAN_SECONDS: '1',
});
let app = await buildApp(config);
let url = `http://127.0.0.1:${(await app.start(0)).port}`;
const client = new pg.Client({ connectionString: db.url });
await client.connect();

try {
  const [investor, ...others] = db.investors;
  const startup = db.startups[0]!;
  let tokens = (await gql<{ login: Tokens }>(url, LOGIN, { email: investor!.email, password: BENCH_PASSWORD })).login;
  const conversationId = (await gql<{ startConversation: { id: string } }>(url, START_CONVERSATION, { userId: startup.id }, tokens.accessToken))
    .startConversation.id;
  // The backlog lives in 100 other conversations, between other users.
  await client.query(
    `insert into "conversation" ("id", "investor_id", "startup_id", "created_at", "last_activity_at")
     select gen_random_uuid(), i."id", s."id", now(), now()
     from unnest($1::uuid[], $2::uuid[]) as p(investor, startup) join "user" i on i."id" = p.investor join "user" s on s."id" = p.startup`,
    [others.slice(0, 100).map((u) => u.id), db.startups.slice(1, 101).map((u) => u.id)],
  );

  async function measure(label: string): Promise<void> {
    const times: number[] = [];
    for (let i = 0; i < sends; i++) {
      const started = process.hrtime.bigint();
      await gql(url, SEND_MESSAGE, { conversationId, body: `message ${i}` }, tokens.accessToken);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
    const mean = (times.reduce((sum, t) => sum + t, 0) / times.length).toFixed(2);
    console.log(`${label.padEnd(58)} mean ${mean} ms  p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  (${sends} sends)`);
  }

  /** 10,000 unread messages from investors to startups, `age` old (due when older than the delay). */
  const backlog = (age: string) =>
    client.query(
      `insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at")
       select gen_random_uuid(), c."id", c."investor_id", 'backlog', now() - $2::interval + (i || ' ms')::interval
       from generate_series(1, $1::int) i
       join lateral (select * from "conversation" where "id" <> $3 order by "id" offset (i % 100) limit 1) c on true`,
      [BACKLOG, age, conversationId],
    );

  await measure('no other messages');
  await backlog('1 minute');
  await client.query('analyze "message"');
  await measure(`${BACKLOG} pending unread messages (not due)`);
  await client.query(`delete from "message" where "body" = 'backlog'`);
  await measure('backlog deleted again');
  // Due at once: the scan drains them in batches of UNREAD_EMAIL_BATCH while we send. Messages
  // cannot be sent an hour ago, so the watermark goes back instead, and a new instance starts
  // (a running one keeps the watermark it saw: it only ever moves forward outside this script).
  await app.stop();
  await client.query(`update "unread_email_scan" set "scanned_created_at" = now() - interval '2 hours'`);
  await backlog('1 hour');
  app = await buildApp(config);
  url = `http://127.0.0.1:${(await app.start(0)).port}`;
  tokens = (await gql<{ login: Tokens }>(url, LOGIN, { email: investor!.email, password: BENCH_PASSWORD })).login;
  await measure(`${BACKLOG} unread messages falling due at once (scan draining)`);
  const { rows } = await client.query<{ queued: number }>(`select count(*)::int as "queued" from "mail_outbox" where "kind" = 'unread_messages'`);
  const [{ left }] = (
    await client.query<{ left: number }>(
      `select count(*)::int as "left" from "message" m, "unread_email_scan" w where (m."created_at", m."id") > (w."scanned_created_at", w."scanned_message_id") and m."created_at" <= now() - interval '600 seconds'`,
    )
  ).rows as [{ left: number }];
  console.log(`unread-message emails queued: ${rows[0]?.queued}; due messages not yet examined: ${left}`);
} finally {
  await client.end();
  await app.stop();
  await db.drop();
}
