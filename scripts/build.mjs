// `npm run build` builds every target but those built on request (`build.mjs bench`); `npm start`
// (and the other production scripts) run `node scripts/build.mjs --if-stale` first, which builds
// only targets whose output is missing or older than one of their inputs, so
// `npm install && npm start` works from a fresh clone.
// Plain JavaScript: it runs before anything is compiled, on the same Node as the server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * What `npm start` needs built. Each target: the files and folders it is built from, the stamp
 * written after a successful build, and the command (run from the project root).
 * A web client (web/ → its own output) is added here as one more target.
 */
const targets = [
  {
    id: 'server',
    name: 'server (tsc → dist/)',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    stamp: 'dist/.build-stamp',
    command: () => [process.execPath, [resolveBin('typescript/bin/tsc', 'typescript'), '-p', 'tsconfig.build.json']],
  },
  {
    // Only when asked for by name: `npm start` never needs it.
    id: 'bench',
    name: 'bench server child (tsc → dist-bench/)',
    onRequest: true,
    inputs: ['src', 'scripts/bench', 'tsconfig.json', 'tsconfig.bench.json', 'package-lock.json'],
    stamp: 'dist-bench/.build-stamp',
    command: () => [process.execPath, [resolveBin('typescript/bin/tsc', 'typescript'), '-p', 'tsconfig.bench.json']],
  },
];

function resolveBin(path, pkg) {
  try {
    return require.resolve(path);
  } catch {
    console.error(`Building needs the dev dependency ${pkg}: run \`npm install\` (with dev dependencies), or build before \`npm prune --omit=dev\`.`);
    process.exit(1);
  }
}

/** Newest modification time under `path` (a file or a folder), 0 when it does not exist. */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its folder's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const isStale = (target) => {
  const stamp = join(root, target.stamp);
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return target.inputs.some((input) => newestMtime(join(root, input)) > built);
};

/**
 * One build at a time (two `npm start`s, or two test files, may ask together): mkdir is atomic.
 * The lock names its holder; a lock whose holder is gone (a build stopped with Ctrl-C) is taken over.
 */
async function withLock(fn) {
  const lock = join(root, '.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (!holderAlive(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function holderAlive(lock) {
  let pid;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not written yet; or removed meanwhile. Old and empty means abandoned.
    const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    return Date.now() - since < 10_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const onlyStale = process.argv.includes('--if-stale');
// Targets named on the command line, or else every target that is not built only on request.
const named = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const wanted = targets.filter((target) => (named.length ? named.includes(target.id) : !target.onRequest));
// Checked before and again under the lock: usually nothing is stale and no lock is taken.
if (!onlyStale || wanted.some(isStale)) await withLock(buildAll);

function buildAll() {
  for (const target of wanted) {
    if (onlyStale && !isStale(target)) continue;
    if (!build(target)) return;
  }
}

function build(target) {
  const startedAt = Date.now();
  // Not `console.log`: stdout of `npm start` is the server's log.
  process.stderr.write(`building ${target.name}…\n`);
  const [command, args] = target.command();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build of ${target.name} failed${result.signal ? ` (${result.signal})` : ''}`);
    process.exitCode = result.status || 1; // not exit(): the lock is released first
    return false;
  }
  mkdirSync(dirname(join(root, target.stamp)), { recursive: true });
  writeFileSync(join(root, target.stamp), `${new Date(startedAt).toISOString()}\n`);
  // Dated when the build started: an input edited while it ran is newer, so it rebuilds next time.
  utimesSync(join(root, target.stamp), startedAt / 1000, startedAt / 1000);
  process.stderr.write(`built ${target.name} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  return true;
}
