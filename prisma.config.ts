import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

const root = path.dirname(fileURLToPath(import.meta.url));

// Prisma's CLI runs a native \`schema-engine\` binary, which @prisma/engines
// downloads from binaries.prisma.sh at install time; this project must work
// without that download. When the binary is not there, point the CLI at our
// stand-in, which runs Prisma's WASM build of the same engine
// (scripts/schema-engine.ts) for \`migrate dev\`, \`migrate diff\` and the
// rest. (\`generate\` never runs the engine, but without this it still tries
// the download.) An explicitly set variable wins. Switchboard itself never
// needs either: it applies migrations with server/db/migrate.ts.
const enginesDir = path.join(root, "node_modules/@prisma/engines");
const nativeEngine = existsSync(enginesDir) && readdirSync(enginesDir).some((name) => name.startsWith("schema-engine"));
if (!nativeEngine) process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, "scripts/schema-engine.mjs");

// Only needed by the commands that touch a database (migrate, db push, ...);
// `prisma generate` (npm's postinstall) must work without it.
const url = process.env.DATABASE_URL || undefined;
const shadowDatabaseUrl = process.env.SHADOW_DATABASE_URL || undefined;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  ...(url ? { datasource: { url, ...(shadowDatabaseUrl ? { shadowDatabaseUrl } : {}) } } : {}),
});
