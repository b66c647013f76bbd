/** The extension API: the shipped slash-commands plugin, and hooks of a plugin written in the test. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message, ReactionEvent, Room } from "../shared/protocol";
import { call, closeAll, connect, register, request } from "./support/clients";
import { startTestServer, type TestServer } from "./support/server";

const root = path.resolve(import.meta.dirname, "..");

describe("plugins", () => {
  let server: TestServer;
  let webhook: Server;
  let dir: string;
  const forwarded: Message[] = [];
  const reactions: Array<ReactionEvent & { added: boolean }> = [];

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const body = JSON.parse(raw);
        if (req.url === "/reaction") reactions.push(body);
        else forwarded.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
    // A plugin written for this test (inside the repo so it can import the API), forwarding
    // stored messages and reactions to a webhook, refusing a banned word and a banned emoji.
    dir = mkdtempSync(path.join(root, "test", ".tmp-plugins-"));
    const forwarder = path.join(dir, "forwarder.ts");
    writeFileSync(
      forwarder,
      `import { definePlugin } from "../../server/plugins/api";
export default definePlugin({
  name: "forwarder",
  hooks: {
    beforeMessage: ({ body }) => (body.includes("forbidden-word") ? { reject: "that word is not allowed here" } : undefined),
    afterMessage: async (message) => {
      await fetch("http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook", { method: "POST", body: JSON.stringify(message) });
    },
    beforeReaction: ({ emoji, user }) => (emoji === "👎" ? { reject: \`no thumbs down here, \${user.displayName}\` } : undefined),
    afterReaction: async (change) => {
      await fetch("http://127.0.0.1:${(webhook.address() as AddressInfo).port}/reaction", { method: "POST", body: JSON.stringify(change) });
    },
  },
});
`,
    );
    server = await startTestServer("embedded", {
      SWITCHBOARD_PLUGINS: [path.join(root, "plugins/slash-commands.ts"), forwarder].join(","),
    });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
    await new Promise((r) => webhook?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function room() {
    const account = await register(server.url, undefined, "Ada");
    const socket = await connect(server.url, account.token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "plugins" });
    return { socket, room, user: account.user };
  }

  it("rewrites /me and /shrug, refuses /me without an action, leaves other slashes alone", async () => {
    const { socket, room: r } = await room();
    const send = (body: string) => request<{ message: Message }>(socket, "message:send", { roomId: r.id, body });
    expect(await send("/me waves")).toMatchObject({ ok: true, message: { body: "* Ada waves" } });
    expect(await send("/shrug fine")).toMatchObject({ ok: true, message: { body: "fine ¯\\_(ツ)_/¯" } });
    expect(await send("/me")).toEqual({ ok: false, error: { code: "forbidden", message: "Usage: /me <action>" } });
    expect(await send("/usr/bin is a path")).toMatchObject({ ok: true, message: { body: "/usr/bin is a path" } });
    const h = await call<{ messages: Message[] }>(socket, "message:history", { roomId: r.id });
    expect(h.messages.map((m) => m.body)).toEqual(["* Ada waves", "fine ¯\\_(ツ)_/¯", "/usr/bin is a path"]);
  });

  it("refuses a /me or /shrug that would pass 4,000 characters once expanded, and stores one that fits", async () => {
    const { socket, room: r } = await room();
    const send = (body: string) => request<{ message: Message }>(socket, "message:send", { roomId: r.id, body });
    // A 4,000-character body was accepted, expanded past the limit, and failed as `internal` (found by test/fuzz.test.ts).
    for (const body of [`/me ${"x".repeat(3996)}`, `/shrug ${"x".repeat(3993)}`]) {
      expect(await send(body)).toEqual({ ok: false, error: { code: "forbidden", message: "Too long once expanded: at most 4000 characters" } });
    }
    // "* Ada " is six characters: an action of 3,994 fits exactly.
    expect(await send(`/me ${"x".repeat(3994)}`)).toMatchObject({ ok: true, message: { body: `* Ada ${"x".repeat(3994)}` } });
  });

  it("adds a client event with its own schema and ack (dice:roll)", async () => {
    const { socket, room: r, user } = await room();
    const rolled = await call<{ value: number; message: Message }>(socket, "dice:roll", { roomId: r.id, sides: 20 });
    expect(rolled.value).toBeGreaterThanOrEqual(1);
    expect(rolled.value).toBeLessThanOrEqual(20);
    expect(rolled.message).toMatchObject({ authorId: user.id, body: `🎲 rolled ${rolled.value} (d20)` });
    expect(await request(socket, "dice:roll", { roomId: r.id, sides: 1 })).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    const stranger = await connect(server.url, (await register(server.url)).token);
    expect(await request(stranger, "dice:roll", { roomId: r.id })).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("lets a hook reject a message before it is stored and forward it after", async () => {
    const { socket, room: r } = await room();
    const refused = await request(socket, "message:send", { roomId: r.id, body: "a forbidden-word here" });
    expect(refused).toEqual({ ok: false, error: { code: "forbidden", message: "that word is not allowed here" } });
    const { message } = await call<{ message: Message }>(socket, "message:send", { roomId: r.id, body: "forward me" });
    await vi.waitFor(() => expect(forwarded.map((m) => m.id)).toContain(message.id));
    expect(forwarded.find((m) => m.id === message.id)).toEqual(message);
    expect(forwarded.some((m) => m.body.includes("forbidden-word"))).toBe(false);
  });

  it("lets a hook refuse a reaction before it is added, and see each one added or taken back", async () => {
    const { socket, room: r, user } = await room();
    const { message } = await call<{ message: Message }>(socket, "message:send", { roomId: r.id, body: "react to me" });
    const ref = { roomId: r.id, messageId: message.id };
    expect(await request(socket, "reaction:add", { ...ref, emoji: "👎" })).toEqual({
      ok: false,
      error: { code: "forbidden", message: "no thumbs down here, Ada" },
    });
    await call(socket, "reaction:add", { ...ref, emoji: "🎉" });
    await call(socket, "reaction:add", { ...ref, emoji: "🎉" }); // again: nothing changed, nothing to see
    await call(socket, "reaction:remove", { ...ref, emoji: "🎉" });
    // A backend's reaction is seen too (its hooks do not refuse: backends are trusted).
    await server.core.gateway.addReaction({ ...ref, emoji: "👎", bot: "judge" });
    const change = (emoji: string, userId: string, added: boolean) => ({ ...ref, emoji, userId, added });
    // (Each hook call posts on its own: they may reach the webhook in any order.)
    const seen = () => reactions.filter((c) => c.messageId === message.id);
    await vi.waitFor(() => expect(seen()).toHaveLength(3));
    expect(seen()).toEqual(expect.arrayContaining([change("🎉", user.id, true), change("🎉", user.id, false), change("👎", "bot:judge", true)]));
    const h = await call<{ messages: Message[] }>(socket, "message:history", { roomId: r.id });
    expect(h.messages.at(-1)!.reactions).toEqual([{ emoji: "👎", count: 1, userIds: ["bot:judge"] }]);
  });

  it("refuses to start with a plugin that redefines a built-in event", async () => {
    const bad = path.join(dir, "bad.ts");
    writeFileSync(
      bad,
      `import { z } from "zod";
import { definePlugin } from "../../server/plugins/api";
export default definePlugin({ name: "bad", events: { "message:send": { schema: z.object({}), handler: async () => ({}) } } });
`,
    );
    await expect(startTestServer("embedded", { SWITCHBOARD_PLUGINS: bad })).rejects.toThrow(/already exists/);
  });
});
