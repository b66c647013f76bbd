import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs to stdout (pipe through `pino-pretty` to read them locally). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "switchboard" } });
}
