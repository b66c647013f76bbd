/**
 * Server processes under test, watched from outside: spawned (pinned with
 * `taskset` where available) with an IPC channel to the bench launcher, CPU
 * time from /proc/<pid>/stat, RSS from /proc/<pid>/status.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./cleanup";
import type { ChildReply, ChildRequest, HeapStats, ReadyMessage } from "./ipc";

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(BENCH_DIR, "..");

const CLK_TCK = 100; // USER_HZ; fixed at 100 on Linux x86/arm

export function hasTaskset(): boolean {
  return spawnSync("taskset", ["-V"], { stdio: "ignore" }).status === 0;
}

/** CPUs this process may run on (from sched affinity via /proc). */
export function allowedCpus(pid: number | "self" = "self"): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? "?";
  } catch {
    return "?";
  }
}

/** Pins this (generator) process, all its threads, to `cpus`; true if applied. */
export function pinSelf(cpus: string): boolean {
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpus, String(process.pid)], { stdio: "ignore" });
  return r.status === 0;
}

/** user+system CPU seconds of a process, or NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size (VmRSS) and its peak (VmHWM) in bytes. */
export function memory(pid: number): { rss: number; peakRss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s*(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb("VmRSS"), peakRss: kb("VmHWM") };
  } catch {
    return { rss: Number.NaN, peakRss: Number.NaN };
  }
}

/** Machine-wide busy and total CPU jiffies (from /proc/stat), for "what else ran" during a window. */
export function machineJiffies(): { busy: number; total: number; steal: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total, steal: v[7] ?? 0 };
}

/** CPU seconds per pid of every process whose command name is `name` (e.g. the PostgreSQL backends). */
export function cpuSecondsByName(name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU used since `before` by the processes alive now (one that exited meanwhile is not counted). */
function cpuSince(before: Map<number, number>, now: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of now) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}

/** What a {@link CpuWindow} watches besides the whole machine. */
export interface Watched {
  /** The server processes (one per instance); their CPU is summed. */
  serverPids: number[];
  /** Every process named "postgres" (the local PostgreSQL's backends). */
  postgres: boolean;
  /** A private redis-server shared by the instances, or null. */
  redisPid: number | null;
}

/** A CPU-time window over a set of processes and the whole machine. */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly server0: number;
  private readonly redis0: number;
  private readonly gen0 = process.cpuUsage();
  private readonly machine0 = machineJiffies();
  private readonly pg0: Map<number, number>;

  constructor(private readonly watched: Watched) {
    this.server0 = sumCpu(watched.serverPids);
    this.redis0 = watched.redisPid === null ? 0 : cpuSeconds(watched.redisPid);
    this.pg0 = watched.postgres ? cpuSecondsByName("postgres") : new Map();
  }

  /** CPU use in % of one core over the window so far. */
  read(): CpuReading {
    const seconds = (performance.now() - this.t0) / 1000;
    const gen = process.cpuUsage(this.gen0);
    const m = machineJiffies();
    const span = Math.max(1, m.total - this.machine0.total);
    const machineBusy = ((m.busy - this.machine0.busy) / span) * cpus() * 100;
    const steal = ((m.steal - this.machine0.steal) / span) * cpus() * 100;
    const server = ((sumCpu(this.watched.serverPids) - this.server0) / seconds) * 100;
    const generator = ((gen.user + gen.system) / 1e6 / seconds) * 100;
    const postgres = this.watched.postgres ? (cpuSince(this.pg0, cpuSecondsByName("postgres")) / seconds) * 100 : 0;
    const redis =
      this.watched.redisPid === null ? Number.NaN : ((cpuSeconds(this.watched.redisPid) - this.redis0) / seconds) * 100;
    return {
      seconds,
      server,
      generator,
      postgres,
      redis,
      machine: machineBusy,
      steal,
      other: Math.max(0, machineBusy - server - generator - postgres - (Number.isNaN(redis) ? 0 : redis)),
    };
  }
}

function sumCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** RSS and peak RSS summed over `pids` (the instances of one target). */
export function memoryOf(pids: number[]): { rss: number; peakRss: number } {
  return pids.map(memory).reduce((a, b) => ({ rss: a.rss + b.rss, peakRss: a.peakRss + b.peakRss }));
}

