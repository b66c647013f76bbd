/** What a scenario is, what it gets from the runner, and the helpers they share. */
import type { PhaseResult } from "./load";
import type { CpuReading } from "./proc";
import type { ProfileWindow } from "./profile";
import { pool, type SioClient } from "./sio";
import type { BenchUser, Member, Target } from "./targets";

export interface OptionSpec {
  default: number;
  help: string;
}

export interface RunContext {
  /** Scenario options, defaults filled in. */
  opt: Record<string, number>;
  log(line?: string): void;
  /** Before measuring: waits (at most --quiet-wait or `maxSeconds`) until nothing else on the machine uses the CPU. */
  waitQuiet(maxSeconds?: number): Promise<void>;
  /** Whether other processes disturbed a phase (used more than --max-other % of a core). */
  disturbed(r: { cpu: CpuReading }): boolean;
  /** Marks a measured window (the profile is cut to these). */
  measured(window: ProfileWindow): void;
  /** Deadline (performance.now() ms) for this target's measurement; moves out while waiting for quiet. */
  readonly deadline: number;
}

export interface TargetOutcome {
  label: string;
  /** Headline numbers, for the ratios. */
  headline: Record<string, number>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Whether it can run with users spread over several instances (`--instances`, the two-instances suite). */
  multiInstance: boolean;
  options: Record<string, OptionSpec>;
  runTarget(target: Target, ctx: RunContext): Promise<TargetOutcome>;
  /** Lines comparing Switchboard with the relay (ratios, targets met). */
  compare(relay: TargetOutcome | undefined, switchboard: TargetOutcome): string[];
}

/**
 * Runs a measured phase; when other processes on the machine used the CPU
 * meanwhile (a noisy neighbour), lets the server drain, waits for quiet and
 * measures again, at most `tries` times. The last result is kept either way.
 */
export async function quietly<R extends { cpu: CpuReading }>(
  ctx: RunContext,
  what: string,
  run: () => Promise<R>,
  drain: () => Promise<unknown>,
  tries = 3,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const r = await run();
    if (!ctx.disturbed(r)) return r;
    if (attempt >= tries) {
      ctx.log(`  (${what}: still disturbed after ${tries} tries, others used ${fmt(r.cpu.other)}% of a core; keeping it)`);
      return r;
    }
    ctx.log(`  (${what}: disturbed, others used ${fmt(r.cpu.other)}% of a core; measuring again)`);
    await drain();
    await ctx.waitQuiet(120);
  }
}

export async function connectAll(target: Target, users: BenchUser[], concurrency = 50): Promise<Member[]> {
  return pool(users, concurrency, async (user) => ({ user, client: await target.connect(user) }));
}

export function closeAll(clients: Iterable<SioClient>): void {
  for (const c of clients) c.close();
}

/** Waits until none of `clients` awaits an ack (a backlog drained), at most `ms`; true if drained. */
export async function settle(clients: SioClient[], ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (clients.every((c) => c.pending === 0)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return clients.every((c) => c.pending === 0);
}

export interface RampStep {
  rate: number;
  pass: boolean;
  why: string;
  result: PhaseResult;
}

/**
 * Finds the highest passing rate: multiplies by `factor` while steps pass
 * (divides while they fail, if the first one failed), then bisects between
 * the highest pass and the lowest failure `refine` times.
 */
export async function ramp(opts: {
  start: number;
  factor: number;
  refine: number;
  maxSteps: number;
  deadline: () => number;
  step: (rate: number) => Promise<RampStep | null>;
}): Promise<{ best: RampStep | null; lowestFail: number | null; steps: RampStep[]; stoppedBecause: string }> {
  let lo: RampStep | null = null;
  let hi: number | null = null;
  let rate = opts.start;
  let refinements = 0;
  const steps: RampStep[] = [];
  let stoppedBecause = "max steps reached";
  for (let i = 0; i < opts.maxSteps; i++) {
    const s = await opts.step(rate);
    if (!s) {
      stoppedBecause = "the server did not drain its backlog";
      break;
    }
    steps.push(s);
    if (s.pass) {
      if (!lo || s.rate > lo.rate) lo = s;
    } else if (hi === null || s.rate < hi) hi = s.rate;
    if (hi === null) rate = Math.round(rate * opts.factor);
    else if (!lo) {
      rate = Math.round(rate / opts.factor);
      if (rate < 1) {
        stoppedBecause = "no rate passed";
        break;
      }
    } else {
      if (refinements >= opts.refine || hi - lo.rate <= Math.max(2, lo.rate * 0.03)) {
        stoppedBecause = "bracketed";
        break;
      }
      refinements++;
      rate = Math.round((lo.rate + hi) / 2);
    }
    if (performance.now() > opts.deadline()) {
      stoppedBecause = "time budget used";
      break;
    }
  }
  return { best: lo, lowestFail: hi, steps, stoppedBecause };
}

/* Formatting ------------------------------------------------------------- */

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** CPU columns (% of one core) for every table of measured load. */
export const CPU_HEADER = ["srv CPU", "gen CPU", "pg CPU", "redis", "other", "steal"];

export function cpuCells(cpu: CpuReading): string[] {
  const pct = (v: number) => (Number.isNaN(v) ? "–" : `${fmt(v)}%`);
  return [pct(cpu.server), pct(cpu.generator), pct(cpu.postgres), pct(cpu.redis), pct(cpu.other), pct(cpu.steal)];
}

export const PHASE_HEADER = [
  "offered/s",
  "sent/s",
  "deliv/s",
  "stored/s",
  "deliv p50",
  "p99",
  "max",
  "ack p50",
  "p99",
  "max",
  "lost",
  ...CPU_HEADER,
  "srv RSS",
];

export function phaseRow(r: PhaseResult, extra: string[] = []): string[] {
  return [
    fmt(r.offeredRate),
    fmt(r.sentPerSec),
    fmt(r.deliveriesPerSec),
    fmt(r.storedPerSec),
    ms(r.delivery.p50),
    ms(r.delivery.p99),
    ms(r.delivery.max),
    ms(r.ack.p50),
    ms(r.ack.p99),
    ms(r.ack.max),
    fmt(r.lost),
    ...cpuCells(r.cpu),
    mb(r.rss),
    ...extra,
  ];
}

export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : "–";
}
