/** Entry point for `npm start` / `npm run dev`: config, logger, server (or cluster), signals. */
import cluster from "node:cluster";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { runPrimary } from "./scale/cluster";
import { startSwitchboard } from "./server";

/** `--workers N` on the command line is the same as SWITCHBOARD_WORKERS=N. */
function applyArguments(argv: string[]): void {
  const i = argv.indexOf("--workers");
  const inline = argv.find((a) => a.startsWith("--workers="));
  const value = inline ? inline.slice("--workers=".length) : i >= 0 ? argv[i + 1] : undefined;
  if (value !== undefined) process.env.SWITCHBOARD_WORKERS = value;
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
  const server = await startSwitchboard(config, log, { clusterWorker: cluster.isWorker });
  if (cluster.isWorker) {
    log.info({ worker: process.pid }, "worker ready");
    process.send?.({ type: "sb:worker-ready" });
  }
  else log.info({ url: server.url }, `Switchboard is listening on ${server.url}`);

  const shutdown = (signal: string) => {
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("Switchboard failed to start:", err);
  process.exit(1);
});
