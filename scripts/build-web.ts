/**
 * Builds the web client into web/dist (served by the API at /app).
 *   tsx scripts/build-web.ts             always builds
 *   tsx scripts/build-web.ts --if-stale  builds only when web/dist is missing or older than its
 *                                        sources; never stops the server from starting
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = resolve(fileURLToPath(new URL('../web', import.meta.url)));
const builtIndex = join(webDir, 'dist', 'index.html');
const ifStale = process.argv.includes('--if-stale');

function newestSourceMtime(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestSourceMtime(join(path, name))));
}

function isStale(): boolean {
  if (!existsSync(builtIndex)) return true;
  const sources = ['src', 'index.html', 'vite.config.ts', 'public'].map((name) => join(webDir, name)).filter(existsSync);
  return Math.max(...sources.map(newestSourceMtime)) > statSync(builtIndex).mtimeMs;
}

if (ifStale && !isStale()) process.exit(0);

let vite: typeof import('vite');
try {
  vite = await import('vite');
} catch {
  // A production install without devDependencies: serve what was built before, if anything.
  console.warn('build-web: vite is not installed (devDependencies omitted?); the web client at /app is not rebuilt.');
  process.exit(ifStale ? 0 : 1);
}

try {
  await vite.build({ configFile: join(webDir, 'vite.config.ts'), logLevel: ifStale ? 'warn' : 'info' });
  if (ifStale) console.log('build-web: web client built into web/dist');
} catch (error) {
  console.error('build-web: the web client did not build:', error);
  process.exit(ifStale ? 0 : 1);
}
