import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags CI runs Chromium with: no GPU, no QUIC, nothing that phones home. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium; playwright-core launches it with a fresh temporary user-data-dir each time. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/** Builds the web client from the current sources into a temporary directory (what /app serves). */
export async function buildWebClient(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'forum-web-build-'));
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: resolve('web/vite.config.ts'), mode: 'production', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, with the time they happened. */
  errors: Array<{ at: number; text: string }>;
  /** Every URL the page asked for (HTTP and WebSocket) whose host is not 127.0.0.1. */
  foreignRequests: string[];
}

/** A page whose console errors and requests are recorded for the test to assert on. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const watched: WatchedPage = { page, errors: [], foreignRequests: [] };
  const checkHost = (url: string) => {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'data:' || protocol === 'about:') return;
    if (hostname !== '127.0.0.1') watched.foreignRequests.push(url);
  };
  page.on('request', (request) => checkHost(request.url()));
  page.on('websocket', (socket) => checkHost(socket.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') watched.errors.push({ at: Date.now(), text: `${message.text()} (${message.location().url})` });
  });
  page.on('pageerror', (error) => watched.errors.push({ at: Date.now(), text: `uncaught: ${error.message}` }));
  return watched;
}
