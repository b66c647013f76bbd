/**
 * idle connections: 10,000 authenticated connections held open on one
 * instance (500 users × 20 tabs by default, each user in one group room of
 * 20). Measures the connect rate, heap (after a full GC, via the launcher's
 * IPC) and RSS per connection, CPU while idle (heartbeats only), and whether
 * memory goes back after they close.
 */
import { Histogram } from "../lib/histogram";
import { Tracker } from "../lib/load";
import { memory } from "../lib/proc";
import { monotonicMicros } from "../lib/profile";
import { closeAll, connectAll, fmt, mb, ms, ratio, type Scenario } from "../lib/scenario";
import { now, pool, type SioClient } from "../lib/sio";
import { cpuWindow } from "../lib/targets";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffCensus, heapCensus } from "../lib/heap";
import type { HeapStats } from "../lib/ipc";

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

export const idle: Scenario = {
  name: "idle",
  description: "10,000 authenticated idle connections on one instance: heap and RSS per connection, connect rate",
  multiInstance: false,
  options: {
    connections: { default: 10_000, help: "connections to open and hold" },
    users: { default: 500, help: "distinct accounts; connections are spread over them (tabs)" },
    "room-size": { default: 20, help: "users per group room (every user is in one)" },
    concurrency: { default: 100, help: "connection handshakes in flight" },
    hold: { default: 30, help: "seconds to hold the connections idle (Socket.IO pings every 25 s)" },
    "heap-snapshot": { default: 0, help: "1: also diff V8 heap snapshots before/after connecting (slow; per-connection bill by constructor)" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    const relay = target.spec.kind === "relay";
    const n = opt.connections!;
    const { users, seconds: regSeconds } = await target.createUsers(opt.users!);
    if (regSeconds > 0) log(`  set-up: registered ${users.length} users in ${regSeconds.toFixed(1)} s`);

    // Rooms exist before the measured connections, so each connect subscribes to one.
    const roomOfUser: string[] = [];
    if (!relay) {
      const setup = await connectAll(target, users);
      for (let i = 0; i < setup.length; i += opt["room-size"]!) {
        const group = setup.slice(i, i + opt["room-size"]!);
        const id = await target.createGroup(group[0]!, group.slice(1), `idle-${i}`);
        for (const m of group) roomOfUser[m.user.index] = id;
      }
      closeAll(setup.map((m) => m.client));
      await new Promise((r) => setTimeout(r, 2000));
    }

    await ctx.waitQuiet();
    const before = await target.server.stats(true);
    const { rss: rssBefore, peakRss: peakBefore } = memory(target.server.pid);
    const snapDir = opt["heap-snapshot"] ? mkdtempSync(path.join(tmpdir(), "switchboard-heap-")) : null;
    const snapBefore = snapDir ? await target.server.heapSnapshot(path.join(snapDir, "before.heapsnapshot")) : null;

    // Connect.
    const tracker = new Tracker();
    const connectLatency = new Histogram();
    const clients: SioClient[] = [];
    let failures = 0;
    let firstFailure = "";
    const cpu = cpuWindow(target);
    const w0 = monotonicMicros();
    const t0 = now();
    await pool(
      Array.from({ length: n }, (_, i) => i),
      opt.concurrency!,
      async (i) => {
        const user = users[i % users.length]!;
        const started = now();
        try {
          const client = await target.connect(user);
          connectLatency.record(now() - started);
          tracker.attach(client);
          clients.push(client);
        } catch (err) {
          failures += 1;
          firstFailure ||= String(err);
        }
      },
    );
    const connectSeconds = (now() - t0) / 1000;
    const connectCpu = cpu.read();
    ctx.measured({ start: w0, end: monotonicMicros() });
    const lat = connectLatency.summary();
    log(
      `  connect: ${fmt(clients.length)} connections in ${connectSeconds.toFixed(1)} s = ${fmt(clients.length / connectSeconds)}/s ` +
        `(${opt.concurrency} in flight; handshake p50/p99/max ${ms(lat.p50)}/${ms(lat.p99)}/${ms(lat.max)} ms; ` +
        `server CPU ${fmt(connectCpu.server)}%, generator ${fmt(connectCpu.generator)}%, postgres ${fmt(connectCpu.postgres)}%` +
        `${failures ? `; ${failures} FAILED, first: ${firstFailure}` : ""})`,
    );
    if (relay) {
      // The relay's equivalent of Switchboard's subscriptions: a user room and a group room per connection.
      await pool(clients, 200, async (c, i) => {
        const u = i % users.length;
        await c.request("join", { room: `user:${u}` });
        await c.request("join", { room: `group:${Math.floor(u / opt["room-size"]!)}` });
      });
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = await target.server.stats(true);
    const rssAfter = memory(target.server.pid).rss;
    if (snapDir && snapBefore) {
      const snapAfter = await target.server.heapSnapshot(path.join(snapDir, "after.heapsnapshot"));
      const lines = diffCensus(heapCensus(snapBefore), heapCensus(snapAfter), clients.length);
      for (const l of lines) log(`  ${l}`);
      rmSync(snapDir, { recursive: true, force: true });
    }

    // Hold idle.
    const idleCpu = cpuWindow(target);
    const w1 = monotonicMicros();
    await new Promise((r) => setTimeout(r, opt.hold! * 1000));
    const held = idleCpu.read();
    ctx.measured({ start: w1, end: monotonicMicros() });
    const afterHold = await target.server.stats(true);
    const mem = memory(target.server.pid);
    const open = clients.filter((c) => c.isOpen).length;

    closeAll(clients);
    await new Promise((r) => setTimeout(r, 3000));
    const closed = await target.server.stats(true);

    const per = (a: HeapStats, b: HeapStats, key: keyof HeapStats) => ((a[key] as number) - (b[key] as number)) / clients.length;
    const heapPer = per(after, before, "heapUsed");
    const rssPer = (rssAfter - rssBefore) / clients.length;
    log(
      `  memory with ${fmt(clients.length)} connections (after a full GC): heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} ` +
        `= ${kb(heapPer)} per connection (external+arrayBuffers ${kb(per(after, before, "external"))}); ` +
        `RSS ${mb(rssBefore)} → ${mb(rssAfter)} = ${kb(rssPer)} per connection`,
    );
    log(
      `  held ${opt.hold} s: ${fmt(open)} of ${fmt(clients.length)} still open (server counts ${fmt(afterHold.connections)}), ` +
        `${tracker.disconnects} dropped; server CPU ${fmt(held.server, 1)}% idle; heap ${mb(afterHold.heapUsed)}, RSS ${mb(mem.rss)} ` +
        `(peak ${mb(mem.peakRss)}; peak before connecting ${mb(peakBefore)})`,
    );
    log(`  after closing all: heap ${mb(closed.heapUsed)} (${mb(closed.heapUsed - before.heapUsed)} above the start), ${fmt(closed.connections)} connections left`);
    return {
      label: target.label,
      headline: {
        connections: clients.length,
        failures,
        connectRate: clients.length / connectSeconds,
        heapPerConnection: heapPer,
        rssPerConnection: rssPer,
        rss: mem.rss,
        peakRss: mem.peakRss,
        dropped: tracker.disconnects,
        idleCpu: held.server,
      },
    };
  },

  compare(relay, sb) {
    const h = sb.headline;
    const r = relay?.headline;
    const out = [
      `${sb.label}: heap ${kb(h.heapPerConnection!)}/connection${r ? ` vs relay ${kb(r.heapPerConnection!)} (${ratio(h.heapPerConnection!, r.heapPerConnection!)})` : ""}; ` +
        `target ≤ 10 KB: ${h.heapPerConnection! <= 10 * 1024 ? "MET" : "NOT MET"}`,
      `${sb.label}: ${fmt(h.connections!)} connections held at RSS ${mb(h.rss!)} (peak ${mb(h.peakRss!)})${r ? ` vs relay ${mb(r.rss!)}` : ""}; ` +
        `target 10,000 held under 400 MB: ${h.connections! >= 10_000 && h.failures === 0 && h.dropped === 0 && h.rss! < 400 * 2 ** 20 ? "MET" : "NOT MET"}` +
        (h.peakRss! >= 400 * 2 ** 20 ? " (but the peak was above)" : ""),
      `${sb.label}: connect rate ${fmt(h.connectRate!)}/s${r ? ` vs relay ${fmt(r.connectRate!)}/s (${ratio(h.connectRate!, r.connectRate!)})` : ""}`,
    ];
    return out;
  },
};
