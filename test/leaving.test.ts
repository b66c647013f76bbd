/**
 * Leaving stops delivery, even when the removal races a connection that is
 * still subscribing to its rooms, and when it happens during a Redis outage
 * (the leave, and a sign-out, never reach the other instance then).
 */
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, closeAll, collect, connect, next, register, type ChatSocket } from "./support/clients";
import { instancesAvailable, startInstances, type Instances } from "./support/instances";
import { backends, startTestServer, type TestServer } from "./support/server";

/** The persistent rooms a connection is subscribed to, seen from the server it is on. */
async function subscribedRooms(server: TestServer, socket: ChatSocket): Promise<string[]> {
  const [remote] = await server.io.in(socket.id!).fetchSockets();
  return [...(remote?.rooms ?? [])].filter((r) => r.startsWith("room:")).map((r) => r.slice("room:".length));
}

/**
 * Sends `body` to the room, then a marker to a room the watcher shares with
 * the sender: once the marker arrives, anything of the first would have too
 * (one sender's broadcasts keep their order).
 */
async function sendThenMark(sender: ChatSocket, roomId: string, body: string, markerRoomId: string, watcher: ChatSocket) {
  await call(sender, "message:send", { roomId, body });
  const marker = next(watcher, "message:new", (m) => m.body === `after ${body}`);
  await call(sender, "message:send", { roomId: markerRoomId, body: `after ${body}` });
  await marker;
}

describe.each(await backends())("a removal while a connection subscribes (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("is not undone by the connection joining the rooms it read before", async () => {
    const alice = await register(server.url);
    const bob = await register(server.url);
    const aliceSocket = await connect(server.url, alice.token);
    const { room: secret } = await call<{ room: Room }>(aliceSocket, "room:create", { name: "secret", visibility: "private", memberIds: [bob.user.id] });
    const { room: lobby } = await call<{ room: Room }>(aliceSocket, "room:create", { name: "lobby", memberIds: [bob.user.id] });

    // Hold Bob's connection between reading his rooms and joining them.
    const rooms = server.core.rooms;
    const read = rooms.idsOf.bind(rooms);
    let reading!: () => void;
    const readingNow = new Promise<void>((resolve) => (reading = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    rooms.idsOf = async (userId: string) => {
      const ids = await read(userId);
      if (userId === bob.user.id && !held) {
        held = true;
        reading();
        await released;
      }
      return ids;
    };
    try {
      const bobConnecting = connect(server.url, bob.token);
      await readingNow;
      await server.core.gateway.removeMember({ roomId: secret.id, userId: bob.user.id }); // lands while Bob's read is in flight
      release();
      const bobSocket = await bobConnecting;
      const received = collect(bobSocket, "message:new");
      await vi.waitFor(async () => expect(await subscribedRooms(server, bobSocket)).toEqual([lobby.id]), { timeout: 5000, interval: 50 });
      await sendThenMark(aliceSocket, secret.id, "not for bob", lobby.id, bobSocket);
      expect(received.map((m: Message) => m.body)).toEqual(["after not for bob"]);
    } finally {
      rooms.idsOf = read;
    }
  });
});

describe.runIf(await instancesAvailable())("a removal during a Redis outage", () => {
  let instances: Instances;
  beforeAll(async () => {
    instances = await startInstances();
  });
  afterAll(async () => {
    closeAll();
    await instances?.stop();
  });

  it("reaches the other instance's connections once Redis is back, and so does a sign-out", async () => {
    const [a, b] = instances.servers;
    const redis = instances.redis;
    const alice = await register(a.url);
    const bob = await register(a.url);
    const aliceSocket = await connect(a.url, alice.token);
    const bobSocket = await connect(b.url, bob.token); // on the other instance
    const bobLogin = await api(a.url, "POST", "/api/auth/login", { username: bob.user.username, password: "correct horse battery" });
    const bobSecondSession = await connect(b.url, bobLogin.body.token);
    const { room: secret } = await call<{ room: Room }>(aliceSocket, "room:create", { name: "secret", visibility: "private", memberIds: [bob.user.id] });
    const { room: lobby } = await call<{ room: Room }>(aliceSocket, "room:create", { name: "lobby", memberIds: [bob.user.id] });
    await vi.waitFor(async () => expect((await subscribedRooms(b, bobSocket)).sort()).toEqual([secret.id, lobby.id].sort()), { timeout: 5000 });

    // Listening from before the outage: the instances may reconnect and resync before restart() returns.
    const left = next(bobSocket, "room:left", ({ roomId }) => roomId === secret.id, 45_000);
    const ended = next(bobSecondSession, "session:ended", () => true, 45_000);
    // Awaited after the outage; a failure during it must not also surface as an unhandled rejection.
    left.catch(() => {});
    ended.catch(() => {});
    await redis.stop();
    try {
      await vi.waitFor(async () => expect((await api(a.url, "GET", "/readyz")).body.status).toBe("degraded"), { timeout: 10_000 });
      // New connections still get in meanwhile (their limits are counted on this instance alone).
      expect((await connect(a.url, alice.token)).connected).toBe(true);
      const push = io(`${a.url}/push`, { transports: ["websocket"], reconnection: false, forceNew: true });
      try {
        await new Promise<void>((resolve, reject) => {
          push.once("client:hello", () => resolve());
          push.once("connect_error", reject);
        });
      } finally {
        push.close();
      }
      await a.core.gateway.removeMember({ roomId: secret.id, userId: bob.user.id });
      const signedOut = await api(a.url, "POST", "/api/auth/logout", {}, { authorization: `Bearer ${bobLogin.body.token}` });
      expect(signedOut.status).toBe(204);
    } finally {
      await redis.restart();
    }
    expect(await left).toEqual({ roomId: secret.id });
    expect(await ended).toEqual({ reason: "signed_out" });
    expect(await subscribedRooms(b, bobSocket)).toEqual([lobby.id]);

    const received = collect(bobSocket, "message:new");
    await sendThenMark(aliceSocket, secret.id, "not for bob", lobby.id, bobSocket);
    expect(received.map((m: Message) => m.body)).toEqual(["after not for bob"]);
  }, 90_000);
});
