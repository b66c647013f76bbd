/**
 * `npm run bench -- <scenario|all> [options]`: runs a scenario against the
 * bare Socket.IO relay and against Switchboard (embedded PGlite and/or
 * PostgreSQL) in one run, and prints every number with the machine, the
 * versions, the settings and the ratios. See bench/README.md.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs as parseCommandLine } from "node:util";
import { cleanupAll, installSignalHandlers } from "./lib/cleanup";
import { formatMachine, machineInfo } from "./lib/machine";
import { allowedCpus, CpuWindow, hasTaskset, pinSelf } from "./lib/proc";
import { formatProfile, mainThreadProfiles, type ProfileWindow } from "./lib/profile";
import type { RunContext, Scenario, TargetOutcome } from "./lib/scenario";
import { pinAll, startTarget, targetLabel, type Db, type Target, type TargetSpec } from "./lib/targets";
import { scenarios, suites } from "./scenarios";

const USAGE = `usage: npm run bench -- <scenario|all|list> [options]

scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join("\n")}
${suites.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join("\n")}
  all            every scenario, embedded and PostgreSQL (--db both), then two-instances

options:
  --db embedded|postgres|both   Switchboard's database (default: embedded; "all" uses both)
  --only relay|switchboard      run one side only (default: both, relay first)
  --profile                     run the servers under node --cpu-prof and print the top self-time functions
  --no-pin                      do not pin server and generator to separate cores
  --server-cpus LIST[/LIST…]    taskset list for the server, one per instance separated by "/"
                                (default 0; with two instances 0/1)
  --instances N                 run N server processes sharing a private Redis (fan-out, chat-mix;
                                Switchboard on PostgreSQL); users are spread over them in turn
  --generator-cpus LIST         taskset list for the generator (default 1)
  --quiet-wait SECONDS          before measuring, wait up to this long for other CPU users to stop (default 600; 0: don't)
  --budget SECONDS              time budget per target's measurement (default 300)
  --out FILE                    also write the output to FILE
  --rate-limit N                SWITCHBOARD_RATE_LIMIT for the server (default 100000)
  --max-other PERCENT           repeat a phase (up to 3 times) when other processes used more than this
                                % of a core during it (default 25)
  --metrics off|on|both         Switchboard with Prometheus metrics off (default), on (scraped every 5 s),
                                or both, one after the other in the same run
  --experiment NAMES            try proposed server changes from the bench launcher
                                (bench/experiments.ts, comma-separated: drop-request)
  scenario options (see "npm run bench -- list"), e.g. --step 5 --members 500 --duration 20`;

/** A mistake on the command line: printed without a stack trace. */
class UsageError extends Error {}

/** `--metrics`: which Switchboard targets run, metrics off and/or on. */
function metricsModes(value: string): boolean[] {
  const modes: Record<string, boolean[]> = { off: [false], on: [true], both: [false, true] };
  const found = modes[value];
  if (!found) throw new UsageError(`--metrics must be off, on or both, not "${value}"`);
  return found;
}

interface Args {
  scenario: string;
  db: Db[];
  only: "relay" | "switchboard" | null;
  profile: boolean;
  pin: boolean;
  serverCpus: string | null;
  generatorCpus: string;
  instances: number;
  quietWait: number;
  budget: number;
  out: string | null;
  rateLimit: number;
  experiments: string;
  metrics: boolean[];
  maxOther: number;
  scenarioOpts: Record<string, number>;
}

