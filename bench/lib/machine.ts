/** What every result is printed with: the machine, the versions, the settings. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./proc";

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "?";
  } catch {
    return "?";
  }
}

function git(args: string[]): string {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "?";
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory: string;
  kernel: string;
  node: string;
  versions: Record<string, string>;
  commit: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "?";
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1];
  const dirty = git(["status", "--porcelain", "--", "server", "shared", "prisma"]) !== "";
  return {
    cpu: `${model}${mhz ? ` @ ${Math.round(Number(mhz))} MHz` : ""}`,
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    versions: {
      "socket.io": packageVersion("socket.io"),
      "engine.io": packageVersion("engine.io"),
      ws: packageVersion("ws"),
      "@electric-sql/pglite": packageVersion("@electric-sql/pglite"),
      "@prisma/client": packageVersion("@prisma/client"),
      pg: packageVersion("pg"),
    },
    commit: `${git(["rev-parse", "--short", "HEAD"])}${dirty ? " (+ uncommitted changes in server/shared/prisma)" : ""}`,
  };
}

export function formatMachine(m: MachineInfo): string[] {
  return [
    `machine:  ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.kernel}`,
    `software: Node ${m.node}, ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `code:     switchboard ${m.commit}`,
  ];
}
