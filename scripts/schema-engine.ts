/**
 * Stand-in for Prisma's native `schema-engine` binary, backed by the WASM
 * build of the same engine (see ./wasm-engine.ts). Prisma's CLI
 * downloads the native binary from binaries.prisma.sh, which this project
 * cannot rely on; when it is not installed, prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY at
 * `scripts/schema-engine.mjs`, which runs this file with tsx.
 *
 * It speaks the native binary's interface, as used by the Prisma 7 CLI:
 *
 *   schema-engine --version
 *   schema-engine [--datamodels <schema.prisma>]... [--datasource <json>]
 *       JSON-RPC 2.0 on stdio, one message per line; the method names are
 *       the engine's (applyMigrations, devDiagnostic, createMigration, ...).
 *       Logs go to stderr as JSON lines, like the native engine's.
 *   schema-engine --datasource <json> cli <can-connect-to-database | create-database | drop-database>
 *       One-shot commands; on failure, exit code 1 and a line on stderr
 *       shaped `{"level":"ERROR","target":"schema_engine::logger","fields":{"error_code","message"}}`.
 *
 * `--datasource` is the `datasource` block of prisma.config.ts: `{ url, shadowDatabaseUrl? }`.
 * The database is reached through `@prisma/adapter-pg`. For `migrate dev`'s
 * shadow database, a throwaway database is created on the same server and
 * dropped afterwards (or `shadowDatabaseUrl` is used, wiped first).
 */
import { readFile } from "node:fs/promises";
import readline from "node:readline";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { createDatabase, databaseUrl, dropDatabase } from "../server/db/databases";
import {
  createSchemaEngine,
  schemaEngineVersion,
  wasmPanicMessage,
  type EngineLogEvent,
  type SchemaEngine,
  type SchemaEngineSession,
} from "./wasm-engine";

/** prisma.config.ts's `datasource`, as passed in `--datasource`. */
interface Datasource {
  url?: string;
  shadowDatabaseUrl?: string;
}

interface Args {
  version: boolean;
  datamodels: string[];
  datasource: Datasource;
  positionals: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { version: false, datamodels: [], datasource: {}, positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--version":
      case "-V":
        args.version = true;
        break;
      case "--datamodels":
        args.datamodels.push(value());
        break;
      case "--datasource":
        args.datasource = JSON.parse(value()) as Datasource;
        break;
      // The WASM engine reads preview features from the schema itself, and
      // `extensions` (an experimental config option) are not supported.
      case "--enabled-preview-features":
      case "--extension-types":
        value();
        break;
      default:
        args.positionals.push(arg);
    }
  }
  return args;
}

/* ------------------------------------------------------------------------ */
/* Logging (stderr, JSON lines like the native engine)                       */
/* ------------------------------------------------------------------------ */

const LEVELS = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] as const;
type Level = (typeof LEVELS)[number];

/** The most verbose level to print, from RUST_LOG (the CLI sets `info`). */
function maxLevel(): number {
  const last = (process.env.RUST_LOG ?? "info").split(",").pop()?.split("=").pop()?.toUpperCase();
  const index = LEVELS.indexOf(last as Level);
  return index === -1 ? LEVELS.indexOf("INFO") : index;
}
const MAX_LEVEL = maxLevel();

