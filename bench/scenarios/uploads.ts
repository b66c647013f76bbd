/**
 * Uploads: 20 people each upload a 10 MB file into a room at the same time
 * (`POST /api/rooms/{roomId}/files`, the web UI's request), and the server's
 * resident memory is sampled every 20 ms meanwhile. Streaming means each
 * upload holds a piece at a time (256 KiB in the database store), never the
 * whole file: the RSS growth should stay far below the 200 MB sent.
 *
 * Switchboard only: the relay takes no files, so there is no ratio.
 */
import { request } from "node:http";
import { memory } from "../lib/proc";
import { fmt, mb, type Scenario } from "../lib/scenario";
import type { BenchUser } from "../lib/targets";

function uploadOnce(url: string, roomId: string, user: BenchUser, data: Buffer, name: string): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(`${url}/api/rooms/${roomId}/files`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${user.token}`,
        "content-type": "application/octet-stream",
        "content-disposition": `attachment; filename="${name}"`,
        "content-length": String(data.length),
      },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
    });
    req.on("error", reject);
    // As a browser sends a file: in pieces, as the network takes them.
    for (let i = 0; i < data.length; i += 64 * 1024) req.write(data.subarray(i, i + 64 * 1024));
    req.end();
  });
}

export const uploads: Scenario = {
  name: "uploads",
  description: "20 parallel 10 MB uploads (Switchboard only): the server's RSS while they stream in",
  multiInstance: false,
  options: {
    uploads: { default: 20, help: "uploads at once, each by its own user" },
    megabytes: { default: 10, help: "size of each file, MiB (the default upload limit is 10)" },
    rounds: { default: 3, help: "rounds of parallel uploads (the peak of each is reported)" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    if (target.spec.kind === "relay") {
      log("  the relay takes no files: nothing to measure, and no ratio");
      return { label: target.label, headline: {} };
    }
    const n = opt.uploads!;
    const { users } = await target.createUsers(n);
    const owner = { user: users[0]!, client: await target.connect(users[0]!) };
    const others = await Promise.all(users.slice(1).map(async (user) => ({ user, client: await target.connect(user) })));
    const roomId = await target.createGroup(owner, others, "uploads");
    // Distinct bytes per file, made before measuring (the generator's memory is not the server's).
    const files = users.map((_, i) => Buffer.alloc(opt.megabytes! * 1024 * 1024, i + 1));
    const pid = target.server.pid;
    target.server.pin();
    await ctx.waitQuiet(60);

    let peakGrowth = 0;
    const headline: Record<string, number> = {};
    for (let round = 1; round <= opt.rounds!; round++) {
      const before = memory(pid).rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, memory(pid).rss)), 20);
      const started = performance.now();
      const results = await Promise.all(users.map((u, i) => uploadOnce(target.server.url, roomId, u, files[i]!, `r${round}-${i}.bin`)));
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, memory(pid).rss);
      const after = memory(pid).rss;
      const refused = results.filter((r) => r.status !== 201).length;
      const sent = n * files[0]!.length;
      log(
        `  round ${round}: ${n} × ${opt.megabytes} MB in ${fmt(seconds, 1)} s (${fmt(sent / 1024 / 1024 / seconds, 1)} MB/s)` +
          `${refused ? `, ${refused} refused` : ""}; RSS ${mb(before)} → peak ${mb(peak)} (+${mb(peak - before)}) → ${mb(after)}`,
      );
      peakGrowth = Math.max(peakGrowth, peak - before);
      headline[`round${round}PeakMb`] = peak / 1024 / 1024;
    }
    const { peakRss } = memory(pid);
    log(`  largest growth during a round: ${mb(peakGrowth)} for ${fmt(n * opt.megabytes!)} MB in flight (${mb(peakGrowth / n)} per upload); process peak (VmHWM) ${mb(peakRss)}`);
    for (const m of [owner, ...others]) m.client.close();
    return { label: target.label, headline: { ...headline, peakGrowthMb: peakGrowth / 1024 / 1024, perUploadMb: peakGrowth / n / 1024 / 1024 } };
  },

  compare(_relay, sb) {
    const growth = sb.headline.peakGrowthMb;
    if (growth === undefined) return [];
    const rounds = Object.keys(sb.headline).filter((k) => /^round\d+PeakMb$/.test(k)).map((k) => fmt(sb.headline[k]!, 0));
    return [
      `${sb.label}: RSS grew at most ${fmt(growth, 1)} MB during a round (${fmt(sb.headline.perUploadMb!, 2)} MB per upload in flight); ` +
        `peak RSS per round ${rounds.join(" / ")} MB (the relay takes no files: no ratio)`,
    ];
  },
};
