/**
 * Prisma's schema engine (the part of Prisma that applies and creates
 * migrations) run from its WebAssembly build, `@prisma/schema-engine-wasm`,
 * over a driver adapter, so that migrations work without the native
 * `schema-engine` binary (which Prisma downloads at install time; this
 * project must work without that download).
 *
 * Used by `./schema-engine.ts`, the stand-in binary the Prisma CLI drives
 * (`migrate dev`, `migrate diff`, `migrate status`…) when Prisma's native
 * engine is not installed. Switchboard itself never runs it: start-up and
 * `npm run db:migrate` apply migrations with server/db/migrate.ts.
 *
 * The adapters need a few fix-ups before the engine can use them; see
 * {@link MigrationAdapterFactory}.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { PGlite, Results, Transaction as PGliteTransaction } from "@electric-sql/pglite";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";
import { createDatabase, databaseUrl, dropDatabase } from "../server/db/databases";

export type { SchemaEngine } from "@prisma/schema-engine-wasm";

/* ------------------------------------------------------------------------ */
/* Loading the WebAssembly module                                            */
/* ------------------------------------------------------------------------ */

/** The part of the wasm-bindgen glue module (`schema_engine_bg.js`) we use. */
interface EngineGlue {
  SchemaEngine: typeof SchemaEngine;
  version(): string;
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
}

/** Where the engine reports a Rust panic (see `register_panic_hook` in prisma-engines). */
interface PanicRegistry {
  set_message(message: string): void;
  /** Prisma's own registry (installed by other Prisma WASM modules, if first) has this. */
  get?(): string;
}

let lastPanicMessage: string | null = null;
let gluePromise: Promise<EngineGlue> | undefined;

/**
 * Loads and instantiates the WASM engine once per process. The package's own
 * entry point does `import * as wasm from "./schema_engine_bg.wasm"`, which
 * Node 20 cannot do, so we replay what it does by hand: instantiate the
 * .wasm with the glue module as its import object, hand the exports back to
 * the glue, and run the module's start function.
 */
