import type { PrismaClient } from "../db/generated/client";
import { isRefusedText } from "../db/errors";
import { AppError, toAppError } from "./errors";
import { archivedError, mutedError } from "./rooms";
import type { MessageRow } from "./wire";

export interface NewMessage {
  roomId: string;
  authorId: string;
  body: string;
  clientMsgId: string | null;
  /** Who the body mentions (shared/mentions.ts). */
  mentions: string[];
  /** A reply: its thread's first message (checked by the caller), and whether the room shows it too. */
  threadId?: bigint | null;
  alsoInRoom?: boolean;
  /** Written by a backend: no membership (nor mute) check. */
  trusted?: boolean;
}

/** A stored message; one read back for a resend may have been edited or deleted since. */
export type StoredMessage = MessageRow;

export interface WriteResult {
  row: StoredMessage;
  /** False when `clientMsgId` was already stored for the author (a resend). */
  created: boolean;
}

interface Pending extends NewMessage {
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
  /** Set once resolved or rejected: a batch that fails half-way is retried for the others only. */
  settled: boolean;
  /** Set when it was stored now (not refused, nor a resend of a stored one). */
  stored?: boolean;
  /**
   * Why the room is closed to this author (muted, archived, a block), found when
   * the batch did not insert the message: the refusal, unless it is a resend
   * of a message stored before.
   */
  closed?: AppError;
}

/** Largest batch written in one statement. */
const MAX_BATCH = 500;

/**
 * Stores messages with group commit: while one batch is being written, new
 * sends queue up and go together in the next one, so under load many messages
 * cost one round trip (one statement checks membership and inserts them all)
 * instead of one insert each, and a lone message is written at once.
 * Each caller's promise settles only after its message is stored. One bad
 * row cannot fail the others: if a batch's statement fails (and the database
 * is up), its messages are written again one by one, so only the bad one fails.
 */
