/**
 * Search: `message:search` ack latency on a PostgreSQL database holding a
 * year of chat (1,000,000 messages by default, filled in SQL by
 * bench/lib/fill.ts), asked by one registered user over a real Socket.IO
 * connection, for each kind of query people type: a rare word, a common
 * one, both, a prefix, a word narrowed by room, author or time, and a
 * second page. Then the plan of the slowest kind, from PostgreSQL itself
 * (`EXPLAIN (ANALYZE, BUFFERS)` of exactly the SQL server/core/search.ts
 * sends), to say where its time goes.
 *
 * Only Switchboard on PostgreSQL: the relay stores nothing to search, and
 * the embedded database would have to be filled through the server.
 */
import pg from "pg";
import { MessageSearcher } from "../../server/core/search";
import { searchTerms } from "../../shared/search";
import { Prisma, type PrismaClient } from "../../server/db/generated/client";
import type { MessageSearch } from "../../shared/schemas";
import { COMMON_WORDS, fillDatabase, wordOfRank } from "../lib/fill";
import { monotonicMicros } from "../lib/profile";
import { fmt, ms, table, type Scenario } from "../lib/scenario";
import { now, type SioClient } from "../lib/sio";

/** The product's line: a search answers within this (ms), at p95. */
const TARGET_MS = 100;

type SearchInput = Omit<MessageSearch, "limit"> & { limit?: number };

interface Kind {
  name: string;
  /** One input per search, in order. */
  inputs: SearchInput[];
}

interface KindResult {
  kind: Kind;
  /** Ack latency per search (ms), in the order sent. */
  latencies: number[];
  hits: number[];
}

interface SearchAck {
  ok: boolean;
  hits?: unknown[];
  nextCursor?: string;
  error?: { code: string; message: string };
}

/** Sends one `message:search`; resolves with the ack and the time from sending to the ack's arrival. */
function ask(client: SioClient, input: SearchInput): Promise<{ ack: SearchAck; ms: number }> {
  return new Promise((resolve, reject) => {
    const t = now();
    const timer = setTimeout(() => reject(new Error(`message:search ${JSON.stringify(input)}: no ack within 60 s`)), 60_000);
    client.emitRaw(
      (id) => `42${id}${JSON.stringify(["message:search", input])}`,
      (frame, at) => {
        clearTimeout(timer);
        const ack = (JSON.parse(frame.toString("utf8", frame.indexOf("[", 2))) as SearchAck[])[0]!;
        if (!ack.ok) reject(new Error(`message:search ${JSON.stringify(input)}: ${ack.error?.code} ${ack.error?.message}`));
        else resolve({ ack, ms: at - t });
      },
    );
  });
}

/** The SQL and parameters server/core/search.ts sends for `input`, caught at the database client. */
async function searchSql(actorId: string, input: SearchInput): Promise<{ text: string; values: unknown[] }> {
  let caught: Prisma.Sql | null = null;
  const db = {
    $queryRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
      caught = Prisma.sql(strings, ...values);
      return Promise.resolve([]);
    },
  };
  await new MessageSearcher(db as unknown as PrismaClient).search(actorId, { limit: 20, ...input });
  const sql = caught as Prisma.Sql | null;
  if (!sql) throw new Error("the searcher sent no query");
  // pg sends BigInt as text; PostgreSQL casts it back from the column's type.
  return { text: sql.text, values: sql.values.map((v) => (typeof v === "bigint" ? v.toString() : v)) };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** The plan's nodes, outermost first, as "Limit > Nested Loop > Bitmap Heap Scan on Message (Message_body_search_idx)". */