export function loadSchemaEngineWasm(): Promise<EngineGlue> {
  gluePromise ??= (async () => {
    // The glue calls `global.PRISMA_WASM_PANIC_REGISTRY.set_message(...)` on a
    // Rust panic; without a registry the panic message is lost.
    const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
    const registry: PanicRegistry = {
      set_message: (message: string) => {
        lastPanicMessage = message;
      },
    };
    g.PRISMA_WASM_PANIC_REGISTRY ??= registry;

    const require = createRequire(import.meta.url);
    const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as EngineGlue;
    const bytes = await readFile(path.join(path.dirname(gluePath), "schema_engine_bg.wasm"));
    // Async compile: the module is ~5 MB and should not block the event loop.
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return gluePromise;
}

/** The engine's git hash (what the native binary prints for `--version`). */
export async function schemaEngineVersion(): Promise<string> {
  return (await loadSchemaEngineWasm()).version();
}

/**
 * A Rust panic inside the engine surfaces as a `WebAssembly.RuntimeError`
 * ("unreachable"); the instance is unusable afterwards. Returns the panic
 * message if `err` is one.
 */
export function wasmPanicMessage(err: unknown): string | null {
  if (!(err instanceof WebAssembly.RuntimeError)) return null;
  const registry = (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry }).PRISMA_WASM_PANIC_REGISTRY;
  return lastPanicMessage ?? (registry?.get?.() || err.message);
}

/* ------------------------------------------------------------------------ */
/* Creating an engine                                                        */
/* ------------------------------------------------------------------------ */

/** One line of the engine's `tracing` output (the native binary prints the same JSON on stderr). */
export interface EngineLogEvent {
  level: "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE";
  target?: string;
  fields: { message?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface SchemaEngineOptions {
  /** Receives the engine's log events; `raw` is the JSON line as emitted. */
  log?: (event: EngineLogEvent, raw: string) => void;
  /**
   * PostgreSQL only: a database to use as the shadow database (`migrate dev`
   * diffing). It is wiped (schema `public` dropped and re-created) before use.
   * By default a throwaway database is created on the same server and dropped
   * afterwards, which needs the CREATEDB privilege.
   */
  shadowDatabaseUrl?: string;
}

export interface SchemaEngineSession {
  readonly engine: SchemaEngine;
  /**
   * Frees the engine and disposes of every connection it opened (ending pg
   * pools, dropping any shadow database still around). The engine never
   * disposes of its main connection itself.
   */
  close(): Promise<void>;
}

/**
 * Creates a schema engine on `adapterFactory` (a `PrismaPg` or a
 * `PrismaPGlite`), for the Prisma schema given as `[path, content]` pairs.
 * Call `close()` when done.
 */
export async function createSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  datamodels: [string, string][],
  options: SchemaEngineOptions = {},
): Promise<SchemaEngineSession> {
  const glue = await loadSchemaEngineWasm();
  const factory = new MigrationAdapterFactory(adapterFactory, options.shadowDatabaseUrl);

  const onLog = (line: string) => {
    if (!options.log) return;
    for (const raw of line.split("\n")) {
      if (!raw.trim()) continue;
      try {
        options.log(JSON.parse(raw) as EngineLogEvent, raw);
      } catch {
        options.log({ level: "INFO", fields: { message: raw } }, raw);
      }
    }
  };

  let engine: SchemaEngine;
  try {
    engine = await glue.SchemaEngine.new(
      // No schema (e.g. `migrate diff` between two files) must be "none": the
      // engine panics on an empty list.
      { datamodels: datamodels.length > 0 ? datamodels : undefined },
      onLog,
      bindMigrationAwareSqlAdapterFactory(factory),
    );
  } catch (err) {
    await factory.close();
    throw err;
  }

  let closed = false;
  return {
    engine,
    async close() {
      if (closed) return;
      closed = true;
      try {
        engine.free();
      } catch {
        // After a panic the instance refuses to be freed; it is garbage anyway.
      }
      await factory.close();
    },
  };
}

/* ------------------------------------------------------------------------ */
/* Adapter fix-ups                                                           */
/* ------------------------------------------------------------------------ */

/** OIDs of PostgreSQL's one-byte `"char"` type (used all over the catalogs) and of `text`. */
const CHAR_OID = 18;
const TEXT_OID = 25;

const PG_ADAPTER = "@prisma/adapter-pg";
const PGLITE_ADAPTER = "pglite-prisma-adapter";

/**
 * Wraps the application's adapter factory with what the schema engine needs
 * but the adapters (as of adapter-pg 7.10 / pglite-prisma-adapter 0.7) get
 * wrong:
 *
 * 1. `"char"` columns. The engine's schema describer reads catalog columns
 *    such as `pg_constraint.contype`, of type `"char"` (OID 18), which both
 *    adapters reject ("Column type 'char' could not be deserialized"). It
 *    also insists on getting them as single characters, as the native
 *    engine does (reading them as text panics, e.g. on any CHECK
 *    constraint). So, under the adapter, we relabel those columns `text`
 *    (OID 25) and note their positions on the result's `rows` array, which
 *    the adapter passes through; above it, we retype them `Character`.
 * 2. `executeScript` (how migration scripts are run). adapter-pg splits the
 *    script on every `;`, breaking any statement with a `;` inside a string
 *    or a `DO $$ … $$` body; we send the script whole, as one simple-protocol
 *    query, like the native engine does. The PGlite adapter does not await
 *    `exec()`, so a failing migration would be recorded as applied and its
 *    error left as an unhandled rejection; we await it and report the error.
 * 3. Shadow database (`migrate dev`). adapter-pg's `connectToShadowDb`
 *    creates a database but then connects to the main one (the connection
 *    string overrides the `database` option), so the engine would replay
 *    every migration on the real database; we connect to a real throwaway
 *    database and drop it on dispose. The PGlite adapter's in-memory shadow
 *    is never closed; we use our own and close it.
 *
 * It also keeps track of every adapter handed out, so `close()` can dispose
 * of them: the engine never disposes of its main connection.
 */
export class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider: SqlMigrationAwareDriverAdapterFactory["provider"];
  readonly adapterName: string;
  readonly #inner: SqlMigrationAwareDriverAdapterFactory;
  readonly #shadowDatabaseUrl: string | undefined;
  readonly #open = new Set<FixedAdapter>();
  /** PGlite: the application's database (scripts are run on it directly). */
  readonly #pglite: PGlite | undefined;
  /** pg: the main pool's config, from which the shadow database's is derived. */
  #pgConfig: pg.PoolConfig | undefined;

  constructor(inner: SqlMigrationAwareDriverAdapterFactory, shadowDatabaseUrl?: string) {
    this.#shadowDatabaseUrl = shadowDatabaseUrl;
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    if (inner.provider !== "postgres") {
      throw new Error(`Only PostgreSQL adapters are supported, got ${inner.adapterName} (${inner.provider})`);
    }
    if (inner.adapterName === PGLITE_ADAPTER) {
      this.#pglite = pgliteOf(inner);
      this.#inner = charSafePGliteFactory(inner, this.#pglite);
    } else {
      this.#inner = inner;
    }
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.#inner.connect();
    const pool = pgPoolOf(adapter);
    if (pool) {
      this.#pgConfig ??= pool.options;
      markCharColumns(pool);
    }
    return this.#track(adapter, this.#pglite ? { executeScript: pgliteScriptRunner(this.#pglite) } : {});
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    if (this.adapterName === PGLITE_ADAPTER) return this.#pgliteShadow();
    if (this.adapterName === PG_ADAPTER) return this.#pgShadow();
    throw new Error(`No shadow database support for adapter ${this.adapterName}`);
  }

  /** Disposes of every adapter still open (main connection, leftover shadow databases). */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.#open].map((a) => a.dispose()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  #track(adapter: SqlDriverAdapter, hooks: AdapterHooks): FixedAdapter {
    const fixed = new FixedAdapter(adapter, {
      executeScript: hooks.executeScript ?? scriptRunnerFor(adapter),
      afterDispose: async () => {
        this.#open.delete(fixed);
        await hooks.afterDispose?.();
      },
    });
    this.#open.add(fixed);
    return fixed;
  }

  async #pgShadow(): Promise<SqlDriverAdapter> {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    if (this.#shadowDatabaseUrl) {
      const adapter = await new PrismaPg({ connectionString: this.#shadowDatabaseUrl }).connect();
      markCharColumns(adapter.underlyingDriver());
      const fixed = this.#track(adapter, {});
      // The engine expects an empty shadow database: start from a clean schema.
      await fixed.executeScript('DROP SCHEMA IF EXISTS "public" CASCADE; CREATE SCHEMA "public";');
      return fixed;
    }

    if (!this.#pgConfig) await (await this.connect()).dispose();
    const mainConfig = this.#pgConfig;
    if (!mainConfig?.connectionString) throw new Error("Cannot create a shadow database: no PostgreSQL connection string");
    const shadowUrl = databaseUrl(mainConfig.connectionString, `prisma_shadow_${randomUUID().replaceAll("-", "")}`);
    await createDatabase(shadowUrl);
    try {
      const adapter = await new PrismaPg({ ...mainConfig, connectionString: shadowUrl }).connect();
      markCharColumns(adapter.underlyingDriver());
      return this.#track(adapter, {
        // After the shadow pool has ended (a database in use cannot be dropped).
        afterDispose: () => dropDatabase(shadowUrl),
      });
    } catch (err) {
      await dropDatabase(shadowUrl);
      throw err;
    }
  }

  async #pgliteShadow(): Promise<SqlDriverAdapter> {
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
      import("@electric-sql/pglite"),
      import("pglite-prisma-adapter"),
    ]);
    const db = new PGlite(); // in memory
    const adapter = await new PrismaPGlite(charSafePGlite(db)).connect();
    return this.#track(adapter, { executeScript: pgliteScriptRunner(db), afterDispose: () => db.close() });
  }
}

