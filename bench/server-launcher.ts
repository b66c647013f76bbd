/**
 * Bench-only launcher for the real Switchboard: the same `loadConfig()` and
 * `startSwitchboard()` that `server/main.ts` runs, plus an IPC channel to the
 * load generator that answers heap statistics after a full GC (`--expose-gc`)
 * and the message writer's counters. Nothing is added to server/.
 *
 *   node --expose-gc --import tsx bench/server-launcher.ts   (env as for server/main.ts)
 *
 * BENCH_EXPERIMENTS (comma-separated names from bench/experiments.ts) tries
 * proposed server changes from outside, to measure them before anyone edits
 * server/ (see docs/benchmarks.md).
 */
import { loadConfig } from "../server/config";
import { createLogger } from "../server/logger";
import { startSwitchboard } from "../server/server";
import { experiments } from "./experiments";
import { serveIpc } from "./lib/ipc";

const config = loadConfig();
const log = createLogger(config.logLevel);
const server = await startSwitchboard(config, log);

for (const name of (process.env.BENCH_EXPERIMENTS ?? "").split(",").filter(Boolean)) {
  const experiment = experiments[name];
  if (!experiment) throw new Error(`unknown experiment "${name}" (have: ${Object.keys(experiments).join(", ")})`);
  await experiment.apply(server);
}

serveIpc({
  url: server.url,
  port: server.port,
  connections: () => server.io.engine.clientsCount,
  writer: () => server.core.messages.writerStats,
  close: () => server.close(),
});
