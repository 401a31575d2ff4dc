import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

/** A stand-in for `npm run build:web` output: what matters here is how /app serves files. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'forum-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/app/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("client")');
  return dir;
}

describe('the web client at /app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { WEB_CLIENT_DIR: fakeBuild() } });
  });
  afterAll(() => t?.stop());

  it('serves index.html revalidated on every load, with a CSP that allows only its own origin', async () => {
    const response = await fetch(`${t.url}/app/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(await response.text()).toContain('/app/assets/index-abc123.js');
  });

  it('serves hashed assets as immutable for a year', async () => {
    const response = await fetch(`${t.url}/app/assets/index-abc123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await response.text()).toBe('console.log("client")');
  });

  it('answers a revalidation of an unchanged file with 304', async () => {
    const first = await fetch(`${t.url}/app/`);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${t.url}/app/`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });

  it("answers the client's own routes with index.html, so a reload of /app/chats/12 works", async () => {
    for (const path of ['/app/chats/12', '/app/sign-in', '/app/activate?token=abc']) {
      const response = await fetch(`${t.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('index-abc123.js');
    }
  });

  it('redirects /app to /app/ and answers missing assets and escapes from the build directory with 404', async () => {
    const bare = await fetch(`${t.url}/app`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/app/');
    expect((await fetch(`${t.url}/app/assets/missing-123.js`)).status).toBe(404);
    expect((await fetch(`${t.url}/app/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${t.url}/app/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
  });

  it('refuses writes', async () => {
    expect((await fetch(`${t.url}/app/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});

describe('the web client before it is built', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { WEB_CLIENT_DIR: mkdtempSync(join(tmpdir(), 'forum-web-empty-')) } });
  });
  afterAll(() => t?.stop());

  it('says how to build it instead of failing obscurely', async () => {
    const response = await fetch(`${t.url}/app/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build:web');
  });
});