interface AdapterHooks {
  executeScript?: (script: string) => Promise<void>;
  afterDispose?: () => Promise<void>;
}

/** Delegates to the adapter, except for the hooks (see {@link MigrationAdapterFactory}). */
class FixedAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter["provider"];
  readonly adapterName: string;
  readonly getConnectionInfo?: () => ConnectionInfo;
  readonly #inner: SqlDriverAdapter;
  readonly #hooks: Required<AdapterHooks>;
  #disposed: Promise<void> | undefined;

  constructor(inner: SqlDriverAdapter, hooks: Required<AdapterHooks>) {
    this.#inner = inner;
    this.#hooks = hooks;
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    // Optional in the interface: only expose it if the adapter has it.
    if (inner.getConnectionInfo) this.getConnectionInfo = inner.getConnectionInfo.bind(inner);
  }

  async queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return typeCharColumns(await this.#inner.queryRaw(query));
  }
  executeRaw(query: SqlQuery): Promise<number> {
    return this.#inner.executeRaw(query);
  }
  executeScript(script: string): Promise<void> {
    return this.#hooks.executeScript(script);
  }
  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const tx = await this.#inner.startTransaction(isolationLevel);
    // Same object (commit, rollback, savepoints... keep their `this`), with `queryRaw` fixed up.
    const queryRaw = tx.queryRaw.bind(tx);
    return Object.assign(tx, { queryRaw: async (q: SqlQuery) => typeCharColumns(await queryRaw(q)) });
  }
  /** Idempotent: the engine and `close()` may both dispose of an adapter. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      try {
        await this.#inner.dispose();
      } finally {
        await this.#hooks.afterDispose();
      }
    })();
    return this.#disposed;
  }
}

/** How to run a whole migration script on `adapter` (see {@link MigrationAdapterFactory}, point 2). */
function scriptRunnerFor(adapter: SqlDriverAdapter): (script: string) => Promise<void> {
  if (adapter.adapterName === PG_ADAPTER) {
    // With no parameters, node-postgres uses the simple query protocol, which
    // accepts several statements; errors are mapped by the adapter as usual.
    return async (script) => {
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    };
  }
  return (script) => adapter.executeScript(script);
}

