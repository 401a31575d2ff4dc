import { readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule of DESIGN.md "Layout (target)", read from the import statements of src/:
 * shared ← events, db ← modules ← container ← graphql ← http, ws ← app ← main.
 * A file may import its own layer or a lower one, never a higher one, and no import cycle.
 */
const LAYERS: [rank: number, name: string, test: (file: string) => boolean][] = [
  // A module's *.schema.ts is its GraphQL face: it sits with graphql/, the rest of the module below.
  [4, 'graphql', (f) => f.startsWith('modules/') && f.endsWith('.schema.ts')],
  [0, 'shared', (f) => f.startsWith('shared/') || ['env.ts', 'logger.ts', 'metrics.ts', 'node-version.ts'].includes(f)],
  [1, 'events, db, mail, security', (f) => /^(events|db|mail|security)\//.test(f)],
  [2, 'modules', (f) => f.startsWith('modules/')],
  [3, 'container', (f) => f === 'container.ts'],
  [4, 'graphql', (f) => f.startsWith('graphql/')],
  [5, 'http, ws', (f) => /^(http|ws)\//.test(f)],
  [6, 'app', (f) => f === 'app.ts' || f === 'startup-report.ts'],
  [7, 'main', (f) => f === 'main.ts' || f === 'tokens-flush.ts' || f === 'memory-reducer.ts'],
];

const SRC = new URL('../src/', import.meta.url).pathname;

const sourceFiles = (dir = ''): string[] =>
  readdirSync(SRC + dir).flatMap((entry) => {
    const path = posix.join(dir, entry);
    if (statSync(SRC + path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });

/** Every relative import and re-export of `file` (type-only ones too: they still couple the layers), as src-relative paths. */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(SRC + file, 'utf8'), ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => posix.normalize(posix.join(posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

/**
 * The one sanctioned upward import: db/entities.ts is the ORM's registry of entity classes, so it
 * names each module's *.entity(ies).ts (entities import nothing above shared/ and other entities).
 */
const isEntityRegistration = (file: string, target: string) => file === 'db/entities.ts' && /^modules\/[\w-]+\/[\w.-]+\.entit(y|ies)\.ts$/.test(target);

function layerOf(file: string): { rank: number; name: string } {
  const layer = LAYERS.find(([, , test]) => test(file));
  if (!layer) throw new Error(`${file} is in no layer of test/architecture.test.ts; add it to one`);
  return { rank: layer[0], name: layer[1] };
}

const graph = new Map(sourceFiles().map((file) => [file, importsOf(file)]));

/** Cycles found by a depth-first search; each reported once, as the path that closes it. */
function importCycles(): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('architecture', () => {
  it('puts every file of src/ in a layer and every import on an existing file', () => {
    for (const [file, imports] of graph) {
      layerOf(file);
      for (const target of imports) expect(graph.has(target), `${file} imports ${target}`).toBe(true);
    }
  });

  it('has no import cycle in src/', () => {
    expect(importCycles().map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('never imports a higher layer from a lower one', () => {
    const violations = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((target) => graph.has(target) && layerOf(target).rank > layerOf(file).rank && !isEntityRegistration(file, target))
        .map((target) => `${file} (${layerOf(file).name}) imports ${target} (${layerOf(target).name})`),
    );
    expect(violations).toEqual([]);
  });

  it("lets only a module's *.schema.ts import graphql/, and only main.ts import app.ts", () => {
    const violations = [...graph].flatMap(([file, imports]) =>
      imports
        .filter(
          (target) =>
            (target.startsWith('graphql/') && file.startsWith('modules/') && !file.endsWith('.schema.ts')) || (target === 'app.ts' && file !== 'main.ts'),
        )
        .map((target) => `${file} imports ${target}`),
    );
    expect(violations).toEqual([]);
  });

  it('finds the violations it is meant to find', () => {
    graph.set('shared/fake-low.ts', ['graphql/fake-high.ts']);
    graph.set('graphql/fake-high.ts', ['shared/fake-low.ts']);
    try {
      expect(importCycles().map((cycle) => cycle.join(' → '))).toContain('shared/fake-low.ts → graphql/fake-high.ts → shared/fake-low.ts');
      expect(layerOf('graphql/fake-high.ts').rank).toBeGreaterThan(layerOf('shared/fake-low.ts').rank);
    } finally {
      graph.delete('shared/fake-low.ts');
      graph.delete('graphql/fake-high.ts');
    }
  });
});
