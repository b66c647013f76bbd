/**
 * chat mix: 2,000 connected users (distinct accounts), each in two group
 * rooms of 2–50 members and on average one DM; 10% of them send, to one of
 * their rooms (30% DMs). First ack and delivery latency at a fixed rate
 * (1,000 messages/s), then the rate steps up to find the highest sustained
 * rate: every message stored and delivered, ack p99 under 500 ms, the server
 * keeping up (stored/acked ≥ 95% of offered).
 */
import { rng, runPhase, Tracker, type PhaseResult, type Sender } from "../lib/load";
import {
  closeAll,
  connectAll,
  fmt,
  mb,
  ms,
  PHASE_HEADER,
  phaseRow,
  quietly,
  ramp,
  ratio,
  settle,
  table,
  type RampStep,
  type Scenario,
} from "../lib/scenario";
import { pool } from "../lib/sio";
import type { Member } from "../lib/targets";

interface RoomRef {
  id: string;
  members: number;
}

function describe(r: PhaseResult): string {
  return (
    `ack p50/p99/max ${ms(r.ack.p50)}/${ms(r.ack.p99)}/${ms(r.ack.max)} ms, ` +
    `delivery p50/p99/max ${ms(r.delivery.p50)}/${ms(r.delivery.p99)}/${ms(r.delivery.max)} ms, ` +
    `${fmt(r.deliveriesPerSec)} deliveries/s, ${fmt(r.storedPerSec)} stored/s, lost ${fmt(r.lost)}, ` +
    `server CPU ${fmt(r.cpu.server)}%, RSS ${mb(r.rss)}`
  );
}