export class MessageWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  /** Messages written and batches (write transactions) used, for tests and metrics. */
  readonly stats = { messages: 0, batches: 0 };

  /** `onBatch` is told each batch's size, how many of it were stored, and how long it took to write (metrics). */
  constructor(
    private readonly db: PrismaClient,
    private readonly onBatch?: (size: number, stored: number, seconds: number) => void,
  ) {}

  write(message: NewMessage): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        ...message,
        settled: false,
        resolve: (result) => {
          pending.settled = true;
          pending.stored = result.created;
          resolve(result);
        },
        reject: (err) => {
          pending.settled = true;
          reject(err);
        },
      };
      this.queue.push(pending);
      // Let the rest of this I/O turn's packets join the first batch.
      this.running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    });
  }

  /** Resolves once every message handed to {@link write} so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.stats.batches += 1;
      this.stats.messages += batch.length;
      const started = performance.now();
      try {
        await this.writeBatch(batch);
      } catch (err) {
        await this.isolate(batch, err);
      }
      this.onBatch?.(batch.length, batch.filter((p) => p.stored).length, (performance.now() - started) / 1000);
    }
    this.running = null;
  }

  /**
   * A batch failed. While the database is unreachable every message fails
   * alike (retrying each would only wait longer); otherwise one of them is
   * bad (text the database refuses, a row that breaks a constraint…), so each
   * message not yet answered is written on its own and only the bad one fails.
   */
  private async isolate(batch: Pending[], err: unknown): Promise<void> {
    let open = batch.filter((p) => !p.settled);
    let cause = err;
    if (open.length > 1 && !isUnavailable(err)) {
      for (const p of open) {
        try {
          await this.writeBatch([p]);
        } catch (one) {
          p.reject(refusal(one));
          if (isUnavailable(one)) {
            // The database went away meanwhile: the rest fail alike, at once.
            cause = one;
            break;
          }
        }
      }
      open = open.filter((p) => !p.settled);
    }
    for (const p of open) p.reject(refusal(cause));
  }

  /**
   * One round trip for the common case: a single statement of fixed shape
   * (the batch travels as array parameters, so Prisma compiles no new
   * query plan per batch) inserts the messages whose author is a member of
   * the room and not muted there (or that a backend posted) and returns them. Only messages it
   * did not insert — refused, or resends of a stored clientMsgId — take the
   * slower path that finds out which. Measured in docs/benchmarks.md.
   */
  private async writeBatch(batch: Pending[]): Promise<void> {
    const rows = await this.db.$queryRaw<StoredMessage[]>`
      INSERT INTO "Message" ("roomId", "authorId", "body", "clientMsgId", "mentions", "threadId", "alsoInRoom")
      SELECT i."roomId", i."authorId", i."body", i."clientMsgId", string_to_array(i."mentions", ' '), i."threadId", i."alsoInRoom"
      FROM unnest(${batch.map((p) => p.roomId)}::text[], ${batch.map((p) => p.authorId)}::text[],
                  ${batch.map((p) => p.body)}::text[], ${batch.map((p) => p.clientMsgId)}::text[],
                  ${batch.map((p) => p.trusted === true)}::boolean[],
                  -- One string per message (unnest flattens arrays of arrays); names hold no spaces.
                  ${batch.map((p) => p.mentions.join(" "))}::text[],
                  ${batch.map((p) => (p.threadId ?? null)?.toString() ?? null)}::bigint[],
                  ${batch.map((p) => p.alsoInRoom === true)}::boolean[])
           WITH ORDINALITY AS i("roomId", "authorId", "body", "clientMsgId", "trusted", "mentions", "threadId", "alsoInRoom", ord)
      WHERE (i."trusted"
         OR (EXISTS (SELECT 1 FROM "Membership" m WHERE m."roomId" = i."roomId" AND m."userId" = i."authorId")
             AND NOT EXISTS (SELECT 1 FROM "RoomMute" x WHERE x."roomId" = i."roomId" AND x."userId" = i."authorId")
             -- In a DM, neither may write once one blocked the other (index lookups from the author: usually none).
             AND NOT EXISTS (SELECT 1 FROM "UserBlock" b JOIN "Membership" o ON o."userId" = b."userId" AND o."roomId" = i."roomId"
                             JOIN "Room" d ON d.id = o."roomId" AND d.kind = 'dm' WHERE b."blockedId" = i."authorId")
             AND NOT EXISTS (SELECT 1 FROM "UserBlock" b JOIN "Membership" o ON o."userId" = b."blockedId" AND o."roomId" = i."roomId"
                             JOIN "Room" d ON d.id = o."roomId" AND d.kind = 'dm' WHERE b."userId" = i."authorId")))
        -- An archived room is read-only, for backends too.
        AND NOT EXISTS (SELECT 1 FROM "Room" a WHERE a.id = i."roomId" AND a."archivedAt" IS NOT NULL)
      ORDER BY i.ord
      -- A resend of a stored clientMsgId (or twice in this batch) inserts nothing.
      ON CONFLICT ("authorId", "clientMsgId") DO NOTHING
      RETURNING "id", "roomId", "authorId", "body", "clientMsgId", "createdAt", "mentions", "threadId", "alsoInRoom"`;

    // Match returned rows back to callers: by (author, clientMsgId) when there
    // is one, else by (room, author, body) in insertion order.
    const byClientId = new Map<string, StoredMessage>();
    const anonymous = new Map<string, StoredMessage[]>();
    for (const row of rows) {
      if (row.clientMsgId !== null) byClientId.set(clientKey(row.authorId, row.clientMsgId), row);
      else {
        const key = contentKey(row);
        const list = anonymous.get(key);
        if (list) list.push(row);
        else anonymous.set(key, [row]);
      }
    }

    const leftovers: Pending[] = [];
    for (const p of batch) {
      const key = p.clientMsgId === null ? null : clientKey(p.authorId, p.clientMsgId);
      const row = key === null ? anonymous.get(contentKey(p))?.shift() : byClientId.get(key);
      if (row) {
        p.resolve({ row, created: true });
        if (key !== null) byClientId.delete(key); // a second copy in this batch is a resend
      } else {
        leftovers.push(p);
      }
    }
    if (leftovers.length === 0) return;
    // Not inserted: refused (not a member, muted, archived, blocked, no such room), or a resend.
    await this.markClosed(leftovers);
    const resends = await this.rejectNonMembers(leftovers);
    if (resends.length > 0) await this.resolveResends(resends, rows);
  }

  /**
   * Answers resends with the message stored earlier (or earlier in this
   * batch). A muted member's message may be one stored before the mute
   * (answered as any resend); one that is not is refused as muted.
   */
  private async resolveResends(resends: Pending[], justInserted: StoredMessage[]): Promise<void> {
    const stored = await this.db.message.findMany({
      where: { OR: resends.map((p) => ({ authorId: p.authorId, clientMsgId: p.clientMsgId })) },
    });
    const found = new Map<string, StoredMessage>();
    for (const row of [...stored, ...justInserted]) {
      if (row.clientMsgId !== null) found.set(clientKey(row.authorId, row.clientMsgId), row);
    }
    for (const p of resends) {
      const row = p.clientMsgId === null ? undefined : found.get(clientKey(p.authorId, p.clientMsgId));
      if (!row) p.reject(p.closed ?? new Error("duplicate clientMsgId but no stored message found"));
      // The id names a message of another room: answering (and delivering) it
      // here would reach that room, which the sender may no longer be in.
      else if (row.roomId !== p.roomId) {
        p.reject(new AppError("invalid_payload", "clientMsgId: already used for a message in another room"));
      } else p.resolve({ row, created: false });
    }
  }

  /** Finds messages to archived rooms, and DM messages between people of whom one blocked the other. */
  private async markClosed(leftovers: Pending[]): Promise<void> {
    const roomIds = [...new Set(leftovers.map((p) => p.roomId))];
    const rooms = await this.db.room.findMany({
      where: { id: { in: roomIds }, OR: [{ archivedAt: { not: null } }, { kind: "dm" }] },
      select: { id: true, archivedAt: true, memberships: { select: { userId: true } } },
    });
    const byId = new Map(rooms.map((r) => [r.id, r]));
    const dmPeers = leftovers.flatMap((p) => {
      const room = byId.get(p.roomId);
      if (!room) return [];
      if (room.archivedAt) {
        p.closed = archivedError();
        return [];
      }
      const peer = room.memberships.find((m) => m.userId !== p.authorId)?.userId;
      return !p.trusted && peer ? [{ p, peer }] : [];
    });
    if (dmPeers.length === 0) return;
    const blocks = await this.db.userBlock.findMany({
      where: { OR: dmPeers.flatMap(({ p, peer }) => [{ userId: p.authorId, blockedId: peer }, { userId: peer, blockedId: p.authorId }]) },
      select: { userId: true, blockedId: true },
    });
    for (const { p, peer } of dmPeers) {
      if (blocks.some((b) => b.userId === p.authorId && b.blockedId === peer)) p.closed = new AppError("forbidden", "you blocked this person: unblock them to write to them");
      else if (blocks.some((b) => b.userId === peer && b.blockedId === p.authorId)) p.closed = new AppError("forbidden", "you cannot write in this conversation");
    }
  }

  /**
   * Rejects senders who are not members of the room, and muted members'
   * messages without a clientMsgId (one with may be a resend of a message
   * stored before the mute: marked, and answered by resolveResends); returns the rest.
   */
  private async rejectNonMembers(batch: Pending[]): Promise<Pending[]> {
    const checked = batch.filter((p) => !p.trusted);
    if (checked.length === 0) return batch;
    const pairs = uniqueBy(checked, (p) => `${p.roomId} ${p.authorId}`);
    const where = { OR: pairs.map((p) => ({ roomId: p.roomId, userId: p.authorId })) };
    const [members, mutes] = await Promise.all([
      this.db.membership.findMany({ where, select: { roomId: true, userId: true } }),
      this.db.roomMute.findMany({ where, select: { roomId: true, userId: true } }),
    ]);
    const ok = new Set(members.map((m) => `${m.roomId} ${m.userId}`));
    const silenced = new Set(mutes.map((m) => `${m.roomId} ${m.userId}`));
    for (const p of checked) if (!p.closed && silenced.has(`${p.roomId} ${p.authorId}`)) p.closed = mutedError();
    for (const p of batch) if (p.closed && p.clientMsgId === null && (p.trusted || ok.has(`${p.roomId} ${p.authorId}`))) p.reject(p.closed);
    const allowed = (p: Pending) => !p.settled && (p.trusted || ok.has(`${p.roomId} ${p.authorId}`));
    const refused = batch.filter((p) => !p.settled && !allowed(p));
    if (refused.length > 0) {
      const roomIds = [...new Set(refused.map((p) => p.roomId))];
      const existing = new Set(
        (await this.db.room.findMany({ where: { id: { in: roomIds } }, select: { id: true } })).map((r) => r.id),
      );
      for (const p of refused) {
        p.reject(
          existing.has(p.roomId)
            ? new AppError("forbidden", "join the room first")
            : new AppError("not_found", "no such room"),
        );
      }
    }
    return batch.filter(allowed);
  }
}

function isUnavailable(err: unknown): boolean {
  return toAppError(err).error.code === "unavailable";
}

/** Text the database refuses is the sender's mistake (`invalid_payload`), not ours. */
function refusal(err: unknown): unknown {
  return isRefusedText(err) ? new AppError("invalid_payload", "the message contains characters that cannot be stored") : err;
}

function clientKey(authorId: string, clientMsgId: string): string {
  return `${authorId}\u0000${clientMsgId}`;
}

function contentKey(m: { roomId: string; authorId: string; body: string }): string {
  return `${m.roomId}\u0000${m.authorId}\u0000${m.body}`;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
