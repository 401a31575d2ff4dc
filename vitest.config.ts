import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const BENCH_SMOKE = 'test/bench-smoke.test.ts';

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
      { extends: true, test: { name: 'api', include: ['test/**/*.test.ts'], exclude: [BENCH_SMOKE], sequence: { groupOrder: 0 } } },
      // The bench smoke loads both cores; alone and last, it cannot slow the timing-sensitive
      // tests (revocation "within a second") running beside it.
      { extends: true, test: { name: 'bench-smoke', include: [BENCH_SMOKE], sequence: { groupOrder: 1 } } },
    ],
  },
});
