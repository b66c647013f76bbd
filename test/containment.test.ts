/**
 * A plugin cannot destabilise the process: whatever its handlers and hooks
 * throw or return is answered `internal` (and logged), and a bug that escapes
 * every handler is logged — an uncaught exception then stops the server
 * gracefully with exit code 1, for its supervisor to start a clean one.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, closeAll, connect, register, request } from "./support/clients";
import { testPlugins, type TestPlugins } from "./support/plugins";
import { startServerProcess, type ServerProcess } from "./support/process";
import { startTestServer, type TestServer } from "./support/server";

const UNRULY = `import { z } from "zod";
import { definePlugin } from "../../server/plugins/api";

const any = z.object({}).passthrough();
const circular: Record<string, unknown> = {};
circular.self = circular;

export default definePlugin({
  name: "unruly",
  events: {
    // Not async: throws in the caller's stack.
    "unruly:throw-now": { schema: any, handler: (() => { throw new Error("thrown at once"); }) as never },
    "unruly:plain": { schema: any, handler: (() => ({ value: 1 })) as never },
    "unruly:number": { schema: any, handler: (async () => 42) as never },
    "unruly:circular": { schema: any, handler: async () => circular },
    "unruly:bigint": { schema: any, handler: async () => ({ n: 10n }) },
    "unruly:claims-failure": { schema: any, handler: async () => ({ ok: false, value: 2 }) },
    "unruly:reject-later": {
      schema: any,
      handler: async () => {
        void Promise.reject(new Error("nobody handles this"));
        return {};
      },
    },
    "unruly:throw-later": {
      schema: any,
      handler: async () => {
        setTimeout(() => { throw new Error("thrown from a timer"); }, 10);
        return {};
      },
    },
  },
  hooks: {
    beforeMessage: (({ body }: { body: string }) => {
      if (body === "explode") throw new Error("hook thrown at once");
      if (body === "nonsense") return { nonsense: true };
      return undefined;
    }) as never,
    afterMessage: (() => { throw new Error("after, thrown at once"); }) as never,
    beforeReaction: (({ emoji }: { emoji: string }) => {
      if (emoji === "💥") throw new Error("reaction hook thrown at once");
      if (emoji === "🤪") return { rewrite: "👍" };
      return undefined;
    }) as never,
    afterReaction: (async () => { throw new Error("after a reaction, rejected"); }) as never,
  },
});
`;

let plugins: TestPlugins;
let plugin: string;
beforeAll(() => {
  plugins = testPlugins();
  plugin = plugins.write("unruly", UNRULY);
});
afterAll(() => plugins?.remove());

describe("a plugin's handlers and hooks", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", { SWITCHBOARD_PLUGINS: plugin });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("answer internal when they throw or resolve to what cannot be sent, and nothing else breaks", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    const internal = { ok: false, error: { code: "internal", message: expect.any(String) } };
    expect(await request(socket, "unruly:throw-now", {})).toEqual(internal);
    expect(await request(socket, "unruly:number", {})).toEqual(internal);
    expect(await request(socket, "unruly:circular", {})).toEqual(internal);
    expect(await request(socket, "unruly:bigint", {})).toEqual(internal);
    // A plain (non-promise) object is a fine answer; `ok` is the server's to say.
    expect(await request(socket, "unruly:plain", {})).toEqual({ ok: true, value: 1 });
    expect(await request(socket, "unruly:claims-failure", {})).toEqual({ ok: true, value: 2 });

    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "hooks" });
    expect(await request(socket, "message:send", { roomId: room.id, body: "explode" })).toEqual(internal);
    expect(await request(socket, "message:send", { roomId: room.id, body: "nonsense" })).toEqual(internal);
    // afterMessage throwing does not touch the send.
    const sent = await request<{ message: Message }>(socket, "message:send", { roomId: room.id, body: "fine" });
    expect(sent).toMatchObject({ ok: true, message: { body: "fine" } });
    // The same for reactions: a before-hook that throws or answers nonsense refuses; an after-hook that fails changes nothing.
    const ref = { roomId: room.id, messageId: sent.ok ? sent.message.id : "" };
    expect(await request(socket, "reaction:add", { ...ref, emoji: "💥" })).toEqual(internal);
    expect(await request(socket, "reaction:add", { ...ref, emoji: "🤪" })).toEqual(internal);
    expect(await request(socket, "reaction:add", { ...ref, emoji: "👍" })).toEqual({ ok: true });
    const history = await call<{ messages: Message[] }>(socket, "message:history", { roomId: room.id });
    expect(history.messages.at(-1)!.reactions).toEqual([{ emoji: "👍", count: 1, userIds: [expect.any(String)] }]);
    expect(socket.connected).toBe(true);
    expect((await api(server.url, "GET", "/healthz")).status).toBe(200);
  });
});

describe.each([
  ["without the web UI", "false"],
  ["with the web UI", "true"],
])("a bug that escapes every handler (%s)", { timeout: 90_000 }, (_label, webUi) => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ SWITCHBOARD_PLUGINS: plugin, SWITCHBOARD_WEB_UI: webUi });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("is logged when a promise rejection goes unhandled, and the server goes on", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    expect(await request(socket, "unruly:reject-later", {})).toEqual({ ok: true });
    await vi.waitFor(() => expect(server.output()).toContain("unhandled promise rejection"), { timeout: 10_000 });
    expect(server.output()).toContain("nobody handles this");
    expect((await api(server.url, "GET", "/healthz")).status).toBe(200);
    expect((await request(socket, "room:list", {})).ok).toBe(true);
  });

  it("stops the server gracefully with exit code 1 on an uncaught exception", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token);
    expect(await request(socket, "unruly:throw-later", {})).toEqual({ ok: true });
    expect(await server.exited).toBe(1);
    const output = server.output();
    expect(output).toContain("uncaught exception");
    expect(output).toContain("thrown from a timer");
    expect(output).toContain('"reason":"uncaughtException"'); // the graceful path, not a crash
  });
});
