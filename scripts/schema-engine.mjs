#!/usr/bin/env node
// Executable entry point of the schema-engine stand-in (see schema-engine.ts
// beside it): the Prisma CLI runs PRISMA_SCHEMA_ENGINE_BINARY directly, so
// this plain-JS shim loads tsx and hands over to the TypeScript code.

// Node's own warnings would land on stderr, where the CLI expects JSON lines only.
process.removeAllListeners("warning");

const { register } = await import("tsx/esm/api");
register();
await import("./schema-engine.ts");
