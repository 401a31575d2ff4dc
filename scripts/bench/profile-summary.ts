/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): self time by function
 * and by package, and inclusive time. Usage: tsx scripts/bench/profile-summary.ts FILE.cpuprofile [top] [skip-seconds]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (scoped too), "node:" internals, our own src/, or the V8 pseudo frames. */
function packageOf(url: string, functionName: string): string {
  if (!url) return `(${functionName || 'native'})`;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(src|scripts)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

const keyOf = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${packageOf(url, functionName)}:${lineNumber + 1}`;
};

/**
 * `skipSeconds` drops the start of the profile (module loading, setup), so that what remains
 * is the server under load. Idle time is left out of the percentages.
 */
function summarise(file: string, top: number, skipSeconds: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfUs = new Map<number, number>();
  const inclusive = new Map<string, number>();
  let clock = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    clock += delta;
    if (clock < skipSeconds * 1e6) return;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    // Inclusive time: each function once per stack, however deep its recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const key = keyOf(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    const key = keyOf(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
      .join('\n');
  const ownInclusive = new Map([...inclusive].filter(([key]) => / (src|scripts)\//.test(key)));
  return [
    `${file}: ${(total / 1e6).toFixed(1)} s on CPU after the first ${skipSeconds} s (idle left out)`,
    `self time by package:\n${rows(byPackage)}`,
    `self time by function:\n${rows(byFunction)}`,
    `inclusive time, all functions:\n${rows(inclusive)}`,
    `inclusive time, our code:\n${rows(ownInclusive)}`,
  ].join('\n');
}

const [file, top, skip] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx scripts/bench/profile-summary.ts FILE.cpuprofile [top=25] [skip-seconds=0]');
  process.exit(1);
}
console.log(summarise(file, Number(top ?? 25), Number(skip ?? 0)));
