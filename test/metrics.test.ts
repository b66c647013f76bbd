/**
 * Prometheus metrics: who may read them, what they count after real
 * activity (sockets on both transports, refusals, errors, the HTTP API, the
 * queue inlet), and a real Prometheus (Debian's package) scraping two
 * instances and answering every query of deploy/grafana-dashboard.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Room } from "../shared/protocol";
import { api, call, closeAll, connect, register, request } from "./support/clients";
import { instancesAvailable, startInstances, type Instances } from "./support/instances";
import { startTestServer, testConfig, type TestServer } from "./support/server";

const root = path.resolve(import.meta.dirname, "..");
const TOKEN = "metrics-token-0123456789abcdef";
const KEY = "metrics-test-api-key-0123456789";

/** One sample of the exposition text: its value, or undefined when there is no such series. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Every value of a label among a metric's series. */
function labelValues(text: string, name: string, label: string): string[] {
  const values = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`).exec(line);
    if (m) values.add(m[1]!);
  }
  return [...values];
}

async function scrape(url: string, token?: string): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe("metrics", { timeout: 60_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", { SWITCHBOARD_METRICS_TOKEN: TOKEN, SWITCHBOARD_API_KEYS: KEY });
  });
  afterAll(async () => {
    closeAll();
    await server?.destroy();
  });

  it("are served on the main port only to the token's bearer; off, or on their own port, the main port has none", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789abcdef" }, { authorization: TOKEN }] as Record<string, string>[]) {
      const res = await api(server.url, "GET", "/metrics", undefined, headers);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
    expect(await scrape(`${server.url}/metrics`, TOKEN)).toContain("switchboard_info{");

    const off = await startTestServer("embedded");
    const own = await startTestServer("embedded", { SWITCHBOARD_METRICS_PORT: "0" });
    try {
      expect(off.metricsUrl).toBeNull();
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${own.url}/metrics`)).status).toBe(404);
      expect(own.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(await scrape(own.metricsUrl!)).toContain("process_cpu_seconds_total");
      expect((await fetch(own.metricsUrl!.replace("/metrics", "/other"))).status).toBe(404);
    } finally {
      await off.destroy();
      await own.destroy();
    }
  });

  it("refuses a short token or a metrics port that is the main port, at start-up", () => {
    expect(() => testConfig({ SWITCHBOARD_METRICS_TOKEN: "short" })).toThrow(/SWITCHBOARD_METRICS_TOKEN: must be at least 16 characters/);
    expect(() => testConfig({ PORT: "3000", SWITCHBOARD_METRICS_PORT: "3000" })).toThrow(/SWITCHBOARD_METRICS_PORT: must differ from PORT/);
    expect(() => testConfig({ SWITCHBOARD_METRICS_PORT: "70000" })).toThrow(/SWITCHBOARD_METRICS_PORT/);
  });

  it("count connections by transport, events by outcome, messages, broadcasts and API requests by route — never a client's own names", async () => {
    const ada = await register(server.url);
    const bob = await register(server.url);
    const a = await connect(server.url, ada.token, { transports: ["websocket"] });
    const b = await connect(server.url, bob.token, { transports: ["polling"] });
    await expect(connect(server.url, "not-a-token")).rejects.toThrow();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "metrics", visibility: "public", memberIds: [bob.user.id] });
    for (let i = 0; i < 3; i += 1) await call(a, "message:send", { roomId: room.id, body: `m${i}` });
    // Refused: a bad payload, a room that is not theirs, an event nobody defined (its name must not become a label).
    expect((await request(a, "message:send", { roomId: room.id })).ok).toBe(false);
    expect((await request(b, "message:send", { roomId: "no-such-room", body: "x" })).ok).toBe(false);
    const invented = `made-up-${"x".repeat(40)}`;
    expect((await request(a, invented, {})).ok).toBe(false);
    const posted = await api(server.url, "POST", `/api/v1/rooms/${room.id}/messages`, { body: "from a backend", bot: { id: "ci", name: "CI" } }, { authorization: `Bearer ${KEY}` });
    expect(posted.status).toBe(201);
    expect((await api(server.url, "GET", "/api/v1/rooms/no-such-room/messages", undefined, { authorization: `Bearer ${KEY}` })).status).toBe(404);
    expect((await api(server.url, "GET", `/api/v1/${invented}`, undefined, { authorization: `Bearer ${KEY}` })).status).toBe(404);

    const text = await scrape(`${server.url}/metrics`, TOKEN);
    expect(sample(text, "switchboard_connections", { namespace: "/", transport: "websocket" })).toBe(1);
    expect(sample(text, "switchboard_connections", { namespace: "/", transport: "polling" })).toBe(1);
    expect(sample(text, "switchboard_users_connected")).toBe(2);
    expect(sample(text, "switchboard_connects_total", { namespace: "/" })).toBe(2);
    expect(sample(text, "switchboard_connect_refusals_total", { namespace: "/", code: "unauthorized" })).toBe(1);
    expect(sample(text, "switchboard_client_events_total", { event: "message:send", outcome: "ok" })).toBe(3);
    expect(sample(text, "switchboard_client_events_total", { event: "message:send", outcome: "invalid_payload" })).toBe(1);
    expect(sample(text, "switchboard_client_events_total", { event: "message:send", outcome: "not_found" })).toBe(1);
    expect(sample(text, "switchboard_client_events_total", { event: "(unknown)", outcome: "unknown_event" })).toBe(1);
    expect(text).not.toContain(invented);
    expect(sample(text, "switchboard_client_event_duration_seconds_count", { event: "message:send" })).toBe(4);
    // Three sends and the backend's post, in one or more batches.
    expect(sample(text, "switchboard_messages_stored_total")).toBe(4);
    const batches = sample(text, "switchboard_message_write_batch_size_count")!;
    expect(batches).toBeGreaterThanOrEqual(1);
    // The send to a room Bob is not in was refused by the batch's statement itself.
    expect(sample(text, "switchboard_message_write_batch_size_sum")).toBe(5);
    expect(sample(text, "switchboard_message_write_duration_seconds_count")).toBe(batches);
    expect(sample(text, "switchboard_deliveries_total", { event: "message:new" })).toBe(4);
    expect(sample(text, "switchboard_http_requests_total", { route: "/api/v1/rooms/:roomId/messages", method: "POST", status: "201" })).toBe(1);
    expect(sample(text, "switchboard_http_requests_total", { route: "/api/v1/rooms/:roomId/messages", method: "GET", status: "404" })).toBe(1);
    // A path no route has is counted under the catch-all's pattern.
    expect(sample(text, "switchboard_http_requests_total", { route: "/api/*", method: "GET", status: "404" })).toBe(1);
    expect(sample(text, "switchboard_http_requests_total", { route: "/api/auth/register", method: "POST", status: "201" })).toBe(2);
    // Routes are patterns: no room id (nor any path a client chose) is a label.
    expect(labelValues(text, "switchboard_http_requests_total", "route").filter((r) => r.includes(room.id))).toEqual([]);
    // Node's own, and this instance's name.
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sample(text, "switchboard_info", { instance_id: server.config.instanceId })).toBe(1);
    // No Redis, no pool on the embedded database: those series are absent, not zero.
    expect(sample(text, "switchboard_redis_up")).toBeUndefined();
    expect(sample(text, "switchboard_db_pool_connections", { state: "total" })).toBeUndefined();

    b.close();
    await until(async () => sample(await scrape(`${server.url}/metrics`, TOKEN), "switchboard_disconnects_total", { namespace: "/", reason: "client namespace disconnect" }) === 1);
    const after = await scrape(`${server.url}/metrics`, TOKEN);
    expect(sample(after, "switchboard_connections", { namespace: "/", transport: "polling" })).toBeUndefined();
    expect(sample(after, "switchboard_users_connected")).toBe(1);
  });
});

