import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/config";

describe("configuration", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("applies the documented defaults", () => {
    const config = loadConfig({ DATA_DIR: dir });
    expect(config).toMatchObject({ port: 3000, host: "0.0.0.0", databaseUrl: null, webUi: true, dataDir: dir });
  });

  it("generates a secret once and keeps it in the data directory", () => {
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.secret).toHaveLength(64);
    expect(b.secret).toBe(a.secret);
    const file = path.join(dir, "secret");
    expect(readFileSync(file, "utf8").trim()).toBe(a.secret);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it("refuses a secret file shorter than a secret variable may be", () => {
    const short = path.join(dir, "short");
    mkdirSync(short);
    writeFileSync(path.join(short, "secret"), "too-short\n");
    expect(() => loadConfig({ DATA_DIR: short })).toThrow(/secret must be at least 32 characters/);
    // The file is left as it was: no secret is silently replaced.
    expect(readFileSync(path.join(short, "secret"), "utf8")).toBe("too-short\n");
  });

  it("reads upload sizes in bytes or with a unit", () => {
    const size = (value: string) => loadConfig({ DATA_DIR: dir, SWITCHBOARD_UPLOAD_MAX_SIZE: value }).uploads.maxBytes;
    expect(loadConfig({ DATA_DIR: dir }).uploads.maxBytes).toBe(10 * 1024 * 1024);
    expect(size("1048576")).toBe(1048576);
    expect(size("65536 B")).toBe(65536);
    expect(size("512KB")).toBe(512 * 1024);
    expect(size("1.5 mb")).toBe(1.5 * 1024 * 1024);
    expect(() => size("0")).toThrow(/SWITCHBOARD_UPLOAD_MAX_SIZE/);
    expect(() => size("10 TB")).toThrow(/SWITCHBOARD_UPLOAD_MAX_SIZE/);
  });

  it("names every bad variable in one error", () => {
    let error: unknown;
    try {
      loadConfig({
        DATA_DIR: dir,
        PORT: "eighty",
        DATABASE_URL: "mysql://localhost/db",
        SWITCHBOARD_SECRET: "short",
        SWITCHBOARD_WEB_UI: "maybe",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of ["PORT", "DATABASE_URL", "SWITCHBOARD_SECRET", "SWITCHBOARD_WEB_UI"]) {
      expect(problems).toContain(name);
    }
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ DATA_DIR: dir, PORT: "", DATABASE_URL: "" })).toMatchObject({ port: 3000, databaseUrl: null });
  });
});
