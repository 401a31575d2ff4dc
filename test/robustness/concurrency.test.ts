import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { withClient } from '../helpers/database.js';
import { ME, REFRESH, REGISTER } from '../helpers/graphql.js';
import { createActiveUser, login, registerInput } from '../helpers/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

describe('concurrency', () => {
  it('100 concurrent registrations of one email create one user, one profile and answer alike', async () => {
    const input = registerInput();
    const results = await Promise.all(Array.from({ length: 100 }, () => t.gql(REGISTER, { input })));
    const answers = new Set(results.map((r) => JSON.stringify(r)));
    expect(answers.size).toBe(1);
    expect(results[0]?.data).toEqual({ register: { ok: true, message: expect.any(String) } });
    const counts = await withClient(t.db.url, async (c) => ({
      users: Number((await c.query(`select count(*) from "user" where email = $1`, [input.email])).rows[0].count),
      profiles: Number(
        (await c.query(`select count(*) from startup_profile s join "user" u on u.id = s.owner_id where u.email = $1`, [input.email])).rows[0].count,
      ),
    }));
    expect(counts).toEqual({ users: 1, profiles: 1 });
    console.info(`100 concurrent registrations: 1 user, 1 profile, ${answers.size} distinct answer`);
  });

  it('100 concurrent refreshes of one token produce exactly one new pair', async () => {
    const user = await createActiveUser(t);
    const tokens = await login(t, user);
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.gql<{ refreshToken: { refreshToken: string } }>(REFRESH, {
          refreshToken: tokens.refreshToken,
        }),
      ),
    );
    const pairs = new Set(results.map((r) => r.data?.refreshToken.refreshToken));
    expect(results.every((r) => r.data)).toBe(true);
    expect(pairs.size).toBe(1);
    console.info(`100 concurrent refreshes: ${pairs.size} pair, 0 errors`);
  });
});

describe('/metrics', () => {
  it('exposes requests, errors by code, latency, sockets, outbox backlog and revoked-session cache in Prometheus format', async () => {
    await t.gql(ME, {}, { token: 'not-a-token' });
    await t.gql('{ industries { id } }');
    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/forum_http_requests_total\{method="POST",route="\/graphql",status="200"\} \d+/);
    expect(text).toMatch(/forum_http_request_duration_seconds_bucket\{le="0\.05",route="\/graphql"\} \d+/);
    expect(text).toMatch(/forum_graphql_errors_total\{code="INVALID_TOKEN"\} [1-9]/);
    expect(text).toMatch(/forum_websocket_connections \d+/);
    expect(text).toMatch(/forum_mail_outbox_backlog \d+/);
    expect(text).toMatch(/forum_revoked_sessions_cached \d+/);
    expect(text).toMatch(/forum_process_resident_memory_bytes \d+/);
  });
});
