/**
 * fan-out: one room of 500 members (one connection each), one of them
 * sending at a rate that steps up; the result is the highest rate whose
 * send→receive p99 stays under 100 ms with no delivery lost.
 */
import { runPhase, Tracker } from "../lib/load";
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
  settle,
  table,
  type RampStep,
  type Scenario,
} from "../lib/scenario";

export const fanOut: Scenario = {
  name: "fan-out",
  description: "one room of 500 members, one sender stepping up its rate: highest rate with p99 < 100 ms and no loss",
  multiInstance: true,
  options: {
    members: { default: 500, help: "connections (distinct users) in the room, the sender included" },
    start: { default: 100, help: "first rate (messages/s)" },
    factor: { default: 1.5, help: "rate multiplier between steps" },
    step: { default: 5, help: "seconds per step" },
    refine: { default: 2, help: "bisection steps between the last pass and the first failure" },
    "max-steps": { default: 14, help: "at most this many steps" },
    p99: { default: 100, help: "pass: send→receive p99 under this (ms)" },
    drain: { default: 5, help: "seconds to wait for late deliveries after a step" },
    warmup: { default: 3, help: "seconds of warm-up traffic (not measured)" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    const n = opt.members!;
    const { users, seconds: regSeconds } = await target.createUsers(n);
    if (regSeconds > 0) log(`  set-up: registered ${n} users in ${regSeconds.toFixed(1)} s`);
    const t0 = performance.now();
    const members = await connectAll(target, users);
    const tracker = new Tracker();
    for (const m of members) tracker.attach(m.client);
    const roomId = await target.createGroup(members[0]!, members.slice(1), "fan-out");
    log(`  set-up: ${n} connections in one room in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const sender = members[0]!;
    const pick = () => ({ client: sender.client, roomId, members: n });
    const phase = (rate: number, seconds: number, label: string) =>
      runPhase({
        target,
        tracker,
        rate,
        seconds,
        pick,
        drainMs: opt.drain! * 1000,
        label,
      });

    await phase(Math.min(50, opt.start!), opt.warmup!, "warm-up");
    await settle([sender.client], 30_000);
    await ctx.waitQuiet();

    const rows: string[][] = [];
    const result = await ramp({
      start: opt.start!,
      factor: opt.factor!,
      refine: opt.refine!,
      maxSteps: opt["max-steps"]!,
      deadline: () => ctx.deadline,
      step: async (rate): Promise<RampStep | null> => {
        const r = await quietly(
          ctx,
          `${rate}/s`,
          () => phase(rate, opt.step!, `${rate}/s`),
          () => settle([sender.client], 60_000),
        );
        ctx.measured(r.window);
        const why: string[] = [];
        if (r.lost !== 0) why.push(`${fmt(r.lost)} lost`);
        if (r.unacked > 0) why.push(`${fmt(r.unacked)} unacked`);
        if (r.ackErrors > 0) why.push(`${fmt(r.ackErrors)} refused: ${r.firstAckError}`);
        if (r.disconnects > 0) why.push(`${r.disconnects} disconnects`);
        if (!(r.delivery.p99 < opt.p99!)) why.push(`p99 ${ms(r.delivery.p99)} ms`);
        if (r.sentPerSec < rate * 0.95) why.push("generator could not send at this rate");
        const pass = why.length === 0;
        const row = phaseRow(r, [pass ? "pass" : `FAIL (${why.join(", ")})`]);
        rows.push(row);
        log(`  ${row.join("  ")}`);
        // A failed step can leave a backlog: let it drain before the next one.
        if (!(await settle([sender.client], 60_000))) return null;
        await new Promise((res) => setTimeout(res, 1000));
        return { rate, pass, why: why.join(", "), result: r };
      },
    });
    closeAll(members.map((m) => m.client));

    log(`  steps (${opt.step} s each, ${n} receivers; latency in ms; CPU in % of one core):`);
    for (const l of table([...PHASE_HEADER, "verdict"], rows)) log(`  ${l}`);
    const best = result.best?.result;
    log(
      `  => highest rate with p99 < ${opt.p99} ms and no loss: ${best ? `${fmt(best.offeredRate)} msg/s` : "none"}` +
        ` (${fmt(best?.deliveriesPerSec ?? Number.NaN)} deliveries/s; first failure at ${fmt(result.lowestFail ?? Number.NaN)} msg/s; ${result.stoppedBecause})`,
    );
    if (best) {
      log(
        `     at that rate: delivery p50/p99/max ${ms(best.delivery.p50)}/${ms(best.delivery.p99)}/${ms(best.delivery.max)} ms, ` +
          `ack p50/p99/max ${ms(best.ack.p50)}/${ms(best.ack.p99)}/${ms(best.ack.max)} ms, ` +
          `server CPU ${fmt(best.cpu.server)}%, RSS ${mb(best.rss)}, stored ${fmt(best.storedPerSec)}/s`,
      );
    }
    return {
      label: target.label,
      headline: {
        maxRate: best?.offeredRate ?? 0,
        deliveriesPerSec: best?.deliveriesPerSec ?? 0,
        p99: best?.delivery.p99 ?? Number.NaN,
        ackP99: best?.ack.p99 ?? Number.NaN,
        serverCpu: best?.cpu.server ?? Number.NaN,
        generatorCpu: best?.cpu.generator ?? Number.NaN,
      },
    };
  },

  compare(relay, sb) {
    if (!relay) return [`${sb.label}: ${fmt(sb.headline.maxRate!)} msg/s (no relay run to compare)`];
    const r = sb.headline.maxRate! / relay.headline.maxRate!;
    return [
      // Three decimals: "0.80× NOT MET" for 0.798 would read as a contradiction.
      `${sb.label} vs relay: highest fan-out rate ${fmt(sb.headline.maxRate!)} vs ${fmt(relay.headline.maxRate!)} msg/s = ` +
        `${r.toFixed(3)}× (target ≥ 0.80×: ${r >= 0.8 ? "MET" : "NOT MET"}; each rate is bracketed to ~10% by the ramp)`,
    ];
  },
};
