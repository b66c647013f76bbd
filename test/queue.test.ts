/** The queue inlet against a real Redis: exactly once across instances, restarts, poison commands. */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import { QUEUE_GROUP } from "../server/inlet/queue";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { REDIS_URL, redisAvailable, redisClient } from "./support/redis";
import { startTestServer, type TestServer } from "./support/server";

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
    const room = await a.core.gateway.createRoom({ name: "queued", visibility: "public", memberIds: [] });

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
    const room = await server.core.gateway.createRoom({ name: "poison", visibility: "public", memberIds: [] });
    const redis = await redisClient();
    cleanups.push(async () => redis.destroy());

    const poison: Array<Record<string, string>> = [
      { command: "{not json" },
      { command: JSON.stringify({ op: "explode" }) },
      { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: "" }) }, // empty message
      { command: JSON.stringify({ op: "postMessage", roomId: "no-such-room", body: "x" }) },
      { command: JSON.stringify({ op: "publish", event: "x" }) }, // no target
      { something: "else" },
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
    ]);
    expect(dead[0]!.message.command).toBe("{not json");
    expect(dead[1]!.message.error).toContain("explode");
    expect((await redis.xPending(key, QUEUE_GROUP)).pending).toBe(0);
    expect(server.inlet!.stats).toEqual({ executed: 1, deadLettered: poison.length });
  });
});
