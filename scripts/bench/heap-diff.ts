/**
 * What a W6 socket keeps alive, by kind of object: compares two V8 heap snapshots (the ones
 * `npm run bench -- --only W6 --heap-snapshots DIR` writes before and after the subscribed
 * sockets) and prints, per socket, how many more objects of each constructor the second holds
 * and their own (shallow) size.
 *
 *   npx tsx scripts/bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot SOCKETS [ROWS]
 */
import { readFileSync } from 'node:fs';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Group {
  count: number;
  bytes: number;
}

/** Kinds whose name is the constructor (objects, closures, native objects) keep it; the rest group by kind. */
const NAMED_KINDS = new Set(['object', 'closure', 'native', 'hidden', 'array']);

function groups(path: string): Map<string, Group> {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const kinds = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [kindAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const byKey = new Map<string, Group>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const kind = kinds[heap.nodes[i + kindAt]!]!;
    const key = NAMED_KINDS.has(kind) ? `${kind} ${heap.strings[heap.nodes[i + nameAt]!]!.slice(0, 60)}` : kind;
    const group = byKey.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += heap.nodes[i + sizeAt]!;
    byKey.set(key, group);
  }
  return byKey;
}

const [beforePath, afterPath, socketsArg, rowsArg] = process.argv.slice(2);
const sockets = Number(socketsArg);
if (!beforePath || !afterPath || !Number.isInteger(sockets) || sockets <= 0) {
  console.error('usage: npx tsx scripts/bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot SOCKETS [ROWS]');
  process.exit(2);
}
const before = groups(beforePath);
const after = groups(afterPath);
const rows = [...new Set([...before.keys(), ...after.keys()])]
  .map((key) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const a = after.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (a.count - b.count) / sockets, bytes: (a.bytes - b.bytes) / sockets };
  })
  .sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((sum, entry) => sum + entry.bytes, 0);
console.log(`per socket: ${(total / 1024).toFixed(2)} KiB of live heap (${sockets} sockets)\n`);
console.log('| objects per socket | bytes per socket | kind and constructor |\n|---:|---:|---|');
for (const entry of rows.slice(0, Number(rowsArg ?? 30))) {
  console.log(`| ${entry.count.toFixed(2)} | ${entry.bytes.toFixed(0)} | ${entry.key.replaceAll('|', '\\|')} |`);
}
