import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../src/env.js';

describe('.env.example', () => {
  it('lists every variable src/env.ts reads, and nothing else', () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(ENV_VARIABLES.length).toBeGreaterThan(30);
    expect([...new Set(listed)].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});