function logLine(level: Level, fields: Record<string, unknown>, target = "schema_engine_cli"): void {
  process.stderr.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target })}\n`);
}

function forwardEngineLog(event: EngineLogEvent, raw: string): void {
  if (LEVELS.indexOf(event.level) <= MAX_LEVEL) process.stderr.write(`${raw}\n`);
}

/* ------------------------------------------------------------------------ */
/* Connection-level commands (no engine needed)                              */
/* ------------------------------------------------------------------------ */

/** An error with the Prisma error code the CLI matches on (P1003 makes it offer to create the database). */
class UserFacingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function describeUrl(url: string): { database: string; user: string; location: string } {
  const u = new URL(url);
  return {
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || "postgres",
    user: decodeURIComponent(u.username),
    location: `${u.hostname || "localhost"}:${u.port || "5432"}`,
  };
}

/** Maps a node-postgres connection error to Prisma's P10xx errors (same wording as the native engine). */
function connectionError(err: unknown, url: string): unknown {
  const code = (err as { code?: unknown }).code;
  const { database, user, location } = describeUrl(url);
  switch (code) {
    case "3D000":
      return new UserFacingError("P1003", `Database \`${database}\` does not exist on the database server at \`${location}\`.`);
    case "42P04":
      return new UserFacingError("P1009", `Database \`${database}\` already exists on the database server at \`${location}\``);
    case "28P01":
      return new UserFacingError(
        "P1000",
        `Authentication failed against database server, the provided database credentials for \`${user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at \`${location}\`.`,
      );
    case "28000":
      return new UserFacingError("P1010", `User \`${user}\` was denied access on the database \`${database}\``);
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
      return new UserFacingError(
        "P1001",
        `Can't reach database server at \`${location}\`\n\nPlease make sure your database server is running at \`${location}\`.`,
      );
    default:
      return err;
  }
}

