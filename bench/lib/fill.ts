/**
 * Fills a migrated Switchboard PostgreSQL database with a year of chat, in
 * SQL (`INSERT … SELECT … FROM generate_series`), far faster than sending a
 * million messages through the server:
 *
 * - people and group rooms (every `publicEvery`-th public, the rest private)
 *   of 2–150 members, direct messages between random pairs, and one
 *   registered account that is a member of some of each (the one searching);
 * - messages in those rooms by their members, busy rooms busier than quiet
 *   ones, ids and `createdAt` both ascending over the year (as they are when
 *   a server writes them);
 * - bodies of 5–30 words drawn with a Zipf distribution (word of rank k with
 *   probability ∝ 1/k) from a vocabulary: the most common chat words first,
 *   then made-up words of three syllables, so a few words are in most
 *   messages and most words in very few, as in real text.
 *
 * The Message table's secondary indexes are dropped during the load and
 * built again from their own definitions afterwards, then everything is
 * vacuumed and analysed, as a long-lived database would be.
 */
import pg from "pg";
import { rng } from "./load";

/** Common chat words by rank (rank 1 first); ranks past the list are made-up words. */
export const COMMON_WORDS = [
  "the", "i", "to", "you", "a", "and", "it", "is", "for", "on", "we", "that", "in", "this", "of", "be",
  "can", "just", "so", "but", "not", "do", "with", "have", "will", "me", "at", "are", "my", "if",
  "what", "now", "up", "get", "how", "there", "was", "no", "ok", "yes", "all", "from", "about", "out",
  "think", "they", "know", "then", "one", "should", "when", "build", "deploy", "thanks", "meeting",
  "today", "tomorrow", "need", "check", "fix", "release", "review", "test", "branch", "server", "issue",
  "time", "look", "later", "back", "still", "work", "good", "new", "see", "also", "please", "sure",
  "done", "call", "morning", "lunch", "week", "friday", "monday", "update", "error", "logs", "change",
  "team", "people", "client", "support", "database", "migration", "ticket", "design", "docs", "again",
  "maybe",
];

/** Two-letter syllables (12 consonants × 5 vowels): a made-up word of rank k spells k in base 60. */
const SYLLABLES = [..."bdfgklmnprst"].flatMap((c) => [..."aeiou"].map((v) => c + v)).join("");

/** The word of rank `k` (1-based), as the fill's SQL spells it. */
export function wordOfRank(k: number): string {
  if (k <= COMMON_WORDS.length) return COMMON_WORDS[k - 1]!;
  const syl = (i: number) => SYLLABLES.slice(2 * i, 2 * i + 2);
  return syl(k % 60) + syl(Math.floor(k / 60) % 60) + syl(Math.floor(k / 3600) % 60);
}

export interface FillOptions {
  messages: number;
  users: number;
  groups: number;
  dms: number;
  /** Words in the vocabulary (ranks 1..vocabulary). */
  vocabulary: number;
  /** Every n-th group room is public. */
  publicEvery: number;
  /** The registered account that searches, and how many group rooms and DMs it is in. */
  searcherId: string;
  searcherGroups: number;
  searcherDms: number;
  seed: number;
}

export interface FillResult {
  seconds: { people: number; messages: number; indexes: number; vacuum: number; total: number };
  /** Rooms the searcher is a member of (groups, then DMs). */
  searcherRooms: string[];
  /** People who share a room with the searcher. */
  roommates: string[];
  /** Messages the searcher may read (their rooms and every public room). */
  readable: number;
  publicRooms: number;
  memberships: number;
  tableSize: string;
  indexSizes: Array<{ name: string; size: string }>;
}

const userId = (i: number) => `fill-user-${i}`;
const groupId = (i: number) => `fill-room-${i}`;
const dmId = (i: number) => `fill-dm-${i}`;

/** As server/core/rooms.ts `dmKeyOf` (ids in code-point order, as JSON). */
function dmKey(a: string, b: string): string {
  return JSON.stringify(Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a]);
}

