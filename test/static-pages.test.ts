import { request } from 'node:http';
import { runInNewContext } from 'node:vm';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { REGISTER } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { tokenFromMail } from './helpers/smtp.js';

// GraphiQL is 9 MB of HTML with every asset inline; it and every other fixed page go out
// compressed as the client accepts, with validators so a reload costs a 304.

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET that sees the bytes on the wire (fetch would decompress them). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const decode = (answer: RawAnswer): Buffer => {
  const encoding = answer.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(answer.body);
  if (encoding === 'gzip') return gunzipSync(answer.body);
  return answer.body;
};

const HTML = { accept: 'text/html,application/xhtml+xml' };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

describe('GraphiQL', () => {
  it('is sent with the encoding the client accepts, the same page in every one; prints the bytes sent', async () => {
    const identity = await rawGet(`${t.url}/graphql`, HTML);
    const br = await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'gzip, deflate, br, zstd' });
    const gzip = await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'gzip, deflate' });
    const notBr = await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'br;q=0, gzip;q=0.5' });

    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(notBr.headers['content-encoding']).toBe('gzip');
    for (const answer of [identity, br, gzip]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toContain('text/html');
      expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
      expect(answer.headers.vary).toMatch(/Accept-Encoding/);
      expect(answer.headers['cache-control']).toBe('no-cache');
    }
    expect(decode(br).equals(identity.body)).toBe(true);
    expect(decode(gzip).equals(identity.body)).toBe(true);
    expect(identity.body.toString()).toContain('Forum API');
    expect(br.body.length).toBeLessThan(identity.body.length / 3);
    expect(gzip.body.length).toBeLessThan(identity.body.length / 3);
    console.info(`GraphiQL bytes sent: identity ${identity.body.length}, gzip ${gzip.body.length}, br ${br.body.length}`);
  });

  it('answers a reload with 304 and no body while it has not changed', async () => {
    const first = await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'br' });
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^".+"$/);
    const again = await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // Another encoding is another representation: the br validator does not match it.
    expect((await rawGet(`${t.url}/graphql`, { ...HTML, 'accept-encoding': 'gzip', 'if-none-match': etag })).status).toBe(200);
  });

  it('leaves GraphQL over GET to Yoga', async () => {
    const answer = await rawGet(`${t.url}/graphql?query=${encodeURIComponent('{ industries { id } }')}`, { accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).data.industries.length).toBeGreaterThan(0);
  });
});

describe('the other fixed pages', () => {
  it('serves /activate compressed and cacheable by validation, with a favicon link', async () => {
    const answer = await rawGet(`${t.url}/activate?token=x`, { 'accept-encoding': 'gzip' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(answer.headers.etag).toBeDefined();
    expect(decode(answer).toString()).toContain('rel="icon" href="/favicon.svg"');
  });

  it.each(['/favicon.svg', '/favicon.ico'])('serves %s (no 404 in the console) with a day of caching', async (path) => {
    const answer = await rawGet(`${t.url}${path}`, { 'accept-encoding': 'br' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/svg+xml');
    expect(answer.headers['cache-control']).toBe('public, max-age=86400');
    expect(decode(answer).toString()).toContain('<svg');
  });

  it("/activate's button activates once, then stays disabled (a second click cannot report the used token)", async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));
    const html = (await rawGet(`${t.url}/activate?token=${token}`)).body.toString();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();

    // The page's own script, with just enough of a DOM, against the real API.
    const listeners: Array<(event: { preventDefault(): void }) => Promise<void>> = [];
    const button = { disabled: false };
    const form = { querySelector: () => button, addEventListener: (_type: string, listener: (typeof listeners)[number]) => listeners.push(listener) };
    const result = { textContent: '' };
    let requests = 0;
    const click = async () => {
      if (!button.disabled) await Promise.all(listeners.map((listener) => listener({ preventDefault: () => {} })));
    };
    runInNewContext(script!, {
      document: { getElementById: (id: string) => (id === 'form' ? form : result) },
      // The activation form has no inputs besides its button.
      FormData: function FormData() {
        return [];
      },
      location: { search: `?token=${token}` },
      URLSearchParams,
      fetch: (path: string, init: RequestInit) => {
        requests += 1;
        return fetch(`${t.url}${path}`, init);
      },
    });
    await click();
    expect(result.textContent).toBe('Your account is active. You can sign in now.');
    expect(button.disabled).toBe(true);
    await click();
    expect(requests).toBe(1);
    expect(result.textContent).toBe('Your account is active. You can sign in now.');
  });
});