async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
  } catch (err) {
    throw connectionError(err, connectionString);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function canConnect(url: string): Promise<void> {
  await withClient(url, (c) => c.query("SELECT 1"));
}

async function createNamedDatabase(url: string): Promise<string> {
  const { database } = describeUrl(url);
  await createDatabase(databaseUrl(url, database)).catch((err: unknown) => {
    throw connectionError(err, url);
  });
  return database;
}

async function runCliCommand(command: string | undefined, datasource: Datasource): Promise<number> {
  // The CLI skips the first stderr line, then expects every other line to be JSON.
  logLine("INFO", { message: "Starting schema engine CLI (WASM stand-in)" });
  try {
    const url = datasource.url;
    if (!url) throw new Error("No datasource URL given (--datasource)");
    switch (command) {
      case "can-connect-to-database":
        await canConnect(url);
        process.stdout.write("Connection successful\n");
        return 0;
      case "create-database":
        process.stdout.write(`Database '${await createNamedDatabase(url)}' was successfully created.\n`);
        return 0;
      case "drop-database":
        await dropDatabase(databaseUrl(url, describeUrl(url).database)).catch((err: unknown) => {
          throw connectionError(err, url);
        });
        process.stdout.write("The database was successfully dropped.\n");
        return 0;
      default:
        throw new Error(`Unknown cli command: ${command ?? "(none)"}`);
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    logLine(
      "ERROR",
      {
        is_panic: false,
        error_code: err instanceof UserFacingError ? err.code : "",
        message: typeof e.message === "string" ? e.message : String(err),
      },
      "schema_engine::logger",
    );
    return 1;
  }
}

/* ------------------------------------------------------------------------ */
/* JSON-RPC server                                                           */
/* ------------------------------------------------------------------------ */

interface RpcRequest {
  jsonrpc: "2.0";
  id: number | string;
  method: string;
  params?: unknown;
}

interface RpcErrorBody {
  code: number;
  message: string;
  data: { is_panic: boolean; message: string; error_code?: string; meta?: unknown };
}

/** Engine methods the CLI calls by the same name, with the same params. */
const PASSTHROUGH = [
  "applyMigrations",
  "createMigration",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "diff",
  "ensureConnectionValidity",
  "evaluateDataLoss",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
] as const satisfies readonly (keyof SchemaEngine)[];
type PassthroughMethod = (typeof PASSTHROUGH)[number];
const isPassthrough = (m: string): m is PassthroughMethod => (PASSTHROUGH as readonly string[]).includes(m);

class RpcServer {
  #session: Promise<SchemaEngineSession> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #shuttingDown: Promise<void> | undefined;
  #printCount = 0;
  /** Id of the request being handled, to answer it if the engine panics outside of its promise. */
  #current: RpcRequest["id"] | null = null;

  constructor(
    private readonly datamodelPaths: string[],
    private readonly datasource: Datasource,
  ) {}

  start(): void {
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    // The engine's methods take `&mut self`: requests must run one at a time.
    lines.on("line", (line) => {
      this.#queue = this.#queue.then(() => this.#handleLine(line));
    });
    // The CLI ends stdin, then (on Linux) sends SIGTERM right away: both
    // mean "clean up and go" (end pools, drop any shadow database left).
    lines.on("close", () => void this.#queue.then(() => this.shutdown(0)));
    // A Rust panic can also surface outside of the method's promise (thrown
    // from a task the engine queued): answer the request in flight with it.
    process.on("uncaughtException", (err) => {
      const panic = wasmPanicMessage(err);
      if (this.#current !== null) this.#send({ jsonrpc: "2.0", id: this.#current, error: toRpcError(err, panic) });
      logLine("ERROR", { message: panic ?? String(err) });
      process.exit(panic !== null ? 101 : 1);
    });
    process.on("SIGTERM", () => void this.shutdown(0));
    process.on("SIGINT", () => void this.shutdown(130));
  }

  shutdown(code: number): Promise<void> {
    this.#shuttingDown ??= (async () => {
      try {
        const session = await this.#session?.catch(() => undefined);
        await session?.close();
      } catch (err) {
        logLine("WARN", { message: `Error while closing the engine: ${String(err)}` });
      }
      process.exit(code);
    })();
    return this.#shuttingDown;
  }

  #engine(): Promise<SchemaEngineSession> {
    this.#session ??= this.#createSession().catch((err: unknown) => {
      this.#session = undefined; // let a later request retry
      throw err;
    });
    return this.#session;
  }

  async #createSession(): Promise<SchemaEngineSession> {
    const datamodels = await Promise.all(
      this.datamodelPaths.map(async (p): Promise<[string, string]> => [p, await readFile(p, "utf8")]),
    );
    const { url, shadowDatabaseUrl } = this.datasource;
    let factory: SqlMigrationAwareDriverAdapterFactory;
    if (url) {
      factory = new PrismaPg({ connectionString: url });
    } else {
      // No database configured: commands that need none (e.g. `migrate diff`
      // between two schemas) still need an adapter, so give them an empty
      // in-memory one.
      const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
        import("@electric-sql/pglite"),
        import("pglite-prisma-adapter"),
      ]);
      factory = new PrismaPGlite(new PGlite());
    }
    try {
      return await createSchemaEngine(factory, datamodels, {
        log: forwardEngineLog,
        ...(shadowDatabaseUrl ? { shadowDatabaseUrl } : {}),
      });
    } catch (err) {
      // The engine's connection errors carry no code; find out what the CLI should say.
      if (url) await canConnect(url);
      throw err;
    }
  }

  async #handleLine(line: string): Promise<void> {
    if (!line.trim()) return;
    let request: RpcRequest;
    try {
      request = JSON.parse(line) as RpcRequest;
    } catch {
      this.#send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      return;
    }
    // Replies to requests we never send (e.g. `print`) need no answer.
    if (typeof request.method !== "string") return;
    this.#current = request.id;
    try {
      let result = await this.#dispatch(request.method, request.params);
      if (request.method === "diff") result = this.#printDiff(result);
      this.#send({ jsonrpc: "2.0", id: request.id, result: result ?? null });
      this.#current = null;
    } catch (err) {
      this.#current = null;
      const panic = wasmPanicMessage(err);
      this.#send({ jsonrpc: "2.0", id: request.id, error: toRpcError(err, panic) });
      // A panicked WASM instance cannot be used again; 101 is what the native binary exits with.
      if (panic !== null) await this.shutdown(101);
    }
  }

  async #dispatch(method: string, params: unknown): Promise<unknown> {
    if (method === "createDatabase") {
      // Params: `{ datasource: { tag: "ConnectionString", url } | { tag: "Schema", ... } }`.
      const url = (params as { datasource?: { url?: unknown } } | undefined)?.datasource?.url;
      const target = typeof url === "string" ? url : this.datasource.url;
      if (!target) throw new Error("No datasource URL given (--datasource)");
      return { databaseName: await createNamedDatabase(target) };
    }
    const { engine } = await this.#engine();
    if (isPassthrough(method)) {
      const call = () => (engine[method] as (input: unknown) => Promise<unknown>).call(engine, params);
      if (method !== "evaluateDataLoss" && method !== "createMigration") return call();
      try {
        return await call();
      } catch (err) {
        if (!String((err as Error)?.message).includes(NO_SHADOW_DB)) throw err;
        await primeMigrationsSchema(engine, params as EngineInput<"evaluateDataLoss">);
        return call();
      }
    }
    switch (method) {
      case "getDatabaseVersion":
      case "version":
        return engine.version();
      case "debugPanic":
        return engine.debugPanic();
      default:
        throw Object.assign(new Error(`Method not supported by the WASM schema engine: ${method}`), {
          rpcCode: -32601,
        });
    }
  }

  /**
   * The native engine does not return `diff`'s output: it asks the CLI to
   * print it (a `print` request; the CLI answers, which we ignore), and
   * returns `stdout: null`. The CLI relies on that, so do the same.
   */
  #printDiff(result: unknown): unknown {
    const r = result as { stdout?: unknown } | null;
    if (typeof r?.stdout !== "string") return result;
    this.#send({ jsonrpc: "2.0", id: `print-${++this.#printCount}`, method: "print", params: { content: r.stdout } });
    return { ...r, stdout: null };
  }

  #send(message: object): void {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  }
}

