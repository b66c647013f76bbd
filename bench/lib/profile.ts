/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time per
 * function: each sample's `timeDeltas` entry is charged to its node's
 * callFrame. Only samples inside the given windows (CLOCK_MONOTONIC µs, the
 * clock V8 and `process.hrtime` share on Linux) are counted, so set-up such
 * as registration stays out of the picture.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./proc";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Monotonic microseconds, comparable with a cpuprofile's timestamps. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileWindow {
  start: number;
  end: number;
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds sampled inside the windows. */
  totalMs: number;
  idleMs: number;
  gcMs: number;
  programMs: number;
  functions: Array<{ name: string; where: string; ms: number }>;
  modules: Array<{ name: string; ms: number }>;
}

/**
 * The main thread's profile of each process that wrote one into `dir` (one
 * per instance), busiest first. Node writes one file per thread
 * (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`; tsx's module-loader
 * hooks run on a thread of their own); a process's main thread is the one
 * that was busy.
 */
export function mainThreadProfiles(dir: string, windows: ProfileWindow[]): ProfileSummary[] {
  const busy = (s: ProfileSummary) => s.totalMs - s.idleMs;
  const byPid = new Map<string, ProfileSummary>();
  for (const f of readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"))) {
    const pid = f.split(".")[3] ?? f;
    const summary = summarizeProfile(path.join(dir, f), windows);
    const best = byPid.get(pid);
    if (!best || busy(summary) > busy(best)) byPid.set(pid, summary);
  }
  return [...byPid.values()].sort((a, b) => busy(b) - busy(a));
}

export function summarizeProfile(file: string, windows: ProfileWindow[], top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // WebAssembly frames are named after their nearest JavaScript caller's package
  // (PGlite's PostgreSQL and Prisma's query compiler are both WebAssembly).
  const owners = new Map<number, string>();
  const wasmOwner = (id: number): string => {
    let owner = owners.get(id);
    if (owner !== undefined) return owner;
    owner = "?";
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byId.get(p);
      if (f?.url && !f.url.startsWith("wasm://")) {
        owner = moduleOf(f);
        break;
      }
    }
    owners.set(id, owner);
    return owner;
  };
  const selfByFrame = new Map<string, { frame: CallFrame; ms: number; owner: string }>();
  const inWindow = (t: number) => windows.length === 0 || windows.some((w) => t >= w.start && t <= w.end);
  let t = profile.startTime;
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!inWindow(t)) continue;
    const frame = byId.get(profile.samples[i]!);
    if (!frame) continue;
    const ms = delta / 1000;
    totalMs += ms;
    const owner = frame.url.startsWith("wasm://") ? wasmOwner(profile.samples[i]!) : "";
    const key = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}\u0000${owner}`;
    const entry = selfByFrame.get(key);
    if (entry) entry.ms += ms;
    else selfByFrame.set(key, { frame, ms, owner });
  }
  const special = (name: string) =>
    [...selfByFrame.values()].filter((e) => e.frame.functionName === name && !e.frame.url).reduce((a, e) => a + e.ms, 0);
  const idleMs = special("(idle)");
  const gcMs = special("(garbage collector)");
  const programMs = special("(program)");

  const functions = [...selfByFrame.values()]
    .filter((e) => e.frame.functionName !== "(idle)")
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((e) => ({
      name: e.frame.functionName || "(anonymous)",
      where: e.owner ? `${where(e.frame)} (WebAssembly of ${e.owner})` : where(e.frame),
      ms: e.ms,
    }));

  const modules = new Map<string, number>();
  for (const e of selfByFrame.values()) {
    if (e.frame.functionName === "(idle)") continue;
    const m = e.owner ? `WebAssembly called by ${e.owner}` : moduleOf(e.frame);
    modules.set(m, (modules.get(m) ?? 0) + e.ms);
  }
  return {
    file,
    totalMs,
    idleMs,
    gcMs,
    programMs,
    functions,
    modules: [...modules.entries()]
      .map(([name, ms]) => ({ name, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12),
  };
}

function shortUrl(url: string): string {
  const p = url.replace(/^file:\/\//, "");
  return p.startsWith(ROOT) ? path.relative(ROOT, p) : p;
}

function where(frame: CallFrame): string {
  if (!frame.url) return "(native)";
  return `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function moduleOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const url = shortUrl(frame.url);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) {
    // pnpm-style nesting is not used here; the last node_modules segment names the package.
    const all = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    return all.at(-1)?.[1] ?? nm[1]!;
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const dir = url.split("/").slice(0, 2).join("/");
  return dir;
}

export function formatProfile(s: ProfileSummary): string[] {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => `${((ms / Math.max(1, busy)) * 100).toFixed(1)}%`;
  const lines = [
    `CPU profile ${s.file}`,
    `  sampled ${(s.totalMs / 1000).toFixed(1)} s in the measured windows: busy ${(busy / 1000).toFixed(1)} s ` +
      `(${((busy / Math.max(1, s.totalMs)) * 100).toFixed(0)}%), GC ${pct(s.gcMs)} of busy, (program) ${pct(s.programMs)}`,
    "  top self time (% of busy):",
  ];
  for (const f of s.functions) {
    lines.push(`    ${pct(f.ms).padStart(6)}  ${(f.ms / 1000).toFixed(2).padStart(6)} s  ${f.name}  ${f.where}`);
  }
  lines.push("  by module / package (% of busy):");
  for (const m of s.modules) lines.push(`    ${pct(m.ms).padStart(6)}  ${(m.ms / 1000).toFixed(2).padStart(6)} s  ${m.name}`);
  return lines;
}
