/**
 * Long fuzz runs: `npm run fuzz -- --runs 10000` runs test/fuzz.test.ts
 * (which `npm test` runs with a few runs per property) with N runs per
 * property.
 *
 *   --runs N            runs per property (default 1000)
 *   --seed S            replay the seed a failure printed
 *   --path P            with --seed, only the failing run (the `path` it printed)
 *   --backend postgres  on a throwaway PostgreSQL database instead of the embedded one
 *   anything else       passed to vitest, e.g. `-t "message:send"` for some properties only
 *
 * `-t` matches the whole name, describe blocks included ("fuzz: client events
 * and HTTP routes …" matches `HTTP`). The queue and flood phases start their
 * servers on the first phase's data: when filtering for them, keep one test
 * of the first phase, e.g. `-t "knows every client event of|queue command"`.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";

const root = path.resolve(import.meta.dirname, "..");

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run fuzz -- [--runs N] [--seed S [--path P]] [--backend embedded|postgres] [vitest options]`);
  process.exit(2);
}

/** Each option: its variable for test/fuzz.test.ts, and what its value must look like. */
const OPTIONS = {
  runs: { env: "FUZZ_RUNS", pattern: /^[1-9][0-9]*$/, expected: "a positive integer" },
  seed: { env: "FUZZ_SEED", pattern: /^-?[0-9]+$/, expected: "an integer" },
  path: { env: "FUZZ_PATH", pattern: /^[0-9]+(:[0-9]+)*$/, expected: 'numbers joined by ":"' },
  backend: { env: "FUZZ_BACKEND", pattern: /^(embedded|postgres)$/, expected: "embedded or postgres" },
} as const;

const args = process.argv.slice(2);
// Not strict: what is not ours goes to vitest as it was written.
const { tokens } = parseArgs({
  args,
  strict: false,
  allowPositionals: true,
  tokens: true,
  options: Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: "string" as const }])),
});
const env: Record<string, string> = { FUZZ_RUNS: "1000" };
const passOn: string[] = [];
for (const token of tokens) {
  if (token.kind === "option" && Object.hasOwn(OPTIONS, token.name)) {
    const option = OPTIONS[token.name as keyof typeof OPTIONS];
    if (token.value === undefined) usage(`--${token.name} needs a value`);
    if (!option.pattern.test(token.value)) usage(`--${token.name}: expected ${option.expected}, got "${token.value}"`);
    env[option.env] = token.value;
  } else if (token.kind !== "option-terminator") {
    passOn.push(args[token.index]!);
  }
}

console.log(`fuzzing with ${env.FUZZ_RUNS} runs per property${env.FUZZ_SEED ? `, seed ${env.FUZZ_SEED}` : ""}`);
const vitest = spawn(
  process.execPath,
  [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "test/fuzz.test.ts", "--reporter=verbose", ...passOn],
  { cwd: root, stdio: "inherit", env: { ...process.env, ...env } },
);
vitest.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => vitest.kill(signal));