type EngineInput<M extends PassthroughMethod> = Parameters<SchemaEngine[M]>[0];

/** What the WASM engine says when a method needs a shadow database it was not given a way to open. */
const NO_SHADOW_DB = "shadow DB must be provided through an external factory";

/**
 * Unlike the native engine, the WASM engine's `evaluateDataLoss` and
 * `createMigration` cannot open a shadow database: they reuse the schema
 * that `devDiagnostic` computed (on a shadow database) for the same list of
 * migrations. When `migrate dev` has just applied pending migrations, that
 * list was only the applied part, so they fail. All migrations are applied
 * by then, so having the engine diagnose the history again computes (and
 * caches) the schema for the whole list; then the call can be retried.
 */
async function primeMigrationsSchema(engine: SchemaEngine, input: EngineInput<"evaluateDataLoss">): Promise<void> {
  await engine.diagnoseMigrationHistory({
    migrationsList: input.migrationsList,
    optInToShadowDatabase: true,
    filters: input.filters,
  });
}

/** The error shape of the native engine's JSON-RPC responses, which the CLI unpacks. */
function toRpcError(err: unknown, panic: string | null): RpcErrorBody {
  const e = err as { message?: unknown; code?: unknown; meta?: unknown; rpcCode?: unknown };
  const message = panic ?? (typeof e?.message === "string" ? e.message : String(err));
  return {
    code: typeof e?.rpcCode === "number" ? e.rpcCode : 4466,
    message: panic ?? "An error happened. Check the data field for details.",
    data: {
      is_panic: panic !== null,
      message,
      ...(typeof e?.code === "string" ? { error_code: e.code } : {}),
      ...(e?.meta !== undefined ? { meta: e.meta } : {}),
    },
  };
}

/* ------------------------------------------------------------------------ */

async function main(): Promise<void> {
  // stdout carries JSON-RPC only: keep stray console output off it.
  console.log = console.info = console.debug = console.error;
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    process.stdout.write(`schema-engine-cli ${await schemaEngineVersion()}\n`);
    return;
  }
  if (args.positionals[0] === "cli") {
    process.exitCode = await runCliCommand(args.positionals[1], args.datasource);
    return;
  }
  new RpcServer(args.datamodels, args.datasource).start();
}

process.on("unhandledRejection", (reason) => {
  logLine("ERROR", { message: `Unhandled rejection: ${String(reason)}` });
  process.exit(1);
});

await main();
