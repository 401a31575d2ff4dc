import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from '../helpers/app.js';
import { LOGOUT_ALL, fieldErrors } from '../helpers/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${t.url}/graphql`, { method: 'POST', headers, body });

/** A body sent in these chunks with Transfer-Encoding: chunked, so without a Content-Length. */
const postChunked = (parts: string[]) => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' };
  return fetch(`${t.url}/graphql`, init as RequestInit);
};

/** Every refusal here must be a clean 4xx or a GraphQL error, never a 500 and never a crash. */
async function expectRefused(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBeLessThan(500);
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: Array<{ message: string }>; data?: unknown };
  expect(body.errors?.length).toBeGreaterThan(0);
  return body;
}

describe('query limits (graphql-armor)', () => {
  it('refuses a query nested deeper than the limit', async () => {
    let selection = 'id';
    for (let i = 0; i < 8; i++) selection = `startupProfile { owner { ${selection} } }`;
    const body = await expectRefused(await post(JSON.stringify({ query: `{ me { ${selection} } }` })));
    expect(JSON.stringify(body)).toMatch(/depth/i);
  });

  it('refuses an alias bomb', async () => {
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: industries { id name }`).join(' ');
    const body = await expectRefused(await post(JSON.stringify({ query: `{ ${aliases} }` })));
    expect(JSON.stringify(body)).toMatch(/alias/i);
  });

  it('refuses a document with too many tokens', async () => {
    const fields = Array.from({ length: 3_000 }, () => 'id').join(' ');
    const body = await expectRefused(await post(JSON.stringify({ query: `{ industries { ${fields} } }` })));
    expect(JSON.stringify(body)).toMatch(/token/i);
  });

  it('refuses a directive flood', async () => {
    const directives = Array.from({ length: 50 }, () => '@include(if: true)').join(' ');
    await expectRefused(await post(JSON.stringify({ query: `{ industries ${directives} { id } }` })));
  });

  it('still answers the deepest query a client really sends', async () => {
    const result = await t.gql(
      `{ startups(first: 5) { edges { cursor node { id owner { id startupProfile { industry { name } location { city } } } } } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(result.errors).toBeUndefined();
  });
});

describe('transport abuse', () => {
  it('refuses batched operations (batching is off)', async () => {
    const response = await post(JSON.stringify([{ query: '{ industries { id } }' }, { query: '{ locations { id } }' }]));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('refuses a body over the size limit with 413', async () => {
    const response = await post(JSON.stringify({ query: '{ industries { id } }', variables: { pad: 'x'.repeat(200_000) } }));
    expect(response.status).toBe(413);
  });

  it('refuses a chunked body (no Content-Length) once it passes the size limit, with 413', async () => {
    const body = JSON.stringify({ query: '{ industries { id } }', variables: { pad: 'x'.repeat(200_000) } });
    const response = await postChunked(Array.from({ length: Math.ceil(body.length / 16_384) }, (_, i) => body.slice(i * 16_384, (i + 1) * 16_384)));
    expect(response.status).toBe(413);
  });

  it('answers a chunked body under the size limit as usual', async () => {
    const body = JSON.stringify({ query: '{ industries { id } }' });
    const response = await postChunked([body.slice(0, 10), body.slice(10)]);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data?: { industries?: unknown[] } }).data?.industries).toBeInstanceOf(Array);
  });

  it.each([
    ['malformed JSON', '{"query": "{ industries { id } }"', { 'content-type': 'application/json' }],
    ['JSON that is not an object', '42', { 'content-type': 'application/json' }],
    ['a query that is not a string', '{"query": {"a": 1}}', { 'content-type': 'application/json' }],
    ['an unsupported content type', 'query={ industries { id } }', { 'content-type': 'application/xml' }],
    ['an empty body', '', { 'content-type': 'application/json' }],
  ])('answers %s with a 4xx, never a 500', async (_name, body, headers) => {
    const response = await post(body, headers);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it.each([
    ['an invalid startup id', '{ startup(id: "not-a-uuid") { id } }', null],
    ['an invalid investor id', '{ investor(id: "\\u0000") { id } }', null],
  ])('answers %s without an error', async (_name, query) => {
    const result = await t.gql(query);
    expect(result.errors).toBeUndefined();
  });

  it.each(['garbage', '\u0000\u0001', 'eyJub3QiOiJhIGN1cnNvciJ9', 'x'.repeat(10_000)])('answers an invalid cursor (%#) with BAD_USER_INPUT', async (after) => {
    const result = await t.gql('query($after: String) { startups(after: $after) { edges { cursor } } }', { after });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
  });

  it('keeps unicode and refuses control characters in text fields, without a 500', async () => {
    const input = {
      email: `unicode-${Date.now()}@example.com`,
      password: 'pässwörd-🔑-долгий',
      role: 'STARTUP',
      companyName: 'Київ 🚀 Labs — “Ω”',
      website: 'https://xn--80ak6aa92e.com',
      firstName: 'Ivan\u0007',
    };
    const refused = await t.gql('mutation($input: RegisterInput!) { register(input: $input) { ok } }', { input });
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(Object.keys(fieldErrors(refused) ?? {})).toEqual(['firstName']);
    const accepted = await t.gql('mutation($input: RegisterInput!) { register(input: $input) { ok } }', { input: { ...input, firstName: 'Іван' } });
    expect(accepted.data).toEqual({ register: { ok: true } });
  });
});

describe('security headers and CSRF', () => {
  it('sends defensive headers', async () => {
    const response = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ industries { id } }')}`, { headers: { accept: 'application/json' } });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('refuses a form POST a foreign page could send without a preflight (CSRF prevention)', async () => {
    const body = new URLSearchParams({ query: LOGOUT_ALL });
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(403);
    const withHeader = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-yoga-csrf': '1' },
      body: new URLSearchParams({ query: '{ industries { id } }' }),
    });
    expect(withHeader.status).toBe(200);
  });

  it('keeps GET queries working without a header: GET never mutates', async () => {
    const response = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ industries { id } }')}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    const mutation = await fetch(`${t.url}/graphql?query=${encodeURIComponent(LOGOUT_ALL)}`, { headers: { accept: 'application/json' } });
    expect(mutation.status).toBe(405);
  });
});