function pgliteScriptRunner(db: Pick<PGlite, "exec">): (script: string) => Promise<void> {
  return async (script) => {
    try {
      await db.exec(script);
    } catch (err) {
      throw toDriverAdapterError(err);
    }
  };
}

/** A PostgreSQL error as the engine expects it from an adapter (it then reports code and message). */
function toDriverAdapterError(err: unknown): unknown {
  const e = err as { code?: unknown; severity?: unknown; message?: unknown; detail?: unknown; hint?: unknown; column?: unknown };
  if (typeof e?.code !== "string" || typeof e.message !== "string") return err;
  const opt = (v: unknown) => (typeof v === "string" ? v : undefined);
  return new DriverAdapterError({
    kind: "postgres",
    code: e.code,
    severity: opt(e.severity) ?? "ERROR",
    message: e.message,
    detail: opt(e.detail),
    column: opt(e.column),
    hint: opt(e.hint),
    originalCode: e.code,
    originalMessage: e.message,
  });
}

/* ---- "char" columns ---------------------------------------------------- */

/** The pool behind an adapter-pg adapter (`underlyingDriver()` is public on it). */
function pgPoolOf(adapter: SqlDriverAdapter): pg.Pool | null {
  const candidate = adapter as { underlyingDriver?: () => unknown };
  if (adapter.adapterName !== PG_ADAPTER || typeof candidate.underlyingDriver !== "function") return null;
  const pool = candidate.underlyingDriver();
  return pool instanceof pg.Pool ? pool : null;
}

/** Where the positions of `"char"` columns are noted on a result's `rows` array. */
const CHAR_COLUMNS = Symbol("charColumns");
type MarkedRows = unknown[] & { [CHAR_COLUMNS]?: number[] };

/** Relabels `"char"` columns of a driver result as `text`, noting their positions on `rows`. */
function markResult(result: unknown): void {
  const r = result as { fields?: { dataTypeID: number }[]; rows?: unknown } | null;
  if (!r || Array.isArray(r) || !Array.isArray(r.fields) || !Array.isArray(r.rows)) return;
  const positions: number[] = [];
  r.fields.forEach((field, i) => {
    if (field.dataTypeID !== CHAR_OID) return;
    field.dataTypeID = TEXT_OID;
    positions.push(i);
  });
  if (positions.length > 0) {
    Object.defineProperty(r.rows, CHAR_COLUMNS, { value: positions, enumerable: false, configurable: true });
  }
}

