/**
 * Heap snapshot diffs: where the bytes of N connections live. Two V8 heap
 * snapshots (written by the launcher over IPC, after a full GC) are summed
 * per constructor / node type and subtracted; the biggest growths, divided
 * by the number of connections, are the per-connection bill.
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapCensus = Map<string, { count: number; bytes: number }>;

export function heapCensus(file: string): HeapCensus {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const census: HeapCensus = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? "?";
    const name = snap.strings[snap.nodes[i + nameAt]!] ?? "?";
    // Objects by constructor; strings, arrays, code, closures… by type (closures by function name).
    const key =
      type === "object" || type === "native"
        ? name
        : type === "closure"
          ? `(closure) ${name || "anonymous"}`
          : `(${type})`;
    const entry = census.get(key);
    const bytes = snap.nodes[i + sizeAt]!;
    if (entry) {
      entry.count += 1;
      entry.bytes += bytes;
    } else census.set(key, { count: 1, bytes });
  }
  return census;
}

export function diffCensus(before: HeapCensus, after: HeapCensus, perUnit: number, top = 20): string[] {
  const rows: Array<{ key: string; count: number; bytes: number }> = [];
  let total = 0;
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const bytes = a.bytes - b.bytes;
    total += bytes;
    rows.push({ key, count: a.count - b.count, bytes });
  }
  for (const [key, b] of before) if (!after.has(key)) total -= b.bytes;
  rows.sort((x, y) => y.bytes - x.bytes);
  const lines = [
    `heap snapshot diff: +${(total / 2 ** 20).toFixed(1)} MB self size = ${(total / perUnit).toFixed(0)} B per connection; biggest growths:`,
    `    B/conn  objs/conn  constructor or type`,
  ];
  for (const r of rows.slice(0, top)) {
    lines.push(`  ${(r.bytes / perUnit).toFixed(0).padStart(8)}  ${(r.count / perUnit).toFixed(2).padStart(9)}  ${r.key.slice(0, 90)}`);
  }
  return lines;
}