export const chatMix: Scenario = {
  name: "chat-mix",
  description:
    "2,000 users in rooms of 2–50 and DMs, 10% sending: ack/delivery latency at 1,000 msg/s, then the highest sustained stored msg/s",
  multiInstance: true,
  options: {
    users: { default: 2000, help: "connected users (distinct accounts, one connection each)" },
    senders: { default: 0.1, help: "fraction of users sending" },
    "groups-per-user": { default: 2, help: "group rooms each user is in (rooms of min-size..max-size members)" },
    "min-size": { default: 2, help: "smallest group room" },
    "max-size": { default: 50, help: "largest group room" },
    dms: { default: 1000, help: "direct-message rooms between random pairs" },
    "dm-share": { default: 0.3, help: "share of messages sent to a DM (when the sender has one)" },
    rate: { default: 1000, help: "fixed rate for the latency phase (messages/s, all senders)" },
    duration: { default: 20, help: "seconds of the fixed-rate phase" },
    "ramp-start": { default: 1500, help: "first rate of the throughput ramp (0: skip the ramp)" },
    factor: { default: 1.5, help: "rate multiplier between ramp steps" },
    step: { default: 6, help: "seconds per ramp step" },
    refine: { default: 2, help: "bisection steps" },
    "max-steps": { default: 9, help: "at most this many ramp steps" },
    "sustain-p99": { default: 500, help: "ramp pass: ack p99 under this (ms)" },
    drain: { default: 5, help: "seconds to wait for late acks/deliveries after a phase" },
    warmup: { default: 3, help: "seconds of warm-up traffic at half the rate (not measured)" },
    seed: { default: 42, help: "seed for room membership and traffic" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    const random = rng(opt.seed!);
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const shuffle = <T>(a: T[]): T[] => {
      const b = [...a];
      for (let i = b.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [b[i], b[j]] = [b[j]!, b[i]!];
      }
      return b;
    };

    const n = opt.users!;
    const { users, seconds: regSeconds } = await target.createUsers(n);
    if (regSeconds > 0) log(`  set-up: registered ${n} users in ${regSeconds.toFixed(1)} s (${fmt(n / regSeconds)}/s)`);
    let t0 = performance.now();
    const members = await connectAll(target, users);
    const tracker = new Tracker();
    for (const m of members) tracker.attach(m.client);
    log(`  set-up: ${n} connections in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Rooms: `groups-per-user` partitions of the users into groups of min..max members.
    t0 = performance.now();
    const groupsOf: RoomRef[][] = members.map(() => []);
    const dmsOf: RoomRef[][] = members.map(() => []);
    const plans: Member[][] = [];
    for (let g = 0; g < opt["groups-per-user"]!; g++) {
      const order = shuffle(members);
      for (let i = 0; i < order.length; ) {
        let size = int(opt["min-size"]!, opt["max-size"]!);
        if (order.length - (i + size) < opt["min-size"]!) size = order.length - i; // fold a short tail in
        if (size > opt["max-size"]!) {
          size = Math.ceil((order.length - i) / 2);
        }
        plans.push(order.slice(i, i + size));
        i += size;
      }
    }
    let groupMembers = 0;
    await pool(plans, 8, async (plan, i) => {
      const id = await target.createGroup(plan[0]!, plan.slice(1), `mix-${i}`);
      const ref = { id, members: plan.length };
      groupMembers += plan.length;
      for (const m of plan) groupsOf[m.user.index % n]!.push(ref);
    });
    const pairs = new Set<string>();
    const dmPlans: Array<[Member, Member]> = [];
    while (dmPlans.length < Math.min(opt.dms!, (n * (n - 1)) / 2)) {
      const a = int(0, n - 1);
      const b = int(0, n - 1);
      const key = a < b ? `${a} ${b}` : `${b} ${a}`;
      if (a === b || pairs.has(key)) continue;
      pairs.add(key);
      dmPlans.push([members[a]!, members[b]!]);
    }
    await pool(dmPlans, 16, async ([a, b]) => {
      const ref = { id: await target.openDm(a, b), members: 2 };
      dmsOf[a.user.index % n]!.push(ref);
      dmsOf[b.user.index % n]!.push(ref);
    });
    log(
      `  set-up: ${plans.length} group rooms (${opt["min-size"]}–${opt["max-size"]} members, mean ${(groupMembers / plans.length).toFixed(1)}) ` +
        `and ${dmPlans.length} DMs in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    // Let room:joined and presence events settle.
    await new Promise((r) => setTimeout(r, 1000));

    const senderCount = Math.max(1, Math.round(n * opt.senders!));
    const senders = shuffle(members).slice(0, senderCount);
    const senderClients = senders.map((s) => s.client);
    let turn = 0;
    const pick = (): Sender => {
      const s = senders[turn++ % senders.length]!;
      const idx = s.user.index % n;
      const dms = dmsOf[idx]!;
      const groups = groupsOf[idx]!;
      const room = dms.length > 0 && random() < opt["dm-share"]! ? dms[int(0, dms.length - 1)]! : groups[int(0, groups.length - 1)]!;
      return { client: s.client, roomId: room.id, members: room.members };
    };
    const phase = (rate: number, seconds: number, label: string) =>
      runPhase({ target, tracker, rate, seconds, pick, drainMs: opt.drain! * 1000, label });

    await phase(opt.rate! / 2, opt.warmup!, "warm-up");
    await settle(senderClients, 30_000);
    await ctx.waitQuiet();

    // 1. Fixed rate: latency.
    const fixed = await quietly(
      ctx,
      "fixed rate",
      () => phase(opt.rate!, opt.duration!, "fixed"),
      () => settle(senderClients, 60_000),
    );
    ctx.measured(fixed.window);
    log(`  fixed rate ${fmt(opt.rate!)} msg/s for ${opt.duration} s from ${senderCount} senders (latency in ms, CPU in % of one core):`);
    for (const l of table(PHASE_HEADER, [phaseRow(fixed)])) log(`  ${l}`);
    if (fixed.ackErrors > 0) log(`  refused: ${fixed.ackErrors} (first: ${fixed.firstAckError})`);
    log(`  => at ${fmt(opt.rate!)} msg/s: ${describe(fixed)}`);
    await settle(senderClients, 60_000);

    // 2. Ramp: highest sustained rate.
    let best: PhaseResult | null = null;
    let lowestFail: number | null = null;
    if (opt["ramp-start"]! > 0) {
      await new Promise((r) => setTimeout(r, 1000));
      const rows: string[][] = [];
      const result = await ramp({
        start: opt["ramp-start"]!,
        factor: opt.factor!,
        refine: opt.refine!,
        maxSteps: opt["max-steps"]!,
        deadline: () => ctx.deadline,
        step: async (rate): Promise<RampStep | null> => {
          const r = await quietly(
            ctx,
            `${rate}/s`,
            () => phase(rate, opt.step!, `${rate}/s`),
            () => settle(senderClients, 60_000),
          );
          ctx.measured(r.window);
          const why: string[] = [];
          const done = target.spec.kind === "relay" ? r.acked : r.stored;
          if (r.lost !== 0) why.push(`${fmt(r.lost)} lost`);
          if (r.unacked > 0) why.push(`${fmt(r.unacked)} unacked`);
          if (r.ackErrors > 0) why.push(`${fmt(r.ackErrors)} refused`);
          if (r.disconnects > 0) why.push(`${r.disconnects} disconnects`);
          if (!(r.ack.p99 < opt["sustain-p99"]!)) why.push(`ack p99 ${ms(r.ack.p99)} ms`);
          if (done / r.seconds < rate * 0.95) why.push(`kept up with ${fmt(done / r.seconds)}/s`);
          if (r.sentPerSec < rate * 0.95) why.push("generator could not send at this rate");
          const pass = why.length === 0;
          const row = phaseRow(r, [pass ? "pass" : `FAIL (${why.join(", ")})`]);
          rows.push(row);
          log(`  step: ${row.join("  ")}`);
          if (!(await settle(senderClients, 60_000))) return null;
          await new Promise((res) => setTimeout(res, 1000));
          return { rate, pass, why: why.join(", "), result: r };
        },
      });
      best = result.best?.result ?? null;
      lowestFail = result.lowestFail;
      log(`  throughput ramp (${opt.step} s steps; pass: nothing lost or refused, ack p99 < ${opt["sustain-p99"]} ms, ≥ 95% of the offered rate stored/acked):`);
      for (const l of table([...PHASE_HEADER, "verdict"], rows)) log(`  ${l}`);
      log(
        `  => highest sustained rate: ${best ? `${fmt(best.offeredRate)} msg/s` : "none"} ` +
          `(${target.spec.kind === "relay" ? "relayed" : `${fmt(best?.storedPerSec ?? Number.NaN)} stored`}/s; first failure at ${fmt(lowestFail ?? Number.NaN)} msg/s; ${result.stoppedBecause})`,
      );
      if (best) log(`     at that rate: ${describe(best)}`);
    }
    closeAll(members.map((m) => m.client));
    return {
      label: target.label,
      headline: {
        fixedRate: opt.rate!,
        ackP50: fixed.ack.p50,
        ackP99: fixed.ack.p99,
        deliveryP99: fixed.delivery.p99,
        fixedLost: fixed.lost,
        maxSustained: best?.offeredRate ?? Number.NaN,
        maxStoredPerSec: best ? (target.spec.kind === "relay" ? best.acked / best.seconds : best.storedPerSec) : Number.NaN,
      },
    };
  },

  compare(relay, sb) {
    const h = sb.headline;
    const out = [
      `${sb.label}: at ${fmt(h.fixedRate!)} msg/s ack p99 ${ms(h.ackP99!)} ms${relay ? ` (relay ${ms(relay.headline.ackP99!)} ms)` : ""}, ` +
        `delivery p99 ${ms(h.deliveryP99!)} ms${relay ? ` (relay ${ms(relay.headline.deliveryP99!)} ms)` : ""}, lost ${fmt(h.fixedLost!)}; ` +
        `target ack p99 < 50 ms at 1,000 msg/s: ${h.fixedRate === 1000 ? (h.ackP99! < 50 && h.fixedLost === 0 ? "MET" : "NOT MET") : "(run at --rate 1000 to judge)"}`,
      `${sb.label}: highest sustained ${fmt(h.maxStoredPerSec!)} stored msg/s` +
        (relay ? ` vs relay ${fmt(relay.headline.maxStoredPerSec!)} relayed msg/s = ${ratio(h.maxStoredPerSec!, relay.headline.maxStoredPerSec!)}` : "") +
        (sb.label.includes("postgres") ? `; target ≥ 5,000 stored msg/s on PostgreSQL: ${h.maxStoredPerSec! >= 5000 ? "MET" : "NOT MET"}` : ""),
    ];
    return out;
  },
};
