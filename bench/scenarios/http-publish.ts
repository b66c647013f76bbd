/**
 * HTTP publish: requests/s of `POST /api/v1/publish` to single users over
 * keep-alive connections (closed loop, `concurrency` requests in flight), and
 * the publish→receive latency at the user's connection. The relay's
 * equivalent is an HTTP handler calling `io.to("user:<id>").emit(…)`.
 */
import http from "node:http";
import { Histogram } from "../lib/histogram";
import { PADDING, Tracker } from "../lib/load";
import { memory } from "../lib/proc";
import { monotonicMicros } from "../lib/profile";
import { closeAll, connectAll, CPU_HEADER, cpuCells, fmt, mb, ms, quietly, ratio, table, type Scenario } from "../lib/scenario";
import { now, pool } from "../lib/sio";
import { cpuWindow } from "../lib/targets";

const EVENT = "bench:publish";

export const httpPublish: Scenario = {
  name: "http-publish",
  description: "requests/s of POST /api/v1/publish to single users with keep-alive, and publish→receive latency",
  multiInstance: false,
  options: {
    users: { default: 200, help: "connected users (one connection each) published to, round-robin" },
    concurrency: { default: 32, help: "HTTP requests in flight (keep-alive connections)" },
    duration: { default: 15, help: "seconds of measured load" },
    warmup: { default: 3, help: "seconds of warm-up load (not measured)" },
    drain: { default: 5, help: "seconds to wait for late deliveries" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    const { users, seconds: regSeconds } = await target.createUsers(opt.users!);
    if (regSeconds > 0) log(`  set-up: registered ${users.length} users in ${regSeconds.toFixed(1)} s`);
    const members = await connectAll(target, users);
    const tracker = new Tracker(EVENT);
    for (const m of members) tracker.attach(m.client);
    await pool(members, 50, (m) => target.subscribeUser(m));
    const url = new URL(target.server.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: opt.concurrency! });

    const run = async (seconds: number) => {
      const phase = tracker.newPhase();
      const latency = new Histogram();
      let ok = 0;
      let failed = 0;
      let firstFailure = "";
      let next = 0;
      const cpu = cpuWindow(target);
      const w0 = monotonicMicros();
      const start = now();
      const until = start + seconds * 1000;
      const worker = async () => {
        while (now() < until) {
          const user = users[next++ % users.length]!;
          const t = now();
          const req = target.publishRequest(user, EVENT, `~${t.toFixed(3)}~${phase}~${PADDING}`);
          const status = await new Promise<number>((resolve) => {
            const r = http.request(
              { host: url.hostname, port: url.port, path: req.path, method: "POST", headers: req.headers, agent },
              (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
              },
            );
            r.on("error", (err) => {
              firstFailure ||= String(err);
              resolve(0);
            });
            r.end(req.body);
          });
          latency.record(now() - t);
          if (status >= 200 && status < 300) {
            ok += 1;
            tracker.expect(phase, 1);
          } else {
            failed += 1;
            firstFailure ||= `HTTP ${status}`;
          }
        }
      };
      await Promise.all(Array.from({ length: opt.concurrency! }, worker));
      const elapsed = (now() - start) / 1000;
      const c = cpu.read();
      const rss = memory(target.server.pid).rss;
      const ps = tracker.stats(phase);
      const drainUntil = now() + opt.drain! * 1000;
      while (ps.received < ps.expected && now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
      return {
        rps: ok / elapsed,
        ok,
        failed,
        firstFailure,
        http: latency.summary(),
        delivery: ps.delivery.summary(),
        lost: ps.expected - ps.received,
        cpu: c,
        rss,
        window: { start: w0, end: monotonicMicros() },
      };
    };

    await run(opt.warmup!);
    await ctx.waitQuiet();
    const r = await quietly(ctx, "publish", () => run(opt.duration!), async () => {});
    ctx.measured(r.window);
    agent.destroy();
    closeAll(members.map((m) => m.client));

    log(`  ${opt.concurrency} requests in flight over keep-alive, ${opt.duration} s, to ${users.length} users round-robin (latency in ms):`);
    for (const l of table(
      ["requests/s", "HTTP p50", "p99", "max", "deliv p50", "p99", "max", "failed", "lost", ...CPU_HEADER, "srv RSS"],
      [
        [
          fmt(r.rps),
          ms(r.http.p50),
          ms(r.http.p99),
          ms(r.http.max),
          ms(r.delivery.p50),
          ms(r.delivery.p99),
          ms(r.delivery.max),
          fmt(r.failed),
          fmt(r.lost),
          ...cpuCells(r.cpu),
          mb(r.rss),
        ],
      ],
    ))
      log(`  ${l}`);
    if (r.failed) log(`  first failure: ${r.firstFailure}`);
    return {
      label: target.label,
      headline: { rps: r.rps, httpP99: r.http.p99, deliveryP99: r.delivery.p99, failed: r.failed, lost: r.lost, serverCpu: r.cpu.server },
    };
  },

  compare(relay, sb) {
    const h = sb.headline;
    return [
      `${sb.label}: ${fmt(h.rps!)} publish requests/s${relay ? ` vs relay ${fmt(relay.headline.rps!)}/s = ${ratio(h.rps!, relay.headline.rps!)}` : ""}; ` +
        `HTTP p99 ${ms(h.httpP99!)} ms, delivery p99 ${ms(h.deliveryP99!)} ms, ${fmt(h.failed!)} failed, ${fmt(h.lost!)} lost`,
    ];
  },
};
