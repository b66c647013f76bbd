/** Entry point for `npm start` / `npm run dev`: config, logger, server (or cluster), signals. */
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { runPrimary } from "./scale/cluster";
import { startSwitchboard } from "./server";

/** `--workers N` on the command line is the same as SWITCHBOARD_WORKERS=N (checked with the rest of the configuration). */
function applyArguments(argv: string[]): void {
  let workers: string | undefined;
  try {
    ({ workers } = parseArgs({ args: argv, options: { workers: { type: "string" } } }).values);
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm start -- [--workers N]`);
    process.exit(2);
  }
  if (workers !== undefined) process.env.SWITCHBOARD_WORKERS = workers;
}

async function main(): Promise<void> {
  applyArguments(process.argv.slice(2));
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";
  const log = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, log).catch((err: unknown) => {
      console.error(err instanceof ConfigError ? err.message : err);
      process.exit(1);
    });
    return;
  }
  // A bug that escapes every handler (a plugin's timer, say) must not go
  // unseen, nor leave a process running in an unknown state: an unhandled
  // rejection is logged; an uncaught exception is logged and the server
  // stops gracefully with exit code 1, for the supervisor to start a clean one.
  let stopping: ((reason: string, code: number) => void) | null = null;
  process.on("unhandledRejection", (reason) => {
    log.error({ err: reason }, "unhandled promise rejection (a bug: please report it)");
  });
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception (a bug: please report it); stopping");
    if (stopping) stopping("uncaughtException", 1);
    else process.exit(1);
  });

  const server = await startSwitchboard(config, log, { clusterWorker: cluster.isWorker });
  if (cluster.isWorker) {
    log.info({ worker: process.pid }, "worker ready");
    process.send?.({ type: "sb:worker-ready" });
  }
  else log.info({ url: server.url }, `Switchboard is listening on ${server.url}`);

  let closing = false;
  const shutdown = (reason: string, code = 0) => {
    if (closing) return;
    closing = true;
    log.info({ reason }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(code),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  stopping = shutdown;
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("Switchboard failed to start:", err);
  process.exit(1);
});