export interface CpuReading {
  seconds: number;
  /** % of one core (all instances together). */
  server: number;
  generator: number;
  postgres: number;
  /** The private redis-server of a multi-instance target; NaN when there is none. */
  redis: number;
  machine: number;
  /** Time the hypervisor gave our vCPUs to others (part of `machine` and `other`). */
  steal: number;
  /** Everything else on the machine (other users of the cores), % of one core. */
  other: number;
}

let cpuCount = 0;
function cpus(): number {
  if (!cpuCount) {
    cpuCount = readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d+ /.test(l)).length || 1;
  }
  return cpuCount;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ServerProcess {
  label: string;
  pid: number;
  url: string;
  port: number;
  /** CPUs the server is pinned to for measuring (null: not pinned). */
  pinned: string | null;
  /**
   * Pins every thread of the server to its measuring CPUs. Servers start on
   * all CPUs so that set-up (scrypt registrations on the libuv pool) is quick;
   * scenarios pin before they measure.
   */
  pin(): boolean;
  /** Heap (after a full GC when `gc`) and counters, answered by the launcher over IPC. */
  stats(gc?: boolean): Promise<HeapStats>;
  /** Writes a V8 heap snapshot (after a GC) to `file`; slow, for analysis only. */
  heapSnapshot(file: string): Promise<string>;
  /** Graceful stop (the launcher closes the server and exits; a CPU profile is written then). */
  stop(): Promise<void>;
  alive(): boolean;
}

export interface SpawnOptions {
  label: string;
  /** Script under bench/ run with tsx. */
  script: string;
  env: Record<string, string>;
  /** `taskset -c` list applied by `pin()`, or null for no pinning. */
  cpus: string | null;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  startTimeoutMs?: number;
}

/** Starts a launcher script and waits for its "ready" message. */
export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const nodeArgs = ["--expose-gc", ...(opts.nodeArgs ?? []), "--import", "tsx", path.join(BENCH_DIR, opts.script)];
  // The generator is pinned and children inherit its affinity: give the server every CPU until pin().
  const all = `0-${cpus() - 1}`;
  const [cmd, args] = opts.cpus ? ["taskset", ["-c", all, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child: ChildProcess = spawn(cmd, args as string[], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", (chunk: Buffer) => {
    keep(chunk);
    process.stderr.write(`[${opts.label}] ${chunk.toString()}`);
  });

  let seq = 0;
  const waiting = new Map<number, (reply: ChildReply) => void>();
  child.on("message", (msg: ChildReply | ReadyMessage) => {
    if (msg.type === "ready") return;
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  const ask = (request: DistributiveOmit<ChildRequest, "id">, timeoutMs = 60_000): Promise<ChildReply> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${opts.label} has exited`));
      const id = ++seq;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${opts.label}: no IPC answer to ${request.type}`));
      }, timeoutMs);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      child.send({ ...request, id });
    });

  const kill = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exitPromise;
    clearTimeout(t);
  };
  const unregister = onCleanup(`stop ${opts.label}`, kill);

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.label} did not start in time:\n${output}`)), opts.startTimeoutMs ?? 120_000);
    child.on("message", (msg: ChildReply | ReadyMessage) => {
      if (msg.type === "ready") {
        clearTimeout(timer);
        resolve(msg);
      }
    });
    void exitPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`${opts.label} exited during start-up (code ${child.exitCode}):\n${output}`));
    });
  }).catch(async (err: unknown) => {
    await unregister();
    throw err;
  });

  return {
    label: opts.label,
    pid: child.pid!,
    url: ready.url,
    port: ready.port,
    pinned: opts.cpus,
    pin: () =>
      opts.cpus !== null &&
      spawnSync("taskset", ["-a", "-p", "-c", opts.cpus, String(child.pid)], { stdio: "ignore" }).status === 0,
    alive: () => !exited,
    stats: async (gc = true) => {
      const reply = await ask({ type: "stats", gc });
      if (reply.type !== "stats") throw new Error(`unexpected reply ${reply.type}`);
      return reply.stats;
    },
    heapSnapshot: async (file) => {
      const reply = await ask({ type: "snapshot", file }, 300_000);
      if (reply.type !== "snapshot") throw new Error(`unexpected reply ${reply.type}`);
      return reply.file;
    },
    stop: async () => {
      if (!exited) {
        await ask({ type: "shutdown" }, 30_000).catch(() => undefined);
        const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exitPromise;
        clearTimeout(t);
      }
      await unregister();
    },
  };
}