export async function fillDatabase(url: string, o: FillOptions, log: (line: string) => void): Promise<FillResult> {
  const t0 = performance.now();
  const lap = (since: number) => (performance.now() - since) / 1000;
  const random = rng(o.seed);
  const clients = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await Promise.all(clients.map((c) => c.connect()));
  const db = clients[0]!;
  try {
    for (const c of clients) {
      // A load, not traffic: nothing here needs to survive a crash before it ends.
      await c.query("SET synchronous_commit = off");
      await c.query("SET maintenance_work_mem = '512MB'");
    }

    /* People, rooms and memberships: small, built here and inserted as arrays. */
    const users = Array.from({ length: o.users }, (_, i) => userId(i + 1));
    await db.query(
      `INSERT INTO "User" (id, username, "displayName", "createdAt")
       SELECT id, replace(id, '-', '_'), 'Person ' || n, now() - interval '400 days'
       FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n)`,
      [users],
    );
    const rooms: Array<{ id: string; kind: "group" | "dm"; visibility: "public" | "private"; members: string[]; key: string | null }> = [];
    for (let i = 1; i <= o.groups; i++) {
      // Sizes 2..150 spread over the rooms; member k of room i is user (7i + 13k) mod n, all distinct.
      const size = Math.min(o.users, 2 + ((i * 37) % 149));
      const members = Array.from({ length: size }, (_, k) => users[(i * 7 + k * 13) % o.users]!);
      rooms.push({ id: groupId(i), kind: "group", visibility: i % o.publicEvery === 0 ? "public" : "private", members, key: null });
    }
    const pairs = new Set<string>();
    while (pairs.size < o.dms) {
      const a = users[Math.floor(random() * o.users)]!;
      const b = users[Math.floor(random() * o.users)]!;
      if (a !== b) pairs.add(dmKey(a, b));
    }
    [...pairs].forEach((key, i) => {
      rooms.push({ id: dmId(i + 1), kind: "dm", visibility: "private", members: JSON.parse(key) as string[], key });
    });
    // The searcher: in every (groups / searcherGroups)-th group room, and in DMs with the first few people.
    const searcherRooms: string[] = [];
    const step = Math.max(1, Math.floor(o.groups / o.searcherGroups));
    for (let i = step; i <= o.groups && searcherRooms.length < o.searcherGroups; i += step) {
      rooms[i - 1]!.members.push(o.searcherId);
      searcherRooms.push(groupId(i));
    }
    for (let j = 0; j < o.searcherDms; j++) {
      const id = `fill-dm-mine-${j + 1}`;
      rooms.push({ id, kind: "dm", visibility: "private", members: [o.searcherId, users[j]!], key: dmKey(o.searcherId, users[j]!) });
      searcherRooms.push(id);
    }
    await db.query(
      `INSERT INTO "Room" (id, name, kind, visibility, "dmKey", "createdById", "createdAt")
       SELECT id, CASE WHEN kind = 'dm' THEN 'Direct message' ELSE 'room ' || replace(id, 'fill-room-', '') END, kind::"RoomKind",
              visibility::"RoomVisibility", key, owner, now() - interval '400 days'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS r(id, kind, visibility, key, owner)`,
      [rooms.map((r) => r.id), rooms.map((r) => r.kind), rooms.map((r) => r.visibility), rooms.map((r) => r.key), rooms.map((r) => r.members[0]!)],
    );
    const ms = rooms.flatMap((r) => r.members.map((u, k) => [r.id, u, r.kind === "group" && k === 0 ? "owner" : "member"] as const));
    await db.query(
      `INSERT INTO "Membership" ("roomId", "userId", role, "joinedAt")
       SELECT room, person, role::"MemberRole", now() - interval '400 days'
       FROM unnest($1::text[], $2::text[], $3::text[]) AS m(room, person, role)`,
      [ms.map((m) => m[0]), ms.map((m) => m[1]), ms.map((m) => m[2])],
    );
    const peopleSeconds = lap(t0);

    /*
     * Which room each message goes to: 80% to group rooms, the busiest
     * (in a shuffled order) weighted 1/rank^0.8, 20% spread over the DMs,
     * as a table of 10,000 slots a uniform draw indexes.
     */
    const groups = rooms.filter((r) => r.kind === "group");
    const dms = rooms.filter((r) => r.kind === "dm");
    const order = groups.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const weights = new Map<string, number>();
    const z = groups.reduce((s, _, r) => s + 1 / (r + 1) ** 0.8, 0);
    order.forEach((g, r) => weights.set(groups[g]!.id, (0.8 * (1 / (r + 1) ** 0.8)) / z));
    for (const d of dms) weights.set(d.id, 0.2 / dms.length);
    const SLOTS = 10_000;
    const slotRoom: number[] = [];
    let acc = 0;
    rooms.forEach((r, idx) => {
      acc += weights.get(r.id)! * SLOTS;
      while (slotRoom.length < Math.min(SLOTS, Math.round(acc))) slotRoom.push(idx + 1);
    });
    while (slotRoom.length < SLOTS) slotRoom.push(rooms.length);
    await db.query(`CREATE UNLOGGED TABLE fill_room (idx int PRIMARY KEY, id text, members text[])`);
    await db.query(`CREATE UNLOGGED TABLE fill_slot (slot int PRIMARY KEY, room int)`);
    await db.query(`INSERT INTO fill_room SELECT n, id, string_to_array(m, ',') FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(id, m, n)`, [
      rooms.map((r) => r.id),
      rooms.map((r) => r.members.join(",")),
    ]);
    await db.query(`INSERT INTO fill_slot SELECT n - 1, room FROM unnest($1::int[]) WITH ORDINALITY AS s(room, n)`, [slotRoom]);
    await db.query(`ANALYZE fill_room; ANALYZE fill_slot`);

    /* Messages: without the secondary indexes, in two halves at once (one per core). */
    const t1 = performance.now();
    const indexes = (
      await db.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename = 'Message' AND indexname <> 'Message_pkey'`,
      )
    ).rows;
    for (const ix of indexes) await db.query(`DROP INDEX "${ix.name}"`);
    // Foreign keys are checked by triggers; the rows below are consistent by construction.
    const noTriggers = await Promise.all(
      clients.map((c) => c.query("SET session_replication_role = replica").then(() => true, () => false)),
    );
    const lnV = Math.log(o.vocabulary + 1);
    const yearStart = Date.now() - 365 * 86_400_000;
    const msPerMessage = (365 * 86_400_000) / o.messages;
    const half = Math.ceil(o.messages / 2);
    await Promise.all(
      clients.map((c, part) => {
        const from = part * half + 1;
        const to = Math.min(o.messages, (part + 1) * half);
        return c.query(
          `INSERT INTO "Message" (id, "roomId", "authorId", body, "createdAt")
           SELECT s.g, r.id, r.members[1 + floor(s.a * cardinality(r.members))::int],
                  (SELECT string_agg(CASE WHEN w.k <= cardinality($3::text[]) THEN ($3::text[])[w.k]
                                          ELSE substr($4, 1 + 2 * (w.k % 60), 2) || substr($4, 1 + 2 * (w.k / 60 % 60), 2)
                                               || substr($4, 1 + 2 * (w.k / 3600 % 60), 2) END, ' ')
                   FROM (SELECT floor(exp(random() * $5::float8))::int AS k FROM generate_series(1, s.n)) w),
                  to_timestamp(($6::float8 + (s.g - 1) * $7::float8) / 1000)
           FROM (SELECT g, floor(random() * ${SLOTS})::int AS slot, random() AS a, 5 + floor(random() * 26)::int AS n
                 FROM generate_series($1::bigint, $2::bigint) g) s
           JOIN fill_slot f ON f.slot = s.slot
           JOIN fill_room r ON r.idx = f.room`,
          [from, to, COMMON_WORDS, SYLLABLES, lnV, yearStart, msPerMessage],
        );
      }),
    );
    for (const c of clients) await c.query("RESET session_replication_role");
    await db.query(`SELECT setval(pg_get_serial_sequence('"Message"', 'id'), (SELECT max(id) FROM "Message"))`);
    const messageSeconds = lap(t1);
    log(
      `  fill: ${o.messages.toLocaleString("en-US")} messages in ${messageSeconds.toFixed(1)} s` +
        (noTriggers.every(Boolean) ? " (foreign-key triggers off for the load)" : " (with foreign-key checks: not a superuser)"),
    );

    const t2 = performance.now();
    // Built as the migrations define them; the text-search one is the slow one, so it gets a connection alone.
    const slow = indexes.filter((ix) => /USING gin/i.test(ix.def));
    const rest = indexes.filter((ix) => !slow.includes(ix));
    await Promise.all(
      [slow, rest].map(async (list, i) => {
        for (const ix of list) await clients[i]!.query(ix.def);
      }),
    );
    const indexSeconds = lap(t2);
    const t3 = performance.now();
    await db.query(`DROP TABLE fill_room; DROP TABLE fill_slot`);
    await db.query(`VACUUM (ANALYZE) "Message"`);
    await db.query(`ANALYZE "User"; ANALYZE "Room"; ANALYZE "Membership"`);
    const vacuumSeconds = lap(t3);

    const readable = Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM "Message" m JOIN "Room" r ON r.id = m."roomId"
           WHERE r.visibility = 'public' OR EXISTS (SELECT 1 FROM "Membership" ms WHERE ms."roomId" = m."roomId" AND ms."userId" = $1)`,
          [o.searcherId],
        )
      ).rows[0]!.n,
    );
    const roommates = (
      await db.query<{ id: string }>(
        `SELECT DISTINCT "userId" AS id FROM "Membership" WHERE "roomId" = ANY($1) AND "userId" <> $2 ORDER BY 1`,
        [searcherRooms, o.searcherId],
      )
    ).rows.map((r) => r.id);
    const tableSize = (await db.query<{ s: string }>(`SELECT pg_size_pretty(pg_table_size('"Message"')) AS s`)).rows[0]!.s;
    const indexSizes = (
      await db.query<{ name: string; size: string }>(
        `SELECT indexrelname AS name, pg_size_pretty(pg_relation_size(indexrelid)) AS size
         FROM pg_stat_user_indexes WHERE relname = 'Message' ORDER BY indexrelname`,
      )
    ).rows;
    return {
      seconds: { people: peopleSeconds, messages: messageSeconds, indexes: indexSeconds, vacuum: vacuumSeconds, total: lap(t0) },
      searcherRooms,
      roommates,
      readable,
      publicRooms: groups.filter((g) => g.visibility === "public").length,
      memberships: ms.length,
      tableSize,
      indexSizes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
