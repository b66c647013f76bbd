import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

// Prisma's CLI wants a native `schema-engine` binary, which it downloads from
// binaries.prisma.sh; this project must work without that download. Point it
// at our stand-in, which runs Prisma's WASM build of the same engine
// (scripts/schema-engine.ts). `generate` never runs the engine, but without
// this it still tries the download. An explicitly set variable wins (e.g. to
// use a real native binary).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "scripts/schema-engine.mjs",
);

// Only needed by the commands that touch a database (migrate, db push, ...);
// `prisma generate` (npm's postinstall) must work without it.
const url = process.env.DATABASE_URL || undefined;
const shadowDatabaseUrl = process.env.SHADOW_DATABASE_URL || undefined;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  ...(url ? { datasource: { url, ...(shadowDatabaseUrl ? { shadowDatabaseUrl } : {}) } } : {}),
});
