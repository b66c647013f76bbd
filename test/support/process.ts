/**
 * Runs the real server as its own process (`node --import tsx server/main.ts`),
 * as `npm start` does, on a free port; for tests that need the production web
 * UI or a real restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { seedEmbedded } from "./embedded-template";
import { GENEROUS_LIMITS } from "./server";

const root = path.resolve(import.meta.dirname, "../..");

export interface ServerProcess {
  url: string;
  dataDir: string;
  /** Sends a signal, e.g. SIGSTOP / SIGCONT to freeze and thaw it. */
  signal(signal: NodeJS.Signals): void;
  /** Stops the process (SIGTERM, or SIGKILL with `hard`); resolves with its exit code (null if killed by a signal). */
  stop(hard?: boolean): Promise<number | null>;
  /** Starts the server again on the same data and port. */
  restart(): Promise<ServerProcess>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
  /** Resolves with the exit code once the process ends, however it ends. */
  exited: Promise<number | null>;
  /** Everything it has printed so far (JSON log lines, and stderr). */
  output(): string;
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), "switchboard-proc-"));
  if (!env.DATABASE_URL) await seedEmbedded(dataDir);
  return launch({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    ...GENEROUS_LIMITS,
    // Tests behind a load balancer see which instance answered.
    SWITCHBOARD_INSTANCE_HEADER: "true",
    ...env,
    DATA_DIR: dataDir,
  });
}

async function launch(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  const keep = (chunk: Buffer) => void (printed += chunk.toString());
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await listeningUrl(child);
  const port = new URL(url).port;
  const self: ServerProcess = {
    url: url.replace("localhost", "127.0.0.1"),
    dataDir: env.DATA_DIR!,
    signal: (signal) => void child.kill(signal),
    stop: (hard = false) => stopChild(child, hard),
    restart: async () => {
      await stopChild(child, false);
      return launch({ ...env, PORT: port });
    },
    destroy: async () => {
      await stopChild(child, false);
      rmSync(env.DATA_DIR!, { recursive: true, force: true });
    },
    exited,
    output: () => printed,
  };
  return self;
}

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/"url":"(http:\/\/[^"]+)"/);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        // Keep draining output so the child never blocks on a full pipe.
        child.stdout?.resume();
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => fail(new Error(`server exited with ${code}:\n${output}`)));
  });
}

function stopChild(child: ChildProcess, hard: boolean): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill(hard ? "SIGKILL" : "SIGTERM");
  });
}
