/**
 * The queue inlet against a real Redis: once across instances (also while
 * commands are slow), restarts, poison commands, giving up after maxAttempts.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { QUEUE_GROUP } from "../server/inlet/queue";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { REDIS_URL, redisAvailable, redisClient } from "./support/redis";
import { startTestServer, type TestServer } from "./support/server";
import { TcpProxy } from "./support/tcp-proxy";

const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();

describe.runIf(redisUp)("queue inlet (Redis stream)", () => {
  const servers: TestServer[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    for (const c of cleanups) await c();
  });

  function stream(): string {
    const name = `switchboard-test:${randomBytes(4).toString("hex")}`;
    cleanups.push(async () => {
      const r = await redisClient();
      await r.del([name, `${name}:dead`]);
      r.destroy();
    });
    return name;
  }

  it.runIf(postgresUp)("runs each command exactly once across instances, and after every instance restarted", async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const key = stream();
    const env = { DATABASE_URL: db.url, REDIS_URL, SWITCHBOARD_QUEUE_STREAM: key };
    const [a, b] = [await startTestServer("postgres", env), await startTestServer("postgres", env)];
    servers.push(a, b);
    const { room } = await a.core.gateway.createRoom({ name: "queued", visibility: "public", memberIds: [] });

    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());
    const push = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await redis.xAdd(key, "*", { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: `q${i}` }) });
      }
    };
    const bodies = async () =>
      (await a.db.prisma.message.findMany({ where: { roomId: room.id }, select: { body: true } })).map((m) => m.body);

    await push(0, 200);
    await vi.waitFor(async () => expect((await bodies()).length).toBe(200), { timeout: 20_000, interval: 200 });
    expect(new Set(await bodies()).size).toBe(200);
    expect(a.inlet!.stats.executed + b.inlet!.stats.executed).toBe(200);

    // Every instance stops; commands keep arriving; a new instance runs them.
    await a.stop();
    await b.stop();
    await push(200, 220);
    const c = await startTestServer("postgres", env);
    servers.push(c);
    await vi.waitFor(async () => expect((await bodies()).length).toBe(220), { timeout: 20_000, interval: 200 });
    expect([...(await bodies())].sort()).toEqual(Array.from({ length: 220 }, (_, i) => `q${i}`).sort());
    const pending = await redis.xPending(key, QUEUE_GROUP);
    expect(pending.pending).toBe(0);
  });

  it("moves a malformed command aside with its error and keeps going", async () => {
    const key = stream();
    const server = await startTestServer("embedded", { REDIS_URL, SWITCHBOARD_QUEUE_STREAM: key });
    servers.push(server);
    const { room } = await server.core.gateway.createRoom({ name: "poison", visibility: "public", memberIds: [] });
    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());

    const poison: Array<Record<string, string>> = [
      { command: "{not json" },
      { command: JSON.stringify({ op: "explode" }) },
      { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: "" }) }, // empty message
      { command: JSON.stringify({ op: "postMessage", roomId: "no-such-room", body: "x" }) },
      { command: JSON.stringify({ op: "publish", event: "x" }) }, // no target
      { something: "else" },
      // An op nested past JSON.stringify's stack was dead-lettered as `internal` (found by test/fuzz.test.ts).
      { command: `{"op":${"[".repeat(10_000)}${"]".repeat(10_000)}}` },
    ];
    for (const fields of poison) await redis.xAdd(key, "*", fields);
    await redis.xAdd(key, "*", { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: "after the poison" }) });

    await vi.waitFor(
      async () => expect(await server.db.prisma.message.count({ where: { roomId: room.id } })).toBe(1),
      { timeout: 10_000, interval: 100 },
    );
    await vi.waitFor(async () => expect(await redis.xLen(`${key}:dead`)).toBe(poison.length), { timeout: 5000 });
    const dead = await redis.xRange(`${key}:dead`, "-", "+");
    expect(dead.map((d) => d.message.code)).toEqual([
      "invalid_payload",
      "invalid_payload",
      "invalid_payload",
      "not_found",
      "invalid_payload",
      "invalid_payload",
      "invalid_payload",
    ]);
    expect(dead[0]!.message.command).toBe("{not json");
    expect(dead[1]!.message.error).toContain("explode");
    expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(0);
    expect(server.inlet!.stats).toEqual({ executed: 1, deadLettered: poison.length, retried: 0 });
  });

  it.runIf(postgresUp)("runs each command once while its instance works through a slow batch", async () => {
    // Long enough that a busy machine's event-loop stalls cannot let a claim lapse by accident.
    const claimMs = 1500;
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const key = stream();
    const env = { DATABASE_URL: db.url, REDIS_URL, SWITCHBOARD_QUEUE_STREAM: key, SWITCHBOARD_QUEUE_CLAIM_MS: String(claimMs) };
    const [a, b] = [await startTestServer("postgres", env), await startTestServer("postgres", env)];
    servers.push(a, b);
    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());

    // Room creations wait for this lock: the commands are slow for real.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query('LOCK TABLE "Room" IN ACCESS EXCLUSIVE MODE');
    const names = Array.from({ length: 20 }, (_, i) => `slow-${i}`);
    // Appended in one transaction: one instance reads them all, the other is free to claim.
    const append = redis.multi();
    for (const name of names) {
      append.xAdd(key, "*", { command: JSON.stringify({ op: "createRoom", name, visibility: "public", memberIds: [] }) });
    }
    await append.exec();
    await vi.waitFor(async () => expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(names.length));
    // The scenario itself: the batch stays in hand for several claim intervals.
    await new Promise((r) => setTimeout(r, 3 * claimMs));
    const deliveries = (await redis.xPendingRange(key, QUEUE_GROUP, "-", "+", 100)).map((p) => p.deliveriesCounter);
    await locker.query("COMMIT");
    await locker.end();

    await vi.waitFor(async () => expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(0), { timeout: 10_000, interval: 100 });
    const rooms = await a.db.prisma.room.findMany({ where: { name: { startsWith: "slow-" } }, select: { name: true } });
    expect(rooms.map((r) => r.name).sort()).toEqual([...names].sort());
    expect(a.inlet!.stats.executed + b.inlet!.stats.executed).toBe(names.length);
    // Nobody claimed a command from the instance working on it.
    expect(deliveries).toEqual(names.map(() => 1));
  });

  it.runIf(postgresUp)("moves a command that keeps failing with unavailable aside after maxAttempts deliveries", async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const { proxy, proxied } = await TcpProxy.forUrl(db.url);
    cleanups.push(() => proxy.cut());
    const key = stream();
    const server = await startTestServer("postgres", {
      DATABASE_URL: proxied,
      REDIS_URL,
      SWITCHBOARD_QUEUE_STREAM: key,
      SWITCHBOARD_QUEUE_CLAIM_MS: "200",
      SWITCHBOARD_QUEUE_MAX_ATTEMPTS: "3",
    });
    servers.push(server);
    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());

    await proxy.cut(); // the database goes away
    const command = JSON.stringify({ op: "createRoom", name: "during the outage", visibility: "public", memberIds: [] });
    const id = await redis.xAdd(key, "*", { command });
    await vi.waitFor(async () => expect(await redis.xLen(`${key}:dead`)).toBe(1), { timeout: 15_000, interval: 100 });
    const [dead] = await redis.xRange(`${key}:dead`, "-", "+");
    expect(dead!.message).toEqual({ id, command, code: "unavailable", error: expect.stringContaining("after 3 attempts") });
    expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(0);
    expect(server.inlet!.stats).toEqual({ executed: 0, deadLettered: 1, retried: 2 });
    await proxy.start(); // back, for a clean stop
  });

  it("does not run again a command that was delivered maxAttempts times to instances that died", async () => {
    const key = stream();
    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());
    await redis.xGroupCreate(key, QUEUE_GROUP, "0", { MKSTREAM: true });
    const command = JSON.stringify({ op: "createRoom", name: "fatal", visibility: "public", memberIds: [] });
    const id = await redis.xAdd(key, "*", { command });
    // Three deliveries, none acknowledged: consumers that went away in the middle of it.
    await redis.xReadGroup(QUEUE_GROUP, "gone-1", { key, id: ">" });
    await redis.xClaim(key, QUEUE_GROUP, "gone-2", 0, id);
    await redis.xClaim(key, QUEUE_GROUP, "gone-3", 0, id);

    const server = await startTestServer("embedded", {
      REDIS_URL,
      SWITCHBOARD_QUEUE_STREAM: key,
      SWITCHBOARD_QUEUE_CLAIM_MS: "100",
      SWITCHBOARD_QUEUE_MAX_ATTEMPTS: "3",
    });
    servers.push(server);
    await vi.waitFor(async () => expect(await redis.xLen(`${key}:dead`)).toBe(1), { timeout: 10_000, interval: 100 });
    const [dead] = await redis.xRange(`${key}:dead`, "-", "+");
    expect(dead!.message).toEqual({ id, command, code: "internal", error: expect.stringContaining("after 3 attempts") });
    expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(0);
    expect(server.inlet!.stats).toEqual({ executed: 0, deadLettered: 1, retried: 0 });
    expect(await server.db.prisma.room.count({ where: { name: "fatal" } })).toBe(0);
  });
});
