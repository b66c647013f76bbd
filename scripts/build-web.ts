/**
 * `npm start`'s first step: builds the web UI only when there is no build or
 * it is out of date, so a restart with an up-to-date build listens in
 * seconds instead of rebuilding for half a minute (every rolling restart).
 *
 * "Out of date" is decided by content, not by file times (a deploy copies or
 * checks files out anew): a SHA-256 over every file the build reads — the UI
 * (app/), the contract it imports (shared/), public/, the Next.js and
 * TypeScript settings and the lockfile — is kept beside the build in
 * `.next/`; a build whose fingerprint matches is used as it is.
 *
 * `--force` builds anyway. With SWITCHBOARD_WEB_UI=false there is no UI to
 * build and nothing is done.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** What `next build` reads, relative to the project's folder. */
export const BUILD_INPUTS = ["app", "shared", "public", "next.config.ts", "tsconfig.json", "package-lock.json"];

/** Where the fingerprint of the sources a build was made from is kept: inside the build, so deleting it forgets both. */
export const STAMP = path.join(".next", "switchboard-sources.sha256");

/** A SHA-256 over the paths and contents of every file among `inputs` (folders walked in a fixed order). */
export function sourcesFingerprint(root: string, inputs: readonly string[] = BUILD_INPUTS): string {
  const hash = createHash("sha256");
  const add = (relative: string): void => {
    const full = path.join(root, relative);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(path.join(relative, entry));
      return;
    }
    hash.update(`${relative.split(path.sep).join("/")}\0`);
    hash.update(readFileSync(full));
    hash.update("\0");
  };
  for (const input of inputs) add(input);
  return hash.digest("hex");
}

/** Whether the build in `root/.next` was made from the sources as they are now. */
export function buildIsCurrent(root: string, fingerprint = sourcesFingerprint(root)): boolean {
  const stamp = path.join(root, STAMP);
  return existsSync(path.join(root, ".next", "BUILD_ID")) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === fingerprint;
}

function main(): void {
  if (process.env.SWITCHBOARD_WEB_UI === "false") {
    console.log("web UI: not served (SWITCHBOARD_WEB_UI=false), not built");
    return;
  }
  const fingerprint = sourcesFingerprint(ROOT);
  if (!process.argv.includes("--force") && buildIsCurrent(ROOT, fingerprint)) {
    console.log("web UI: the build is up to date");
    return;
  }
  console.log("web UI: building (next build)");
  const next = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const built = spawnSync(process.execPath, [next, "build"], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
  // Taken again: the build may have touched its own settings (tsconfig.json).
  writeFileSync(path.join(ROOT, STAMP), `${sourcesFingerprint(ROOT)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
