/**
 * Fast restarts: `npm start` builds the web UI only when the build is missing
 * or was made from other sources (scripts/build-web.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildIsCurrent, sourcesFingerprint, STAMP } from "../scripts/build-web";

const root = path.resolve(import.meta.dirname, "..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with the files a build reads, and a build made from them. */
function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-build-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "app", "_lib"), { recursive: true });
  mkdirSync(path.join(dir, "shared"));
  mkdirSync(path.join(dir, "server"));
  mkdirSync(path.join(dir, ".next"));
  writeFileSync(path.join(dir, "app", "page.tsx"), "export default function Page() {}\n");
  writeFileSync(path.join(dir, "app", "_lib", "store.ts"), "export const x = 1;\n");
  writeFileSync(path.join(dir, "shared", "protocol.ts"), "export type A = 1;\n");
  writeFileSync(path.join(dir, "server", "main.ts"), "console.log(1);\n");
  writeFileSync(path.join(dir, "package-lock.json"), "{}\n");
  writeFileSync(path.join(dir, ".next", "BUILD_ID"), "abc\n");
  writeFileSync(path.join(dir, STAMP), `${sourcesFingerprint(dir)}\n`);
  return dir;
}

describe("the web UI's build at start-up", () => {
  it("is current until a file the UI is built from changes, is added or is removed — and the server's files do not count", () => {
    const dir = project();
    expect(buildIsCurrent(dir)).toBe(true);
    // The server is not part of the web build: a server-only deploy restarts without building.
    writeFileSync(path.join(dir, "server", "main.ts"), "console.log(2);\n");
    expect(buildIsCurrent(dir)).toBe(true);

    writeFileSync(path.join(dir, "app", "_lib", "store.ts"), "export const x = 2;\n");
    expect(buildIsCurrent(dir)).toBe(false);
    writeFileSync(path.join(dir, "app", "_lib", "store.ts"), "export const x = 1;\n");
    expect(buildIsCurrent(dir)).toBe(true);

    writeFileSync(path.join(dir, "shared", "errors.ts"), "export {};\n");
    expect(buildIsCurrent(dir)).toBe(false);
    rmSync(path.join(dir, "shared", "errors.ts"));
    expect(buildIsCurrent(dir)).toBe(true);

    // The basic page for old browsers is copied into the build.
    mkdirSync(path.join(dir, "public", "legacy"), { recursive: true });
    writeFileSync(path.join(dir, "public", "legacy", "app.js"), "var a;\n");
    expect(buildIsCurrent(dir)).toBe(false);
    rmSync(path.join(dir, "public"), { recursive: true });
    expect(buildIsCurrent(dir)).toBe(true);

    // A new lockfile (an upgraded Next.js or React) needs a new build.
    writeFileSync(path.join(dir, "package-lock.json"), '{"lockfileVersion":3}\n');
    expect(buildIsCurrent(dir)).toBe(false);
  });

  it("tells a file moved to another folder from the same bytes where they were", () => {
    const dir = project();
    const before = sourcesFingerprint(dir);
    rmSync(path.join(dir, "app", "_lib", "store.ts"));
    writeFileSync(path.join(dir, "app", "store.ts"), "export const x = 1;\n");
    expect(sourcesFingerprint(dir)).not.toBe(before);
  });

  it("is not current without a finished build or without the fingerprint beside it", () => {
    const dir = project();
    rmSync(path.join(dir, ".next", "BUILD_ID"));
    expect(buildIsCurrent(dir)).toBe(false);
    const other = project();
    rmSync(path.join(other, STAMP));
    expect(buildIsCurrent(other)).toBe(false);
  });

  it("is left as it is by `npm start` after `npm test` built it", () => {
    // npm test builds through the same script just before the suites run.
    expect(buildIsCurrent(root), "no current build: run `npm test` (or `npm run build`) first").toBe(true);
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "build-web.ts")], { cwd: root, encoding: "utf8" });
    expect(out).toContain("the build is up to date");
    expect(buildIsCurrent(root)).toBe(true);
  });
});