/** Gives the columns noted by {@link markResult} the type the engine expects of `"char"`. */
function typeCharColumns(result: SqlResultSet): SqlResultSet {
  for (const i of (result.rows as MarkedRows)[CHAR_COLUMNS] ?? []) {
    result.columnTypes[i] = ColumnTypeEnum.Character;
  }
  return result;
}

type PgCallback = (err: Error | null, res: unknown) => void;
type PgQuery = (config: unknown, values?: unknown, callback?: unknown) => unknown;

const markedPools = new WeakSet<pg.Pool>();

/**
 * Runs {@link markResult} on every query result of `pool`'s connections,
 * before adapter-pg reads the column types. Wraps `query` on each connection
 * as the pool makes it (its `connect` event), whichever way it is called
 * (callback, as `pool.query` does, or promise, as a transaction does). Only
 * affects connections made from now on: adapter-pg creates its pool in
 * `connect()`, so that is all of them.
 */
function markCharColumns(pool: pg.Pool): void {
  if (markedPools.has(pool)) return;
  markedPools.add(pool);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as PgQuery;
    const wrap = (cb: PgCallback): PgCallback => (err, res) => {
      if (!err) markResult(res);
      cb(err, res);
    };
    const marked: PgQuery = (config, values, callback) => {
      const c = config as { submit?: unknown; callback?: unknown } | null;
      if (typeof c?.submit === "function") return query(config, values, callback);
      if (typeof values === "function") return query(config, wrap(values as PgCallback));
      if (typeof callback === "function") return query(config, values, wrap(callback as PgCallback));
      if (typeof c?.callback === "function") return query({ ...c, callback: wrap(c.callback as PgCallback) }, values);
      return (query(config, values) as Promise<unknown>).then((res) => {
        markResult(res);
        return res;
      });
    };
    (client as unknown as { query: PgQuery }).query = marked;
  });
}

function markResults<T extends Pick<Results, "fields">>(results: T): T {
  markResult(results);
  return results;
}

/**
 * A view of `db` whose query results go through {@link markResult}, before
 * the PGlite adapter reads the column types. A proxy rather than a patch, so
 * the application's own PGlite instance is left untouched; everything else is
 * forwarded (bound, as PGlite uses private fields).
 */
function charSafePGlite(db: PGlite): PGlite {
  const wrapTx = (tx: PGliteTransaction): PGliteTransaction =>
    new Proxy(tx, {
      get(target, prop) {
        if (prop === "query") {
          return async (...args: Parameters<PGliteTransaction["query"]>) =>
            markResults(await target.query(...args));
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "query") {
        return async (...args: Parameters<PGlite["query"]>) => markResults(await target.query(...args));
      }
      if (prop === "transaction") {
        return <T>(callback: (tx: PGliteTransaction) => Promise<T>) =>
          target.transaction((tx) => callback(wrapTx(tx)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The PGlite instance behind a `PrismaPGlite` factory. The adapter keeps it in
 * a (TypeScript-)private `client` field with no accessor, hence the cast;
 * checked at run time, pinned to pglite-prisma-adapter 0.7.x.
 */
function pgliteOf(factory: SqlMigrationAwareDriverAdapterFactory): PGlite {
  const db = (factory as unknown as { client?: PGlite }).client;
  if (!db || typeof db.query !== "function" || typeof db.exec !== "function") {
    throw new Error("Unsupported pglite-prisma-adapter version: cannot find its PGlite instance");
  }
  return db;
}

/** A `PrismaPGlite` factory like `factory`, but on a `"char"`-safe view of `db`. */
function charSafePGliteFactory(
  factory: SqlMigrationAwareDriverAdapterFactory,
  db: PGlite,
): SqlMigrationAwareDriverAdapterFactory {
  const safe = charSafePGlite(db);
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const { PrismaPGlite } = await import("pglite-prisma-adapter");
      return new PrismaPGlite(safe).connect();
    },
    connectToShadowDb() {
      return Promise.reject(new Error("unreachable: MigrationAdapterFactory provides the PGlite shadow database"));
    },
  };
}
