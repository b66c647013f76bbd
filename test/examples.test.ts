/** The Python example in docs/examples runs (standard library only) against a live server. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server";

const run = promisify(execFile);
const script = path.resolve(import.meta.dirname, "../docs/examples/switchboard.py");
const KEY = "example-api-key-0123456789";

describe("docs/examples/switchboard.py", () => {
  let server: TestServer;
  let page: Socket;
  beforeAll(async () => {
    server = await startTestServer("embedded", { SWITCHBOARD_API_KEYS: KEY });
  });
  afterAll(async () => {
    page?.close();
    await server?.destroy();
  });

  const python = async (...args: string[]) => {
    const { stdout } = await run("python3", [script, ...args], {
      env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_API_KEY: KEY },
      timeout: 30_000,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it("binds a push page to a uid, sends to it, and publishes", async () => {
    page = io(`${server.url}/push`, { transports: ["websocket"], reconnection: false, forceNew: true });
    const hello = await new Promise<{ clientId: string }>((resolve) => page.once("client:hello", resolve));

    expect(await python("bind", hello.clientId, "py-user", "/push")).toEqual({ ok: true });
    expect(await python("online", "py-user", "/push")).toEqual({ online: true });

    const notice = new Promise((resolve) => page.once("notice", resolve));
    expect(await python("send-to-user", "py-user", "notice", JSON.stringify({ text: "from python" }), "/push")).toEqual({ ok: true });
    expect(await notice).toEqual({ text: "from python" });

    const published = new Promise((resolve) => page.once("deploy", resolve));
    const res = await python("publish", JSON.stringify({ event: "deploy", data: 2, users: ["py-user"], namespace: "/push" }));
    expect(res).toEqual({ targets: 1 });
    expect(await published).toBe(2);

    // Errors come back with their stable code.
    const bad = await python("publish", JSON.stringify({ event: "deploy", namespace: "/push" }));
    expect(bad).toMatchObject({ error: { status: 400, code: "invalid_payload" } });
  });
});
