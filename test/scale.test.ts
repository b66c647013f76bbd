/**
 * Several instances as real processes, sharing PostgreSQL and a Redis this
 * test owns: chat, presence and the gateway across instances, `kill -9` of
 * an instance mid-conversation, and a Redis restart.
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, collect, connect, register, type ChatSocket } from "./support/clients";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { startServerProcess, type ServerProcess } from "./support/process";
import { redisAvailable } from "./support/redis";
import { RedisServer } from "./support/redis-server";

const KEY = "scale-test-api-key-0123456789";
const ready = (await postgresAvailable()) && (await redisAvailable());

describe.runIf(ready)("several instances with Redis", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let dropDb: () => Promise<void>;
  let env: Record<string, string>;
  const instances: ServerProcess[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    redis = await RedisServer.start();
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      SWITCHBOARD_WEB_UI: "false",
      SWITCHBOARD_API_KEYS: KEY,
      SWITCHBOARD_CLUSTER_TIMEOUT_MS: "5000",
      // Every instance must sign and check tokens with the same secret.
      SWITCHBOARD_SECRET: "scale-test-secret-0123456789abcdef0123456789",
    };
    // One at a time: the first applies the migrations.
    for (const name of ["a", "b", "c"]) {
      instances.push(await startServerProcess({ ...env, SWITCHBOARD_INSTANCE_ID: `inst-${name}` }));
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const i of instances) await i.destroy().catch(() => {});
    await redis?.stop();
    await dropDb?.();
  });

  const url = (i: number) => instances[i]!.url;
  const v1 = (i: number, method: string, route: string, body?: unknown) =>
    api(url(i), method, `/api/v1${route}`, body, { authorization: `Bearer ${KEY}` });

  async function chatUser(instance: number, transports: ("websocket" | "polling")[] = ["websocket"]) {
    const account = await register(url(instance));
    const socket = await connect(url(instance), account.token, { transports });
    sockets.push(socket as unknown as Socket);
    return { ...account, socket };
  }

  function next<T>(socket: ChatSocket | Socket, event: string, filter: (arg: T) => boolean = () => true, ms = 8000) {
    return new Promise<T>((resolve, reject) => {
      const s = socket as unknown as Socket;
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event} (${ms} ms)`)), ms);
      const listener = (arg: T) => {
        if (!filter(arg)) return;
        clearTimeout(timer);
        s.off(event, listener);
        resolve(arg);
      };
      s.on(event, listener);
    });
  }

  it("carries rooms, messages, typing, DMs and presence across instances (WebSocket and polling)", async () => {
    const alice = await chatUser(0);
    const bob = await chatUser(1, ["polling"]);
    const carol = await chatUser(2);

    const bobJoined = next<Room>(bob.socket, "room:joined");
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", {
      name: "across",
      memberIds: [bob.user.id, carol.user.id],
    });
    expect(await bobJoined).toEqual(room);

    const atBob = next<Message>(bob.socket, "message:new");
    const atCarol = next<Message>(carol.socket, "message:new");
    const { message } = await call<{ message: Message }>(alice.socket, "message:send", { roomId: room.id, body: "hello cluster" });
    expect(await atBob).toEqual(message);
    expect(await atCarol).toEqual(message);

    const typing = next(alice.socket, "typing");
    bob.socket.emit("typing", { roomId: room.id, typing: true });
    expect(await typing).toEqual({ roomId: room.id, userId: bob.user.id, typing: true });

    const dmAtCarol = next<Room>(carol.socket, "room:joined");
    const dm = await call<{ room: Room }>(alice.socket, "dm:open", { userId: carol.user.id });
    expect(await dmAtCarol).toEqual(dm.room);
    const again = await call<{ room: Room }>(carol.socket, "dm:open", { userId: alice.user.id });
    expect(again.room.id).toBe(dm.room.id);

    // Presence counts tabs on every instance: bob's second tab on C keeps him online.
    const bobTab2 = await connect(url(2), bob.token);
    sockets.push(bobTab2 as unknown as Socket);
    // A round trip: the instance has registered the new tab before the old one closes.
    await call(bobTab2, "room:list", {});
    const events = collect(alice.socket, "presence");
    bob.socket.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(events.filter((p) => p.userId === bob.user.id)).toEqual([]);
    const offline = next(alice.socket, "presence", (p: { userId: string; online: boolean }) => p.userId === bob.user.id && !p.online);
    bobTab2.close();
    await offline;
    const { members } = await call<{ members: { user: { id: string }; online: boolean }[] }>(carol.socket, "room:members", { roomId: room.id });
    expect(members.find((m) => m.user.id === bob.user.id)?.online).toBe(false);
    expect(members.find((m) => m.user.id === alice.user.id)?.online).toBe(true);
  });

  it("answers every gateway operation the same on whichever instance is asked", async () => {
    const pushOn = async (i: number) => {
      const s = io(`${url(i)}/push`, { transports: ["websocket"], reconnection: false, forceNew: true });
      sockets.push(s);
      const hello = await new Promise<{ clientId: string }>((r) => s.once("client:hello", r));
      return { s, id: hello.clientId };
    };
    const p1 = await pushOn(1);
    const p2 = await pushOn(2);

    for (const i of [0, 1, 2]) {
      const ids = (await v1(i, "GET", "/clients?namespace=/push")).body.clients.map((c: { id: string }) => c.id);
      expect(ids, `instance ${i}`).toEqual(expect.arrayContaining([p1.id, p2.id]));
      expect((await v1(i, "GET", `/clients/${p2.id}?namespace=/push`)).body).toEqual({ online: true });
    }
    // Send from A to a client on C; bind on B a client of B, then query and send by user from C.
    const got = next(p2.s, "ping");
    expect((await v1(0, "POST", `/clients/${p2.id}/send?namespace=/push`, { event: "ping", data: 1 })).status).toBe(200);
    expect(await got).toBe(1);
    expect((await v1(0, "PUT", `/clients/${p1.id}/user?namespace=/push`, { userId: "u-scale" })).status).toBe(204);
    expect((await v1(2, "GET", `/clients/${p1.id}/user?namespace=/push`)).body).toEqual({ userId: "u-scale" });
    expect((await v1(2, "GET", "/users/u-scale?namespace=/push")).body).toEqual({ online: true });
    const toUser = next(p1.s, "for-user");
    await v1(2, "POST", "/users/u-scale/send?namespace=/push", { event: "for-user", data: "x" });
    expect(await toUser).toBe("x");
    // Groups spanning instances, managed from a third.
    await v1(0, "PUT", `/groups/g1/clients/${p1.id}?namespace=/push`);
    await v1(0, "PUT", `/groups/g1/clients/${p2.id}?namespace=/push`);
    expect((await v1(1, "GET", "/groups/g1/clients/count?namespace=/push")).body).toEqual({ count: 2 });
    const both = [next(p1.s, "g"), next(p2.s, "g")];
    await v1(2, "POST", "/groups/g1/send?namespace=/push", { event: "g", data: 2 });
    expect(await Promise.all(both)).toEqual([2, 2]);
    await v1(1, "DELETE", "/groups/g1?namespace=/push");
    expect((await v1(0, "GET", "/groups/g1/clients/count?namespace=/push")).body).toEqual({ count: 0 });
    // Close a client on B from C.
    const closed = new Promise((r) => p1.s.once("disconnect", r));
    expect((await v1(2, "POST", `/clients/${p1.id}/close?namespace=/push`)).status).toBe(204);
    await closed;
  });

  it("loses and duplicates nothing when an instance is killed mid-conversation, and leaves no ghost", async () => {
    const alice = await chatUser(0);
    const bob = await chatUser(1); // on the instance that will die
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "failover", memberIds: [bob.user.id] });

    // Bob's client: what it has seen, merged by id as the web UI does.
    const seen = new Map<string, Message>();
    bob.socket.on("message:new", (m) => void seen.set(m.id, m));
    const acked: Message[] = [];
    const sendAs = async (who: ChatSocket, body: string, clientMsgId: string) =>
      (await call<{ message: Message }>(who, "message:send", { roomId: room.id, body, clientMsgId })).message;

    for (let i = 0; i < 10; i++) acked.push(await sendAs(alice.socket, `a${i}`, `a${i}`));
    // Bob sends too; the last ones are in flight when his instance dies.
    const bobPending = Array.from({ length: 5 }, (_, i) => `b${i}`);
    const bobAcks = bobPending.map((id) => call<{ message: Message }>(bob.socket, "message:send", { roomId: room.id, body: id, clientMsgId: id }).catch(() => null));
    await instances[1]!.stop(true); // kill -9
    for (let i = 10; i < 20; i++) acked.push(await sendAs(alice.socket, `a${i}`, `a${i}`));

    // Bob's client reconnects elsewhere (as the load balancer would send it), resends what
    // was not acknowledged with the same clientMsgId, and catches up from history.
    const bobAgain = await connect(url(2), bob.token);
    sockets.push(bobAgain as unknown as Socket);
    for (const [i, ack] of (await Promise.all(bobAcks)).entries()) {
      acked.push(ack ? ack.message : await sendAs(bobAgain, bobPending[i]!, bobPending[i]!));
    }
    const history = await call<{ messages: Message[] }>(bobAgain, "message:history", { roomId: room.id, limit: 100 });
    for (const m of history.messages) seen.set(m.id, m);

    const bodies = [...seen.values()].map((m) => m.body).sort();
    expect(bodies).toEqual([...acked.map((m) => m.body)].sort());
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(history.messages.map((m) => m.clientMsgId).filter((c) => c?.startsWith("b")).sort()).toEqual(bobPending);

    // No ghost: bob's first connection died with its instance, yet once that instance is
    // reaped he is offline for presence too, and alice is told.
    const offline = next(alice.socket, "presence", (p: { userId: string; online: boolean }) => p.userId === bob.user.id && !p.online, 30_000);
    bobAgain.close();
    expect((await v1(0, "GET", `/users/${bob.user.id}`)).body).toEqual({ online: false });
    await offline;
    await vi.waitFor(async () => {
      const { members } = await call<{ members: { user: { id: string }; online: boolean }[] }>(alice.socket, "room:members", { roomId: room.id });
      expect(members.find((m) => m.user.id === bob.user.id)?.online).toBe(false);
    }, { timeout: 30_000, interval: 500 });
    // The killed instance comes back and rejoins the cluster.
    instances[1] = await instances[1]!.restart();
  });

  it("answers a cluster-wide query with 'unavailable' when an instance does not answer, instead of hanging", async () => {
    instances[2]!.signal("SIGSTOP"); // frozen: connected to Redis, answering nothing
    try {
      // An answer at all (not a hang) is the point: the adapter gave up after SWITCHBOARD_CLUSTER_TIMEOUT_MS.
      const res = await v1(0, "GET", "/clients?namespace=/push");
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("unavailable");
    } finally {
      instances[2]!.signal("SIGCONT");
    }
    await vi.waitFor(async () => expect((await v1(0, "GET", "/clients?namespace=/push")).status).toBe(200), { timeout: 10_000 });
  });

  it("tells the other instances who went offline when an instance stops gracefully, and exits cleanly", async () => {
    const alice = await chatUser(0);
    const bob = await chatUser(2); // on the instance that stops
    const bobJoined = next<Room>(bob.socket, "room:joined");
    await call(alice.socket, "room:create", { name: "rolling", memberIds: [bob.user.id] });
    await bobJoined;

    // SIGTERM, as a rolling restart sends it: the instance disconnects bob and must
    // announce him offline through Redis before it closes its connection to it.
    const offline = next(alice.socket, "presence", (p: { userId: string; online: boolean }) => p.userId === bob.user.id && !p.online);
    expect(await instances[2]!.stop()).toBe(0);
    await offline;
    instances[2] = await instances[2]!.restart();
  });

  it("stops gracefully while Redis is away, without waiting for it", async () => {
    await chatUser(1); // a user whose "offline" cannot reach Redis when the instance stops
    await redis.stop();
    try {
      await vi.waitFor(async () => expect((await api(url(1), "GET", "/readyz")).body.status).toBe("degraded"), { timeout: 10_000 });
      // 0, not the 1 of the forced exit after 10 s.
      expect(await instances[1]!.stop()).toBe(0);
    } finally {
      await redis.restart();
    }
    instances[1] = await instances[1]!.restart();
  });

  it("keeps serving local clients through a Redis restart, reports degraded, and recovers by itself", async () => {
    const alice = await chatUser(0);
    const dave = await chatUser(0);
    const carol = await chatUser(2);
    const { room } = await call<{ room: Room }>(alice.socket, "room:create", { name: "outage", memberIds: [dave.user.id, carol.user.id] });
    expect((await api(url(0), "GET", "/readyz")).body).toMatchObject({ status: "ok", checks: { redis: "ok" } });

    await redis.stop();
    try {
      await vi.waitFor(async () => expect((await api(url(0), "GET", "/readyz")).body.status).toBe("degraded"), { timeout: 10_000 });
      // Same-instance delivery and storage go on.
      const atDave = next<Message>(dave.socket, "message:new");
      const { message } = await call<{ message: Message }>(alice.socket, "message:send", { roomId: room.id, body: "during the outage" });
      expect((await atDave).id).toBe(message.id);
    } finally {
      await redis.restart(); // also when the above failed: the other tests' instances need it
    }
    await vi.waitFor(async () => expect((await api(url(0), "GET", "/readyz")).body.status).toBe("ok"), { timeout: 15_000 });
    // Cross-instance delivery resumes without restarting anything.
    await vi.waitFor(
      async () => {
        const atCarol = next<Message>(carol.socket, "message:new", () => true, 1500);
        await call(alice.socket, "message:send", { roomId: room.id, body: "after the outage" });
        expect((await atCarol).body).toBe("after the outage");
      },
      { timeout: 20_000, interval: 500 },
    );
    // No instance died of the outage (a command in flight when Redis went away must not crash one).
    for (const i of instances.keys()) expect((await api(url(i), "GET", "/healthz")).status).toBe(200);
  });
});