/** The runner's own options (anything else starting with -- is a scenario option). */
const OPTIONS = {
  db: { type: "string" },
  only: { type: "string" },
  profile: { type: "boolean" },
  "no-pin": { type: "boolean" },
  "server-cpus": { type: "string" },
  "generator-cpus": { type: "string" },
  instances: { type: "string" },
  "quiet-wait": { type: "string" },
  budget: { type: "string" },
  out: { type: "string" },
  "rate-limit": { type: "string" },
  experiment: { type: "string" },
  metrics: { type: "string" },
  "max-other": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function parseArgs(argv: string[]): Args {
  const { values, tokens } = parseCommandLine({
    args: argv,
    // Not strict: scenario options (`--step 5`) are the scenarios' own, checked below.
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: OPTIONS,
  });
  const known = new Set<string>([...Object.keys(OPTIONS), "h"]);
  const text = (name: string, fallback: string): string => {
    const v = values[name];
    if (v === undefined) return fallback;
    if (typeof v !== "string") throw new UsageError(`--${name} needs a value`);
    return v;
  };
  const number = (name: string, fallback: number): number => {
    const v = Number(text(name, String(fallback)));
    if (!Number.isFinite(v)) throw new UsageError(`--${name} needs a number`);
    return v;
  };

  // Positionals: the scenario, and the values of scenario options.
  let scenario = "";
  const scenarioOpts: Record<string, number> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === "positional") {
      if (scenario) throw new UsageError(`unexpected argument ${token.value}`);
      scenario = token.value;
    } else if (token.kind === "option" && !known.has(token.name)) {
      const next = tokens[i + 1];
      const raw = token.value ?? (next?.kind === "positional" ? (i++, next.value) : undefined);
      const v = Number(raw);
      if (raw === undefined || !Number.isFinite(v)) throw new UsageError(`${token.rawName} needs a number`);
      scenarioOpts[token.name] = v;
    }
  }

  const db = text("db", "");
  const only = text("only", "");
  if (db && !["embedded", "postgres", "both"].includes(db)) throw new UsageError(`--db: embedded, postgres or both, not ${db}`);
  if (only && only !== "relay" && only !== "switchboard") throw new UsageError(`--only: relay or switchboard, not ${only}`);
  const instances = number("instances", 1);
  if (!Number.isInteger(instances) || instances < 1) throw new UsageError("--instances needs a whole number ≥ 1");
  return {
    scenario: values.help ? "help" : scenario,
    db: db === "both" ? ["embedded", "postgres"] : db ? [db as Db] : [],
    only: only ? (only as "relay" | "switchboard") : null,
    profile: values.profile === true,
    pin: values["no-pin"] !== true,
    serverCpus: text("server-cpus", "") || null,
    generatorCpus: text("generator-cpus", "1"),
    instances,
    quietWait: number("quiet-wait", 600),
    budget: number("budget", 300),
    out: text("out", "") || null,
    rateLimit: number("rate-limit", 100_000),
    experiments: text("experiment", ""),
    metrics: metricsModes(text("metrics", "off")),
    maxOther: number("max-other", 25),
    scenarioOpts,
  };
}

const output: string[] = [];
function log(line = ""): void {
  output.push(line);
  console.log(line);
}

/** Waits until the CPU time used by everything but us is low (bounded by --quiet-wait). */
async function waitQuiet(target: Target, maxSeconds: number): Promise<void> {
  if (maxSeconds <= 0) return;
  const until = performance.now() + maxSeconds * 1000;
  for (let first = true; ; first = false) {
    const w = new CpuWindow({ serverPids: target.servers.map((s) => s.pid), postgres: true, redisPid: target.redis?.pid ?? null });
    await new Promise((r) => setTimeout(r, 3000));
    const c = w.read();
    // "other" here includes PostgreSQL's (and Redis's) own background work, which is small when idle.
    const busy = c.other + c.postgres + (Number.isNaN(c.redis) ? 0 : c.redis);
    if (busy < 15) {
      if (!first) log(`  (machine quiet again: ${busy.toFixed(0)}% of a core used by others)`);
      return;
    }
    if (performance.now() > until) {
      log(`  WARNING: other processes still use ${busy.toFixed(0)}% of a core; measuring anyway`);
      return;
    }
    if (first) log(`  waiting for the machine to be quiet: others use ${busy.toFixed(0)}% of a core (load ${loadavg()})…`);
    await new Promise((r) => setTimeout(r, 12_000));
  }
}

/**
 * A fixed CPU-bound loop timed on the generator's core: on a shared (virtual)
 * machine the same work can take very different times from one minute to the
 * next, and this says how fast the cores were when a target was measured.
 */
function speedIndex(): number {
  const rounds = 5;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    let x = 0x9e3779b9;
    let sum = 0;
    for (let i = 0; i < 5_000_000; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      sum = (sum + (x & 0xff)) | 0;
    }
    if (sum === 42) console.log("");
    best = Math.min(best, performance.now() - t);
  }
  return 5 / (best / 1000); // million iterations per second
}

function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

