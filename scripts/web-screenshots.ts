/**
 * Regenerates docs/screenshots/*.png: runs the web client's end-to-end test (a real Chromium,
 * two users), which saves the main screens when WEB_SCREENSHOTS_DIR is set.
 * Uses DATABASE_URL when set, embedded PostgreSQL otherwise (like npm test).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const result = spawnSync('npx', ['vitest', 'run', '--project', 'web-e2e'], {
  stdio: 'inherit',
  env: { ...process.env, WEB_SCREENSHOTS_DIR: resolve('docs/screenshots') },
});
process.exit(result.status ?? 1);
