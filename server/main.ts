/** Entry point for `npm start` / `npm run dev`: config, logger, server, signals. */
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { startSwitchboard } from "./server";

async function main(): Promise<void> {
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
  const server = await startSwitchboard(config, log);
  log.info({ url: server.url }, `Switchboard is listening on ${server.url}`);

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