/** Debian's Prometheus scraping two instances that share PostgreSQL and Redis. */
describe.runIf(await instancesAvailable())("Prometheus and the dashboard", { timeout: 120_000 }, () => {
  let instances: Instances;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let dir: string;

  beforeAll(async () => {
    instances = await startInstances({ SWITCHBOARD_METRICS_PORT: "0", SWITCHBOARD_API_KEYS: KEY });
    dir = mkdtempSync(path.join(tmpdir(), "switchboard-prometheus-"));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const targets = instances.servers.map((s) => new URL(s.metricsUrl!).host);
    // The shipped configuration, with these instances as targets and a 1 s interval.
    const config = readFileSync(path.join(root, "deploy/prometheus.yml"), "utf8")
      .replace(/scrape_interval: 15s/, "scrape_interval: 1s")
      .replace(/evaluation_interval: 15s/, "evaluation_interval: 1s")
      .replace(/( {10}- sb-\d\.internal:9300\n)+/, targets.map((t) => `          - ${t}\n`).join(""));
    expect(config).toContain(targets[0]);
    writeFileSync(path.join(dir, "prometheus.yml"), config);
    copyFileSync(path.join(root, "deploy/switchboard-alerts.yml"), path.join(dir, "switchboard-alerts.yml"));
    prometheus = spawn(
      "prometheus",
      [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    prometheus.stderr!.on("data", (c: Buffer) => void (log = (log + c.toString()).slice(-4000)));
    await until(async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => null))?.ok === true, 30_000, () => log);
  });

  afterAll(async () => {
    closeAll();
    prometheus?.kill("SIGTERM");
    await instances?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("scrapes both instances, loads the alert rules, and every query of the Grafana dashboard returns data", async () => {
    const [one, two] = instances.servers;
    // Activity of every kind the dashboard shows, on both instances.
    const ada = await register(one.url);
    const bob = await register(two.url);
    const a = await connect(one.url, ada.token);
    const b = await connect(two.url, bob.token, { transports: ["polling"] });
    await expect(connect(two.url, "not-a-token")).rejects.toThrow();
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "dash", visibility: "public", memberIds: [bob.user.id] });
    await call(b, "message:send", { roomId: room.id, body: "hello" });
    expect((await request(a, "message:send", { roomId: room.id })).ok).toBe(false);
    expect((await api(one.url, "GET", `/api/v1/rooms/${room.id}/messages`, undefined, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    const redis = createClient({ url: instances.redis.url });
    await redis.connect();
    await redis.xAdd(one.config.queue.stream, "*", { command: JSON.stringify({ op: "postMessage", roomId: room.id, body: "queued", bot: { id: "q", name: "Q" } }) });
    await redis.quit();
    b.close();

    const query = async (expr: string) => {
      const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
      expect(body.status, `${expr}: ${body.error}`).toBe("success");
      return body.data!.result;
    };
    await until(async () => (await query('up{job="switchboard"} == 1')).length === 2, 30_000);
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: unknown[] }[] } };
    expect(rules.data.groups[0]!.rules.length).toBeGreaterThanOrEqual(10);

    const dashboard = JSON.parse(readFileSync(path.join(root, "deploy/grafana-dashboard.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    // Grafana's variables, as Grafana fills them in: every instance, a rate window of several scrapes.
    const filled = exprs.map((e) => ({ ...e, expr: e.expr.replaceAll("$__rate_interval", "30s").replaceAll("$instance", ".*") }));
    const empty = async () => {
      const missing: string[] = [];
      for (const e of filled) if ((await query(e.expr)).length === 0) missing.push(`${e.panel}: ${e.expr}`);
      return missing;
    };
    let missing: string[] = [];
    await until(async () => (missing = await empty()).length === 0, 40_000, () => missing.join("\n"));
    // Both instances report, each under its own target.
    expect((await query("switchboard_info")).length).toBe(2);
  });
});

async function until(check: () => Promise<boolean>, ms = 10_000, explain: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms${explain() ? `:\n${explain()}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}
