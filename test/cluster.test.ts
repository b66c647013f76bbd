/**
 * Cluster mode on one machine: the real entry point with two workers behind
 * the primary's sticky routing (server/scale/sticky.ts), no Redis (cluster
 * adapter and presence through the primary), PostgreSQL shared.
 */
import { once } from "node:events";
import { Agent, get, request } from "node:http";
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message, Room } from "../shared/protocol";
import { api, call, closeAll, collect, connect, register, uniqueName, type ChatSocket } from "./support/clients";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { startServerProcess, type ServerProcess } from "./support/process";

const KEY = "cluster-test-api-key-0123456789";
const ready = await postgresAvailable();

describe.runIf(ready)("cluster mode (--workers 2)", { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    server = await startServerProcess({
      DATABASE_URL: db.url,
      SWITCHBOARD_WORKERS: "2",
      SWITCHBOARD_WEB_UI: "false",
      SWITCHBOARD_API_KEYS: KEY,
      // Low enough to reach below; per username, so the other tests' sign-ins are untouched.
      SWITCHBOARD_LOGIN_FAILURE_LIMIT: "3",
    });
  }, 120_000);
  afterAll(async () => {
    closeAll();
    await server?.destroy();
    await drop?.();
  });

  it("serves from several workers, sticky for long-polling, sharing rooms, presence and the gateway", async () => {
    // Two workers answer: new TCP connections take turns.
    const instanceOf = () =>
      new Promise<string>((resolve, reject) =>
        get(`${server.url}/healthz`, { agent: false }, (res) => {
          res.resume();
          resolve(String(res.headers["x-switchboard-instance"]));
        }).on("error", reject),
      );
    const seen = new Set<string>();
    for (let i = 0; i < 10 && seen.size < 2; i++) for (const id of await Promise.all([instanceOf(), instanceOf()])) seen.add(id);
    expect(seen.size).toBe(2);

    const users = await Promise.all([0, 1, 2, 3].map(() => register(server.url)));
    // Polling-only clients fail at once without stickiness ("Session ID unknown").
    const sockets: ChatSocket[] = [];
    for (const [i, u] of users.entries()) {
      sockets.push(await connect(server.url, u.token, { transports: i % 2 ? ["polling"] : ["websocket"] }));
    }
    const { room } = await call<{ room: Room }>(sockets[0]!, "room:create", {
      name: "cluster",
      memberIds: users.slice(1).map((u) => u.user.id),
    });
    const received = sockets.map((s) => new Promise<Message>((resolve) => s.on("message:new", (m) => m.body === "hi all" && resolve(m))));
    await call(sockets[3]!, "message:send", { roomId: room.id, body: "hi all" });
    expect(new Set((await Promise.all(received)).map((m) => m.id)).size).toBe(1);

    // The gateway sees every worker's clients.
    const clients = await api(server.url, "GET", "/api/v1/clients", undefined, { authorization: `Bearer ${KEY}` });
    expect(clients.body.clients.map((c: { userId: string }) => c.userId)).toEqual(expect.arrayContaining(users.map((u) => u.user.id)));

    // Presence is exact across workers: a second tab elsewhere keeps the user online.
    const events = collect(sockets[0]!, "presence");
    const secondTab = await connect(server.url, users[1]!.token, { transports: ["polling"] });
    await call(secondTab, "room:list", {});
    sockets[1]!.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(events.filter((p) => p.userId === users[1]!.user.id)).toEqual([]);
    const offline = new Promise((resolve) =>
      sockets[0]!.on("presence", (p) => p.userId === users[1]!.user.id && !p.online && resolve(p)),
    );
    secondTab.close();
    await offline;
  });

  it("counts a username's sign-in attempts in the primary, for every worker together", async () => {
    const { user } = await register(server.url);
    const body = JSON.stringify({ username: user.username, password: "wrong guess" });
    // Each on a connection of its own: new connections take turns over the workers.
    const attempt = () =>
      new Promise<{ status: number; instance: string }>((resolve, reject) => {
        const req = request(
          `${server.url}/api/auth/login`,
          { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode!, instance: String(res.headers["x-switchboard-instance"]) });
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await attempt());
    expect(new Set(answers.map((a) => a.instance)).size).toBe(2);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429]);
  });

  it("routes every long-polling request by its session, even when a client reuses a keep-alive connection", async () => {
    // Two keep-alive agents, one TCP connection each; new connections take turns,
    // so the two handshakes land on different workers.
    const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
    // A handshake (GET), or with a session id a POST of a pong packet ("3"), which
    // its worker answers at once with 200 "ok" (another worker: 400 "Session ID unknown").
    const poll = (agent: Agent, sid?: string) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const query = `EIO=4&transport=polling${sid ? `&sid=${sid}` : ""}`;
        request(`${server.url}/socket.io/?${query}`, { agent, method: sid ? "POST" : "GET" }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        })
          .on("error", reject)
          .end(sid ? "3" : undefined);
      });
    const sidOf = (body: string) => (JSON.parse(body.slice(body.indexOf("{"))) as { sid: string }).sid;
    try {
      const a = await poll(agents[0]!);
      const b = await poll(agents[1]!);
      // Each response's connection closes (polls, pages and the API alike), so the
      // next request opens a new one that the primary routes on its own.
      expect(a.connection).toBe("close");
      const health = await new Promise<string | undefined>((resolve, reject) =>
        get(`${server.url}/healthz`, { agent: agents[0] }, (res) => {
          res.resume();
          resolve(res.headers.connection);
        }).on("error", reject),
      );
      expect(health).toBe("close");
      // B's session polled through the agent whose last connection went to A's worker:
      // without the fix the reused connection reaches the wrong worker (400 "Session ID unknown").
      const crossed = await poll(agents[0]!, sidOf(b.body));
      expect(crossed.status).toBe(200);
      const crossedBack = await poll(agents[1]!, sidOf(a.body));
      expect(crossedBack.status).toBe(200);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it("sends new connections only to workers that are ready while a dead one is replaced", async () => {
    const instanceOf = () =>
      new Promise<string>((resolve, reject) => {
        const req = get(`${server.url}/healthz`, { agent: false, timeout: 5000 }, (res) => {
          res.resume();
          resolve(String(res.headers["x-switchboard-instance"]));
        });
        req.on("timeout", () => req.destroy(new Error("no answer in 5 s")));
        req.on("error", reject);
      });
    const instances = new Set<string>();
    for (let i = 0; i < 10 && instances.size < 2; i++) instances.add(await instanceOf());
    const victim = [...instances][0]!;
    // Instance ids are `<host>-<pid>-<random>`.
    process.kill(Number(victim.split("-").at(-2)), "SIGKILL");
    await new Promise((r) => setTimeout(r, 300)); // the primary sees the exit and forks a replacement
    // The replacement takes seconds to start; meanwhile every connection goes to the survivor.
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push(await instanceOf());
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toBe(victim);
  });

  it("upgrades a long-polling session to WebSocket on its own worker", async () => {
    const { token } = await register(server.url);
    const socket = await connect(server.url, token, { transports: ["polling", "websocket"] });
    const engine = socket.io.engine;
    if (engine.transport.name !== "websocket") await new Promise((resolve) => engine.once("upgrade", resolve));
    expect(engine.transport.name).toBe("websocket");
    await call(socket, "room:list", {});
  });

  it("passes a request body on intact when a character is split across TCP segments", async () => {
    const username = uniqueName();
    const displayName = "Zoë 😀 café";
    const body = Buffer.from(JSON.stringify({ username, password: "correct horse battery", displayName }));
    const cut = body.indexOf(Buffer.from("😀")) + 2; // in the middle of the emoji's four bytes
    const head = Buffer.from(
      "POST /api/auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    const socket = tcpConnect(Number(new URL(server.url).port), "127.0.0.1");
    socket.setNoDelay(true);
    // A body that arrives mangled may not match its Content-Length: fail rather than wait for ever.
    socket.setTimeout(15_000, () => socket.destroy());
    await once(socket, "connect");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    const closed = once(socket, "close");
    // The primary reads the first segment to route the connection: the split character is in it.
    socket.write(Buffer.concat([head, body.subarray(0, cut)]));
    await new Promise((r) => setTimeout(r, 100)); // the rest as a segment of its own
    socket.write(body.subarray(cut));
    await closed; // every response closes its connection in cluster mode
    const response = Buffer.concat(chunks).toString();
    expect(response.slice(0, response.indexOf("\r\n"))).toBe("HTTP/1.1 201 Created");
    expect(JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)).user.displayName).toBe(displayName);
    // As stored.
    const login = await api(server.url, "POST", "/api/auth/login", { username, password: "correct horse battery" });
    expect(login.body.user.displayName).toBe(displayName);
  });
});
