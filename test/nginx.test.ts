/**
 * deploy/nginx.conf with Debian's nginx in front of three instances: sticky
 * long-polling, WebSocket upgrade, and clients moving to another instance
 * when theirs is killed. Clients come from different loopback addresses
 * (127.0.0.x) so the address hash spreads them over the instances.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message, ReactionEvent, Room, RoomEvent } from "../shared/protocol";
import { register } from "./support/clients";
import { download, upload } from "./support/files";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { startServerProcess, type ServerProcess } from "./support/process";
import { redisAvailable } from "./support/redis";
import { RedisServer } from "./support/redis-server";

const NGINX = "/usr/sbin/nginx";
const KEY = "nginx-test-api-key-0123456789";
const root = path.resolve(import.meta.dirname, "..");
const ready = (await postgresAvailable()) && (await redisAvailable());
if (process.env.CI && !existsSync(NGINX)) throw new Error("nginx is required in CI (apt-get install nginx)");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Which instance answers requests from this source address. */
function instanceFor(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${url}/healthz`, { localAddress, agent: false }, (res) => {
      res.resume();
      resolve(String(res.headers["x-switchboard-instance"]));
    }).on("error", reject);
  });
}

describe.runIf(ready && existsSync(NGINX))("behind nginx (deploy/nginx.conf)", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let dropDb: () => Promise<void>;
  let nginx: ChildProcess;
  let dir: string;
  let lb: string;
  const instances: ServerProcess[] = [];
  const sockets: Socket[] = [];
  /** Source address per instance id. */
  const addressOf = new Map<string, string>();

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    redis = await RedisServer.start();
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      SWITCHBOARD_WEB_UI: "false",
      SWITCHBOARD_SECRET: "nginx-test-secret-0123456789abcdef0123456789",
      SWITCHBOARD_API_KEYS: KEY,
      // As docs/deploy.md says for instances behind nginx: the client is the address nginx saw.
      SWITCHBOARD_TRUST_PROXY: "1",
    };
    for (const name of ["n1", "n2", "n3"]) {
      instances.push(await startServerProcess({ ...env, SWITCHBOARD_INSTANCE_ID: name }));
    }

    // The shipped config, pointed at this test's instances and a free port.
    dir = mkdtempSync(path.join(tmpdir(), "switchboard-nginx-"));
    const port = await freePort();
    const site = readFileSync(path.join(root, "deploy/nginx.conf"), "utf8")
      .replace(/(\s+server 127\.0\.0\.1:300\d[^\n]*\n)+/, (block) => {
        const line = block.split("\n").find((l) => l.trim().startsWith("server"))!;
        return `\n${instances.map((i) => line.replace(/127\.0\.0\.1:\d+/, new URL(i.url).host)).join("\n")}\n`;
      })
      .replace("listen 80;", `listen 127.0.0.1:${port};`);
    expect(site).toContain(new URL(instances[2]!.url).host);
    writeFileSync(path.join(dir, "switchboard.conf"), site);
    writeFileSync(
      path.join(dir, "nginx.conf"),
      [
        "daemon off;",
        "worker_processes 1;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        "events { worker_connections 1024; }",
        "http {",
        "  access_log off;",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`),
        `  include ${dir}/switchboard.conf;`,
        "}",
      ].join("\n"),
    );
    nginx = spawn(NGINX, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
    lb = `http://127.0.0.1:${port}`;
    await vi.waitFor(async () => expect((await fetch(`${lb}/healthz`)).status).toBe(200), { timeout: 10_000 });

    // Find a source address that lands on each instance.
    for (let i = 2; i < 60 && addressOf.size < 3; i++) {
      const address = `127.0.0.${i}`;
      const id = await instanceFor(lb, address);
      if (!addressOf.has(id)) addressOf.set(id, address);
    }
    expect([...addressOf.keys()].sort()).toEqual(["n1", "n2", "n3"]);
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    nginx?.kill("SIGTERM");
    for (const i of instances) await i.destroy().catch(() => {});
    await redis?.stop();
    await dropDb?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A client whose requests come from the address that nginx sends to `instance` (engine.io-client hands `agent` to both transports). */
  function client(instance: string, token: string, transports: ("websocket" | "polling")[], reconnection = false): Promise<Socket> {
    const socket = io(lb, {
      auth: { token },
      transports,
      forceNew: true,
      reconnection,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      agent: new Agent({ localAddress: addressOf.get(instance)!, keepAlive: true }) as never,
    } as never);
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", reject);
    });
  }

  const call = async <T,>(s: Socket, event: string, payload: unknown): Promise<T> => {
    const res = await s.timeout(10_000).emitWithAck(event, payload);
    if (!res.ok) throw new Error(`${event}: ${res.error.code}`);
    return res as T;
  };

  it("delivers between WebSocket and polling-only clients spread over every instance", async () => {
    const users = await Promise.all(["n1", "n2", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const ws = await Promise.all(users.map((u) => client(u.id, u.token, ["websocket"])));
    const polling = await Promise.all(users.map((u) => client(u.id, u.token, ["polling"])));
    expect(polling.every((s) => s.io.engine.transport.name === "polling")).toBe(true);
    expect(ws.every((s) => s.io.engine.transport.name === "websocket")).toBe(true);

    const { room } = await call<{ room: Room }>(ws[0]!, "room:create", {
      name: "behind nginx",
      memberIds: users.slice(1).map((u) => u.user.id),
    });
    const received = [...ws, ...polling].map(
      (s) => new Promise<Message>((resolve) => s.on("message:new", (m: Message) => m.body === "through nginx" && resolve(m))),
    );
    // Sent from a polling client: many HTTP requests, all on its own instance.
    await call(polling[2]!, "message:send", { roomId: room.id, body: "through nginx" });
    const messages = await Promise.all(received);
    expect(new Set(messages.map((m) => m.id)).size).toBe(1);
  });

  it("carries edits, reactions, thread replies, deletions and membership lines to members on every instance, polling clients included", async () => {
    const users = await Promise.all(["n1", "n2", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const [author, ...others] = await Promise.all(users.map((u, i) => client(u.id, u.token, i === 1 ? ["polling"] : ["websocket"])));
    const joined = others.map((s) => new Promise((resolve) => s.on("room:joined", (r: Room) => r.name === "edits" && resolve(r))));
    const { room } = await call<{ room: Room }>(author!, "room:create", { name: "edits", memberIds: users.slice(1).map((u) => u.user.id) });
    await Promise.all(joined);
    const { message } = await call<{ message: Message }>(author!, "message:send", { roomId: room.id, body: "draft" });
    const updated = others.map((s) => new Promise<Message>((resolve) => s.on("message:updated", (m: Message) => m.id === message.id && resolve(m))));
    const deleted = others.map((s) => new Promise<Message>((resolve) => s.on("message:deleted", (m: Message) => m.id === message.id && resolve(m))));
    await call(author!, "message:edit", { roomId: room.id, messageId: message.id, body: "final" });
    expect((await Promise.all(updated)).map((m) => m.body)).toEqual(["final", "final"]);
    const reacted = others.map((s) => new Promise<ReactionEvent>((resolve) => s.on("reaction:added", resolve)));
    await call(others[0]!, "reaction:add", { roomId: room.id, messageId: message.id, emoji: "🎉" });
    const reactor = users[1]!.user.id;
    expect(await Promise.all(reacted)).toEqual(Array(2).fill({ roomId: room.id, messageId: message.id, emoji: "🎉", userId: reactor }));
    // A reply in the message's thread: its author, on another instance, is told (thread:reply) as one who takes part.
    const told = new Promise<Message>((resolve) => author!.on("thread:reply", resolve));
    const { message: reply } = await call<{ message: Message }>(others[0]!, "message:send", { roomId: room.id, body: "in thread", threadId: message.id });
    expect(await told).toEqual(reply);
    await call(author!, "message:delete", { roomId: room.id, messageId: message.id });
    expect((await Promise.all(deleted)).map((m) => [m.body, typeof m.deletedAt])).toEqual([["", "string"], ["", "string"]]);
    // A member leaving: the line for the timeline reaches those who stay, on their instances.
    const lines = [author!, others[0]!].map((s) => new Promise<RoomEvent>((resolve) => s.on("room:event", resolve)));
    await call(others[1]!, "room:leave", { roomId: room.id });
    const leaver = users[2]!.user;
    expect((await Promise.all(lines)).map((e) => [e.kind, e.user.id])).toEqual(Array(2).fill(["left", leaver.id]));
  });

  it("carries pins, mutes and rename lines to members on every instance, polling clients included; a mute holds on every instance", async () => {
    const users = await Promise.all(["n1", "n2", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const [owner, ...others] = await Promise.all(users.map((u, i) => client(u.id, u.token, i === 1 ? ["polling"] : ["websocket"])));
    const joined = others.map((s) => new Promise((resolve) => s.on("room:joined", (r: Room) => r.name === "moderation" && resolve(r))));
    const { room } = await call<{ room: Room }>(owner!, "room:create", { name: "moderation", memberIds: users.slice(1).map((u) => u.user.id) });
    await Promise.all(joined);
    const { message } = await call<{ message: Message }>(owner!, "message:send", { roomId: room.id, body: "pin me" });
    const pinned = others.map((s) => new Promise<{ messageId: string }>((resolve) => s.on("message:pinned", resolve)));
    await call(owner!, "message:pin", { roomId: room.id, messageId: message.id });
    expect((await Promise.all(pinned)).map((p) => p.messageId)).toEqual([message.id, message.id]);
    const muted = others.map((s) => new Promise<{ userId: string; muted: boolean }>((resolve) => s.on("member:muted", resolve)));
    const target = users[1]!.user.id;
    await call(owner!, "room:mute", { roomId: room.id, userId: target, muted: true });
    expect((await Promise.all(muted)).map((m) => [m.userId, m.muted])).toEqual(Array(2).fill([target, true]));
    // The polling member, on another instance, is refused there.
    expect(await others[0]!.timeout(10_000).emitWithAck("message:send", { roomId: room.id, body: "hello?" })).toMatchObject({ ok: false, error: { code: "forbidden", message: "you are muted in this room" } });
    const lines = others.map((s) => new Promise<RoomEvent>((resolve) => s.on("room:event", resolve)));
    await call(owner!, "room:update", { roomId: room.id, name: "moderated" });
    expect((await Promise.all(lines)).map((e) => [e.kind, e.value])).toEqual(Array(2).fill(["renamed", "moderated"]));
    const unpinned = others.map((s) => new Promise<{ messageId: string }>((resolve) => s.on("message:unpinned", resolve)));
    await call(others[1]!, "message:unpin", { roomId: room.id, messageId: message.id });
    expect((await Promise.all(unpinned)).map((p) => p.messageId)).toEqual([message.id, message.id]);
  });

  it("streams an upload through nginx to one instance, and a member on another instance receives and downloads it", async () => {
    const [u1, u2] = await Promise.all(["n1", "n2"].map(async (id) => ({ id, ...(await register(lb)) })));
    const s1 = await client("n1", u1!.token, ["websocket"]);
    const s2 = await client("n2", u2!.token, ["polling"]);
    const { room } = await call<{ room: Room }>(s1, "room:create", { name: "files", memberIds: [u2!.user.id] });
    const photo = readFileSync(path.join(root, "test/fixtures/rotated.jpg"));
    // Bigger than nginx's default body limit (1 MB), and streamed through, not buffered.
    const archive = Buffer.alloc(3 * 1024 * 1024, 5);
    const from1 = { token: u1!.token, localAddress: addressOf.get("n1")! };
    const sent = await Promise.all([
      upload(lb, `/api/rooms/${room.id}/files`, photo, { ...from1, name: "photo.jpg", type: "image/jpeg" }),
      upload(lb, `/api/rooms/${room.id}/files`, archive, { ...from1, name: "logs.tar", type: "application/x-tar" }),
    ]);
    expect(sent.map((r) => [r.status, r.body.error?.code ?? "ok"])).toEqual([[201, "ok"], [201, "ok"]]);
    const arrived = new Promise<Message>((resolve) => s2.on("message:new", resolve));
    await call(s1, "message:send", { roomId: room.id, body: "both", attachmentIds: sent.map((r) => r.body.attachment.id) });
    const files = (await arrived).attachments!;
    expect(files.map((f) => [f.name, f.size])).toEqual([["photo.jpg", photo.length], ["logs.tar", archive.length]]);
    const at2 = addressOf.get("n2")!;
    expect((await download(lb, `/api/files/${files[0]!.id}`, u2!.token, at2)).data.equals(photo)).toBe(true);
    expect((await download(lb, `/api/files/${files[1]!.id}`, u2!.token, at2)).data.equals(archive)).toBe(true);
    expect((await download(lb, `/api/files/${files[0]!.id}/thumbnail`, u2!.token, at2)).headers.get("content-type")).toBe("image/jpeg");
    // Over Switchboard's limit, said up front or found part-way: its own answer (JSON, stable code), not nginx's page.
    for (const chunked of [false, true]) {
      const tooBig = await upload(lb, `/api/rooms/${room.id}/files`, Buffer.alloc(20 * 1024 * 1024), { ...from1, name: "big.bin", chunked });
      expect([tooBig.status, tooBig.body?.error?.code ?? tooBig.body]).toEqual([413, "too_large"]);
    }
  });

  it("carries a profile change to those who share a room on other instances, and to the person's connections there", async () => {
    const [ada, bob] = await Promise.all(["n1", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const [onN1, onN2] = [await client("n1", ada!.token, ["websocket"]), await client("n2", ada!.token, ["polling"])];
    const b = await client("n3", bob!.token, ["websocket"]);
    const joined = new Promise((resolve) => b.on("room:joined", resolve));
    const { room } = await call<{ room: Room }>(onN1, "room:create", { name: "faces", memberIds: [bob!.user.id] });
    await joined;
    const told = new Promise<{ displayName: string }>((resolve) => b.on("user:updated", resolve));
    await call(onN1, "user:update", { displayName: "Ada Renamed" });
    expect((await told).displayName).toBe("Ada Renamed");
    // Her tab on another instance sends with the new name at once.
    const { message } = await call<{ message: Message }>(onN2, "message:send", { roomId: room.id, body: "still me" });
    expect(message.author.displayName).toBe("Ada Renamed");
  });

  it("carries typing, DMs, presence and gateway operations across instances behind nginx", async () => {
    const [u1, u2, u3] = await Promise.all(["n1", "n2", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const s1 = await client("n1", u1!.token, ["websocket"]);
    const s2 = await client("n2", u2!.token, ["polling"]);
    const s3 = await client("n3", u3!.token, ["websocket"]);

    const dmAt3 = new Promise<Room>((resolve) => s3.once("room:joined", resolve));
    const { room: dm } = await call<{ room: Room }>(s1, "dm:open", { userId: u3!.user.id });
    expect(await dmAt3).toEqual(dm);
    const joinedAt2 = new Promise<Room>((resolve) => s2.on("room:joined", (r: Room) => r.name === "typing" && resolve(r)));
    const { room } = await call<{ room: Room }>(s1, "room:create", { name: "typing", memberIds: [u2!.user.id, u3!.user.id] });
    await joinedAt2; // s2 (another instance) now listens to the room
    const typing = new Promise((resolve) => s1.once("typing", resolve));
    s2.emit("typing", { roomId: room.id, typing: true });
    expect(await typing).toEqual({ roomId: room.id, userId: u2!.user.id, typing: true });

    const key = { authorization: `Bearer ${KEY}` };
    const listed = await fetch(`${lb}/api/v1/clients`, { headers: key }).then((r) => r.json() as Promise<{ clients: { userId: string }[] }>);
    expect(listed.clients.map((c) => c.userId)).toEqual(expect.arrayContaining([u1!.user.id, u2!.user.id, u3!.user.id]));
    const notice = new Promise((resolve) => s2.once("notice", resolve));
    await fetch(`${lb}/api/v1/users/${u2!.user.id}/send`, {
      method: "POST",
      headers: { ...key, "content-type": "application/json" },
      body: JSON.stringify({ event: "notice", data: "via nginx" }),
    });
    expect(await notice).toBe("via nginx");

    const offline = new Promise((resolve) =>
      s1.on("presence", (p: { userId: string; online: boolean }) => p.userId === u3!.user.id && !p.online && resolve(p)),
    );
    s3.close();
    await offline;
  });

  it("moves clients of a killed instance to another one, where they catch up", async () => {
    const a = await register(lb);
    const b = await register(lb);
    const sender = await client("n1", a.token, ["websocket"]);
    const victim = await client("n3", b.token, ["polling"], true);
    const { room } = await call<{ room: Room }>(sender, "room:create", { name: "failover", memberIds: [b.user.id] });
    const first = await call<{ message: Message }>(sender, "message:send", { roomId: room.id, body: "before" });

    const reconnected = new Promise<void>((resolve) => victim.io.once("reconnect", () => resolve()));
    await instances[2]!.stop(true); // kill -9 n3
    const during = await call<{ message: Message }>(sender, "message:send", { roomId: room.id, body: "during" });
    await reconnected;
    // nginx sent it elsewhere; history has what it missed, live delivery works again.
    const h = await call<{ messages: Message[] }>(victim, "message:history", { roomId: room.id });
    expect(h.messages.map((m) => m.id)).toEqual([first.message.id, during.message.id]);
    const live = new Promise<Message>((resolve) => victim.once("message:new", resolve));
    const after = await call<{ message: Message }>(sender, "message:send", { roomId: room.id, body: "after" });
    expect((await live).id).toBe(after.message.id);
    instances[2] = await instances[2]!.restart();
  });

  it("loses and duplicates nothing through a rolling restart of every instance", async () => {
    const users = await Promise.all(["n1", "n2", "n3"].map(async (id) => ({ id, ...(await register(lb)) })));
    const sockets = await Promise.all(
      users.map((u, i) => client(u.id, u.token, i === 1 ? ["polling"] : ["websocket"], true)),
    );
    const { room } = await call<{ room: Room }>(sockets[0]!, "room:create", {
      name: "rolling",
      memberIds: users.slice(1).map((u) => u.user.id),
    });
    // Each client's view, merged by id as the web UI does.
    const views = sockets.map((s) => {
      const view = new Map<string, string>();
      s.on("message:new", (m: Message) => view.set(m.id, m.body));
      return view;
    });

    /** Sends as a client would: wait while disconnected, resend with the same clientMsgId until acknowledged. */
    async function reliableSend(s: Socket, body: string): Promise<Message> {
      for (;;) {
        if (!s.connected) await new Promise((r) => s.io.once("reconnect", r));
        try {
          const res = await s.timeout(3000).emitWithAck("message:send", { roomId: room.id, body, clientMsgId: body });
          if (res.ok) return res.message;
        } catch {
          // no answer: the instance went away; resend after reconnecting
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    let reconnects = 0;
    for (const s of sockets) s.io.on("reconnect", () => reconnects++);
    let sending = true;
    const acked: Message[] = [];
    const senders = sockets.map(async (s, i) => {
      for (let n = 0; sending; n++) {
        acked.push(await reliableSend(s, `u${i}-${n}`));
        await new Promise((r) => setTimeout(r, 40));
      }
    });
    for (let i = 0; i < instances.length; i++) {
      await instances[i]!.stop(); // graceful, as a deploy does
      instances[i] = await instances[i]!.restart();
      await new Promise((r) => setTimeout(r, 1500));
    }
    sending = false;
    await Promise.all(senders);

    // After reconnecting, each client catches up from history.
    for (const [i, s] of sockets.entries()) {
      if (!s.connected) await new Promise((r) => s.io.once("reconnect", r));
      for (let before: string | undefined; ; ) {
        const page = await call<{ messages: Message[]; hasMore: boolean }>(s, "message:history", {
          roomId: room.id,
          limit: 100,
          ...(before ? { before } : {}),
        });
        for (const m of page.messages) views[i]!.set(m.id, m.body);
        if (!page.hasMore) break;
        before = page.messages[0]!.id;
      }
    }
    // Every instance went down once: each client was cut off and came back.
    expect(reconnects).toBeGreaterThanOrEqual(sockets.length);
    const expected = acked.map((m) => m.body).sort();
    expect(new Set(expected).size).toBe(expected.length); // each acknowledged once, stored once
    for (const view of views) expect([...view.values()].sort()).toEqual(expected);
  });
});