function planShape(plan: PlanNode, depth = 0): string[] {
  const where = plan["Relation Name"] ? ` on ${plan["Relation Name"]}` : "";
  const index = plan["Index Name"] ? ` using ${plan["Index Name"]}` : "";
  const rows = plan["Actual Rows"] !== undefined ? ` rows=${fmt(plan["Actual Rows"] * (plan["Actual Loops"] ?? 1))}` : "";
  const line = `${"  ".repeat(depth)}${plan["Node Type"]}${where}${index}${rows}`;
  return [line, ...(plan.Plans ?? []).flatMap((p) => planShape(p, depth + 1))];
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

export const search: Scenario = {
  name: "search",
  description: "message:search on 1,000,000 stored messages (Switchboard on PostgreSQL only): ack latency per kind of query",
  multiInstance: false,
  options: {
    messages: { default: 1_000_000, help: "messages stored before searching (filled in SQL, over a year)" },
    users: { default: 1000, help: "people who wrote them" },
    groups: { default: 200, help: "group rooms (2–150 members)" },
    "public-every": { default: 4, help: "every n-th group room is public, the rest private" },
    dms: { default: 600, help: "direct-message rooms between random pairs" },
    "my-rooms": { default: 20, help: "rooms the searching user is a member of (three quarters groups, the rest DMs)" },
    vocabulary: { default: 50_000, help: "distinct words in bodies (5–30 words each, Zipf-distributed)" },
    searches: { default: 30, help: "searches per kind of query (one at a time)" },
    limit: { default: 20, help: "hits per page (message:search's limit)" },
    seed: { default: 42, help: "seed for the rooms and DMs" },
  },

  async runTarget(target, ctx) {
    const { opt, log } = ctx;
    if (target.spec.kind === "relay") {
      log("  the relay stores nothing and has no search: nothing to measure, and no ratio");
      return { label: target.label, headline: {} };
    }
    if (!target.databaseUrl) {
      log("  search is measured on PostgreSQL only (--db postgres): the embedded database cannot be filled from outside the server");
      return { label: target.label, headline: {} };
    }
    const { users } = await target.createUsers(1);
    const me = users[0]!;
    const myDms = Math.round(opt["my-rooms"]! / 4);
    const fill = await fillDatabase(
      target.databaseUrl,
      {
        messages: opt.messages!,
        users: opt.users!,
        groups: opt.groups!,
        dms: opt.dms!,
        vocabulary: opt.vocabulary!,
        publicEvery: opt["public-every"]!,
        searcherId: me.id,
        searcherGroups: opt["my-rooms"]! - myDms,
        searcherDms: myDms,
        seed: opt.seed!,
      },
      log,
    );
    const s = fill.seconds;
    log(
      `  fill: ${fmt(s.total, 1)} s in all: people, ${opt.groups} group rooms (${fill.publicRooms} public), ` +
        `${opt.dms! + myDms} DMs and ${fmt(fill.memberships)} memberships ${fmt(s.people, 1)} s, messages ${fmt(s.messages, 1)} s, ` +
        `indexes ${fmt(s.indexes, 1)} s, VACUUM ANALYZE ${fmt(s.vacuum, 1)} s`,
    );
    log(`  data: Message ${fill.tableSize}; indexes ${fill.indexSizes.map((i) => `${i.name} ${i.size}`).join(", ")}`);
    log(
      `  the searcher (${me.username}) is in ${fill.searcherRooms.length} rooms (${fill.searcherRooms.length - myDms} groups, ${myDms} DMs) ` +
        `with ${fmt(fill.roommates.length)} other people, and may read ${fmt(fill.readable)} of the ${fmt(opt.messages!)} messages ` +
        `(${fmt((100 * fill.readable) / opt.messages!, 1)}%: their rooms and every public room)`,
    );

    const client = await target.connect(me);
    const n = opt.searches!;
    const limit = opt.limit!;
    const v = opt.vocabulary!;
    const pick = <T>(list: T[], i: number) => list[i % list.length]!;
    const common = COMMON_WORDS.slice(0, 30).filter((w) => w.length >= 3).slice(0, 10);
    const prefixes = [...new Set(COMMON_WORDS.slice(0, 50).filter((w) => w.length >= 4).map((w) => w.slice(0, 3)))].slice(0, 10);
    const medium = Array.from({ length: 30 }, (_, i) => wordOfRank(50 + i));
    // Ranks 300–1,750: each in ~0.1–0.5% of messages, too many to read one by one, too few to meet by walking back from the newest.
    const uncommon = Array.from({ length: n }, (_, i) => wordOfRank(300 + Math.floor((i * 1500) / n)));
    const rare = Array.from({ length: n }, (_, i) => wordOfRank(Math.floor(0.4 * v + (i * 0.6 * v) / n)));
    const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const base = (i: number): SearchInput[] => [{ query: pick(common, i), limit }];
    const kinds: Kind[] = [
      { name: "rare word", inputs: rare.map((w) => ({ query: w, limit })) },
      { name: "common word", inputs: Array.from({ length: n }, (_, i) => base(i)[0]!) },
      { name: "common + rare", inputs: rare.map((w, i) => ({ query: `${pick(common, i)} ${w}`, limit })) },
      { name: "3-letter prefix", inputs: Array.from({ length: n }, (_, i) => ({ query: pick(prefixes, i), limit })) },
      { name: "medium word", inputs: Array.from({ length: n }, (_, i) => ({ query: pick(medium, i), limit })) },
      { name: "uncommon word", inputs: uncommon.map((w) => ({ query: w, limit })) },
      {
        name: "word + roomId",
        inputs: Array.from({ length: n }, (_, i) => ({ query: pick(medium, i), roomId: pick(fill.searcherRooms, i), limit })),
      },
      {
        name: "word + authorId",
        inputs: Array.from({ length: n }, (_, i) => ({ query: pick(medium, i), authorId: pick(fill.roommates, i * 7), limit })),
      },
      { name: "word + since", inputs: Array.from({ length: n }, (_, i) => ({ query: pick(medium, i), since: monthAgo, limit })) },
    ];
    // Second pages: each first page asked now (unmeasured), its cursor kept.
    const pages: SearchInput[] = [];
    for (let i = 0; i < n; i++) {
      const first = base(i)[0]!;
      const { ack } = await ask(client, first);
      if (ack.nextCursor) pages.push({ ...first, before: ack.nextCursor });
    }
    kinds.push({ name: "second page", inputs: pages });
    log(`  queries: common ${common.join(", ")}; prefixes ${prefixes.join(", ")}; medium ${medium.slice(0, 5).join(", ")}, …; uncommon ${uncommon.slice(0, 3).join(", ")}, …; rare ${rare.slice(0, 3).join(", ")}, …`);

    // One unmeasured round first: the first search of a kind reads the index from disk into the cache.
    for (const k of kinds) for (const input of k.inputs.slice(0, 3)) await ask(client, input);
    await ctx.waitQuiet();
    const w0 = monotonicMicros();
    const results: KindResult[] = [];
    for (const kind of kinds) {
      const r: KindResult = { kind, latencies: [], hits: [] };
      for (const input of kind.inputs) {
        const { ack, ms: took } = await ask(client, input);
        r.latencies.push(took);
        r.hits.push(ack.hits?.length ?? 0);
      }
      results.push(r);
    }
    ctx.measured({ start: w0, end: monotonicMicros() });
    client.close();

    // How many messages each kind's words match (the first search's), all and readable by the searcher.
    const db = new pg.Client({ connectionString: target.databaseUrl });
    await db.connect();
    try {
      const rows: string[][] = [];
      const plans: string[] = [];
      for (const r of results) {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        const first = r.kind.inputs[0]!;
        const tsquery = searchTerms(first.query)
          .map((t) => `'${t}':*`)
          .join(" & ");
        const c = (
          await db.query<{ all: string; readable: string }>(
            `SELECT count(*) AS all,
                    count(*) FILTER (WHERE r.visibility = 'public' OR EXISTS (
                      SELECT 1 FROM "Membership" ms WHERE ms."roomId" = m."roomId" AND ms."userId" = $2)) AS readable
             FROM "Message" m JOIN "Room" r ON r.id = m."roomId"
             WHERE to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)`,
            [tsquery, me.id],
          )
        ).rows[0]!;
        const { text, values } = await searchSql(me.id, first);
        const plan = (await db.query<{ "QUERY PLAN": Array<{ Plan: PlanNode; "Execution Time": number }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values))
          .rows[0]!["QUERY PLAN"][0]!;
        plans.push(`${r.kind.name} (“${first.query}”, ${fmt(plan["Execution Time"], 1)} ms in PostgreSQL):`, ...planShape(plan.Plan).map((l) => `  ${l}`));
        const p95 = percentile(sorted, 0.95);
        rows.push([
          r.kind.name,
          fmt(sorted.length),
          ms(percentile(sorted, 0.5)),
          ms(p95),
          ms(sorted.at(-1)!),
          fmt(r.hits.reduce((a, b) => a + b, 0) / Math.max(1, r.hits.length), 1),
          `${fmt(Number(c.all))} / ${fmt(Number(c.readable))}`,
          p95 < TARGET_MS ? "yes" : "NO",
        ]);
      }
      log(`  ${n} searches per kind, one at a time, ${limit} hits a page; ack latency in ms (sent → ack arrived):`);
      for (const l of table(
        ["query", "n", "p50", "p95", "max", "hits/page", "messages with the words: all / readable", `p95 < ${TARGET_MS} ms`],
        rows,
      ))
        log(`  ${l}`);
      log();
      log("  plans (EXPLAIN ANALYZE of each kind's first search, the SQL server/core/search.ts sends):");
      for (const l of plans) log(`    ${l}`);

      const slowest = results.reduce((a, b) => (percentile([...b.latencies].sort((x, y) => x - y), 0.95) > percentile([...a.latencies].sort((x, y) => x - y), 0.95) ? b : a));
      const worst = slowest.kind.inputs[slowest.latencies.indexOf(Math.max(...slowest.latencies))]!;
      const { text, values } = await searchSql(me.id, worst);
      log();
      log(`  slowest kind: ${slowest.kind.name}; EXPLAIN (ANALYZE, BUFFERS) of its slowest search ${JSON.stringify(worst)}:`);
      log(`    ${text.replace(/\s+/g, " ").trim()}`);
      log(`    parameters: ${JSON.stringify(values)}`);
      for (const row of (await db.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)).rows) log(`    ${row["QUERY PLAN"]}`);
    } finally {
      await db.end().catch(() => {});
    }
    const headline: Record<string, number> = {};
    for (const r of results) headline[r.kind.name] = percentile([...r.latencies].sort((a, b) => a - b), 0.95);
    return { label: target.label, headline };
  },

  compare(relay, sb) {
    const kinds = Object.entries(sb.headline);
    if (kinds.length === 0) return [`${sb.label}: nothing measured (search runs on Switchboard with --db postgres)`];
    const missed = kinds.filter(([, p95]) => !(p95 < TARGET_MS));
    return [
      `${relay ? "the relay has no search, so there is no ratio; " : ""}${sb.label}: p95 per kind ` +
        kinds.map(([k, p95]) => `${k} ${ms(p95)}`).join(", ") +
        " ms",
      missed.length === 0
        ? `every kind answers under ${TARGET_MS} ms at p95: target met`
        : `over ${TARGET_MS} ms at p95: ${missed.map(([k]) => k).join(", ")}: target NOT met`,
    ];
  },
};