/** CPU lists per instance: --server-cpus "0/1", or instance i on CPU i. */
function serverCpus(args: Args, instances: number): string[] {
  if (args.serverCpus) return args.serverCpus.split("/");
  return Array.from({ length: instances }, (_, i) => String(i % os.cpus().length));
}

async function runScenario(scenario: Scenario, args: Args, pinned: boolean, instances: number, dbs: Db[]): Promise<void> {
  const opt: Record<string, number> = {};
  for (const [k, spec] of Object.entries(scenario.options)) opt[k] = args.scenarioOpts[k] ?? spec.default;
  if (instances > 1 && !scenario.multiInstance) throw new UsageError(`${scenario.name} runs on one instance only (--instances)`);
  const specs: TargetSpec[] = [];
  if (args.only !== "switchboard") specs.push({ kind: "relay", db: null, instances });
  if (args.only !== "relay") for (const db of dbs) for (const metrics of args.metrics) specs.push({ kind: "switchboard", db, instances, metrics });
  const cpus = pinned ? serverCpus(args, instances) : null;

  log();
  log(`=== ${scenario.name}${instances > 1 ? ` on ${instances} instances sharing Redis` : ""}: ${scenario.description}`);
  log(`options: ${Object.entries(opt).map(([k, v]) => `--${k} ${v}`).join(" ")}`);
  if (instances > 1) {
    log(
      `instances: ${instances} server processes${cpus ? ` pinned to CPUs ${cpus.join(", ")}` : ""}, one private redis-server (not pinned), ` +
        `users connected to the instances in turn; server CPU and RSS are summed over the instances`,
    );
  }
  const outcomes = new Map<string, TargetOutcome>();
  for (const spec of specs) {
    const label = targetLabel(spec);
    const profileDir = args.profile ? mkdtempSync(path.join(tmpdir(), "switchboard-prof-")) : null;
    log();
    log(`--- ${scenario.name} on ${label}`);
    const target = await startTarget(spec, {
      cpus,
      profileDir,
      rateLimit: args.rateLimit,
      logLevel: "warn",
      experiments: spec.kind === "switchboard" ? args.experiments : "",
    });
    log(`  server pid ${target.servers.map((s) => s.pid).join(", ")}${profileDir ? ", under --cpu-prof" : ""}`);
    log(`  database: ${target.database}`);
    log(`  server env: ${Object.entries(target.settings).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    const windows: ProfileWindow[] = [];
    let budgetEnd = performance.now() + args.budget * 1000;
    const ctx: RunContext = {
      opt,
      log,
      waitQuiet: async (maxSeconds = args.quietWait) => {
        // Set-up ran on every core; the measurement runs pinned.
        if (pinned && !pinAll(target)) log("  WARNING: could not pin the server");
        const t = performance.now();
        await waitQuiet(target, Math.min(maxSeconds, args.quietWait));
        // Time spent waiting for a quiet machine does not count against the budget.
        budgetEnd += performance.now() - t;
        log(
          `  measuring: server on CPUs ${target.servers.map((s) => allowedCpus(s.pid)).join(" and ")}, load ${loadavg()}, ` +
            `speed index ${speedIndex().toFixed(0)} (M loop iterations/s on the generator's core; compare between targets)`,
        );
      },
      measured: (w) => void windows.push(w),
      disturbed: (r) => r.cpu.other > args.maxOther,
      get deadline() {
        return budgetEnd;
      },
    };
    try {
      outcomes.set(label, await scenario.runTarget(target, ctx));
    } finally {
      await target.close();
    }
    if (profileDir) {
      const summaries = mainThreadProfiles(profileDir, windows);
      for (const [i, summary] of summaries.entries()) {
        if (summaries.length > 1) log(`  instance ${i + 1} of ${summaries.length} (busiest first):`);
        const keep = path.join(tmpdir(), `${label}-${scenario.name}-${Date.now()}-${i + 1}.cpuprofile`.replace(/\//g, "-"));
        cpSync(summary.file, keep);
        for (const l of formatProfile({ ...summary, file: keep })) log(`  ${l}`);
      }
      if (summaries.length === 0) log("  (no CPU profile was written)");
      rmSync(profileDir, { recursive: true, force: true });
    }
  }
  log();
  log(`--- ${scenario.name}${instances > 1 ? ` on ${instances} instances` : ""}: Switchboard next to the relay`);
  const relayLabel = targetLabel({ kind: "relay", db: null, instances });
  const relay = outcomes.get(relayLabel);
  for (const [label, outcome] of outcomes) {
    if (label === relayLabel) continue;
    for (const l of scenario.compare(relay, outcome)) log(`  ${l}`);
  }
  if (outcomes.size === 1 && relay) log("  (relay only)");
}

interface Run {
  scenario: Scenario;
  instances: number;
  dbs: Db[];
}

/**
 * What a command line runs: one scenario (on --instances, embedded unless
 * --db says otherwise; PostgreSQL for several instances), a suite
 * (two-instances: fan-out and chat-mix on two instances, PostgreSQL), or
 * `all`: every scenario on one instance with both databases, then every suite.
 */
function plan(args: Args): Run[] {
  const multi = (): Db[] => {
    if (args.db.length === 0) return ["postgres"];
    if (args.db.includes("embedded")) throw new UsageError("several instances share one database: use --db postgres");
    return args.db;
  };
  const suiteRuns = (suite: (typeof suites)[number]): Run[] =>
    suite.scenarios.map((scenario) => ({ scenario, instances: suite.instances, dbs: multi() }));
  if (args.scenario === "all") {
    const dbs: Db[] = args.db.length > 0 ? args.db : ["embedded", "postgres"];
    return [
      ...scenarios.map((scenario) => ({ scenario, instances: 1, dbs })),
      ...suites.flatMap((suite) => suite.scenarios.map((scenario) => ({ scenario, instances: suite.instances, dbs: ["postgres" as Db] }))),
    ];
  }
  const suite = suites.find((s) => s.name === args.scenario);
  if (suite) return suiteRuns(suite);
  const scenario = scenarios.find((s) => s.name === args.scenario);
  if (!scenario) throw new UsageError(`unknown scenario "${args.scenario}"\n\n${USAGE}`);
  if (args.instances > 1) return [{ scenario, instances: args.instances, dbs: multi() }];
  return [{ scenario, instances: 1, dbs: args.db.length > 0 ? args.db : ["embedded"] }];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.scenario || args.scenario === "help") {
    console.log(USAGE);
    return;
  }
  if (args.scenario === "list") {
    for (const s of scenarios) {
      console.log(`${s.name}: ${s.description}${s.multiInstance ? " (also with --instances 2)" : ""}`);
      for (const [k, o] of Object.entries(s.options)) console.log(`  --${k} ${o.default}`.padEnd(26) + o.help);
    }
    for (const s of suites) console.log(`${s.name}: ${s.description}`);
    return;
  }
  const runs = plan(args);
  // Scenario options go to the scenarios that have them (a suite or `all` runs several).
  for (const k of Object.keys(args.scenarioOpts)) {
    if (!runs.some((r) => k in r.scenario.options)) {
      throw new UsageError(`no scenario of "${args.scenario}" has an option --${k} (see npm run bench -- list)`);
    }
  }

  installSignalHandlers();
  const canPin = args.pin && hasTaskset() && os.cpus().length >= 2;
  const pinned = canPin && pinSelf(args.generatorCpus);
  const m = machineInfo();
  log(`Switchboard benchmark, ${new Date().toISOString()}`);
  log(`command:  npm run bench -- ${process.argv.slice(2).join(" ")}`);
  for (const l of formatMachine(m)) log(l);
  log(
    `pinning:  ${pinned ? `server on CPU ${serverCpus(args, 1).join("")} (two instances: CPUs ${serverCpus(args, 2).join(" and ")}) from the end of set-up on, generator on CPU ${allowedCpus()} (taskset)` : `none (${args.pin ? "taskset unavailable or < 2 cores" : "--no-pin"})`}; PostgreSQL and Redis (if used) are not pinned`,
  );
  log(`load:     ${loadavg()} (1/5/15-min load average at start)`);
  const started = performance.now();
  try {
    for (const r of runs) await runScenario(r.scenario, args, pinned, r.instances, r.dbs);
  } finally {
    await cleanupAll();
  }
  log();
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (args.out) {
    mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
    writeFileSync(args.out, `${output.join("\n")}\n`);
  }
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await cleanupAll();
    process.exit(1);
  },
);
