// Imported first by main.ts, so that a wrong Node stops with one line before the rest of the
// server (which may use what only the pinned Node has) is evaluated.
import { readFileSync } from 'node:fs';

/** `engines.node` of package.json: the one place the supported Node line is written. */
export function requiredNodeRange(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };
  const range = manifest.engines?.node;
  if (!range) throw new Error('package.json has no engines.node');
  return range;
}

const parse = (version: string) => version.replace(/^v/, '').split('.').map(Number);

/**
 * Whether `version` satisfies `range`, which package.json writes as `^MAJOR.MINOR.PATCH`
 * (that major line, at least that release); any other form is refused rather than guessed at.
 */
export function satisfiesNodeRange(version: string, range: string): boolean {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!match) throw new Error(`engines.node must read ^MAJOR.MINOR.PATCH, not ${range}`);
  const [major = 0, minor = 0, patch = 0] = parse(version);
  const [, wantMajor, wantMinor, wantPatch] = match.map(Number) as [number, number, number, number];
  if (major !== wantMajor) return false;
  return minor > wantMinor || (minor === wantMinor && patch >= wantPatch);
}

export function wrongNodeMessage(version: string, range: string): string | undefined {
  if (satisfiesNodeRange(version, range)) return undefined;
  return `Forum API needs Node.js ${range} (.nvmrc pins it; \`npm install\` brings it and npm scripts use it), but this is Node.js ${version}: run it with \`npm start\`, or see README "Runtime".`;
}

const problem = wrongNodeMessage(process.version, requiredNodeRange());
if (problem) {
  console.error(problem);
  process.exit(1);
}
