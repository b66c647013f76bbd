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
 */
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run fuzz -- [--runs N] [--seed S [--path P]] [--backend embedded|postgres] [vitest options]`);
  process.exit(2);
}

const env: Record<string, string> = { FUZZ_RUNS: "1000" };
const passOn: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
  const value = () => inline ?? args[++i] ?? usage(`${flag} needs a value`);
  switch (flag) {
    case "--runs": {
      const runs = value();
      if (!/^[1-9][0-9]*$/.test(runs)) usage(`--runs: expected a positive integer, got "${runs}"`);
      env.FUZZ_RUNS = runs;
      break;
    }
    case "--seed": {
      const seed = value();
      if (!/^-?[0-9]+$/.test(seed)) usage(`--seed: expected an integer, got "${seed}"`);
      env.FUZZ_SEED = seed;
      break;
    }
    case "--path": {
      const runPath = value();
      if (!/^[0-9]+(:[0-9]+)*$/.test(runPath)) usage(`--path: expected numbers joined by ":", got "${runPath}"`);
      env.FUZZ_PATH = runPath;
      break;
    }
    case "--backend": {
      const backend = value();
      if (backend !== "embedded" && backend !== "postgres") usage(`--backend: expected embedded or postgres, got "${backend}"`);
      env.FUZZ_BACKEND = backend;
      break;
    }
    default:
      passOn.push(arg);
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
