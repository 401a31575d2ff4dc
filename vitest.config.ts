import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const BENCH_SMOKE = 'test/bench-smoke.test.ts';
const WEB_E2E = 'test/web-client.e2e.test.ts';

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node resolves it to its CJS build, Vite to its .mjs one.
    // Two copies break `instanceof GraphQLError` in Yoga's error masking, so pin Node's choice.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: each file runs its own app, database and SMTP server.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'api', include: ['test/**/*.test.ts'], exclude: [BENCH_SMOKE, WEB_E2E], sequence: { groupOrder: 0 } } },
      // The bench smoke loads both cores; alone and last, it cannot slow the timing-sensitive
      // tests (revocation "within a second") running beside it.
      { extends: true, test: { name: 'bench-smoke', include: [BENCH_SMOKE], sequence: { groupOrder: 1 } } },
      // The web client's unit tests (token manager) run in Node, with Node's own BroadcastChannel.
      { extends: true, test: { name: 'web', include: ['web/src/**/*.test.ts'] } },
      // Chromium takes both cores for a while: alone, after everything else.
      { extends: true, test: { name: 'web-e2e', include: [WEB_E2E], sequence: { groupOrder: 2 } } },
    ],
  },
});
