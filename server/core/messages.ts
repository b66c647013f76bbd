import type { Message, RoomEvent, User } from "../../shared/protocol";
import type { PostMessageBody } from "../../shared/gateway";
import { mentionsIn } from "../../shared/mentions";
import type { Attachments } from "./attachments";
import type { Hooks } from "./hooks";
import type { MessageAround, MessageDelete, MessageEdit, MessageHistory, MessageNewer, MessageSend, MessageThread, Typing } from "../../shared/schemas";
import { AppError } from "./errors";
import type { PrismaClient } from "../db/generated/client";
import type { Delivery } from "./delivery";
import type { MessageWriter, NewMessage } from "./message-writer";
import type { Pins } from "./pins";
import type { Reactions } from "./reactions";
import type { RoomEvents } from "./room-events";
import type { Rooms } from "./rooms";
import type { Threads } from "./threads";
import { type AuthorRow, toMessage } from "./wire";

/** What a message's author is read with. */
const AUTHOR = { id: true, displayName: true, avatarKey: true } as const;

/** A page of a room's history: its messages, oldest first, and the membership lines of its span of time. */
export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
  events: RoomEvent[];
}

/** Sending and reading messages. */
export class Messages {
  constructor(
    private readonly db: PrismaClient,
    private readonly writer: MessageWriter,
    private readonly rooms: Rooms,
    private readonly roomEvents: RoomEvents,
    private readonly delivery: Delivery,
    private readonly reactions: Reactions,
    private readonly threads: Threads,
    private readonly hooks: Hooks,
    private readonly attachments: Attachments,
    private readonly pins: Pins,
  ) {}

  /** Resolves when every accepted send has been written; called before shutdown. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  /** How many messages and write batches the writer has handled so far. */
  get writerStats(): { messages: number; batches: number } {
    return { ...this.writer.stats };
  }

  /**
   * Stores a message and delivers it to every member's connections. A resend
   * with a `clientMsgId` already stored for the author returns the stored
   * message and delivers it again: the first attempt may have been stored by
   * a process that died (or lost the reply) before delivering it, and clients
   * drop a message whose id they already have.
   */
  async send(actor: User, input: MessageSend): Promise<Message> {
    const body = await this.hooks.beforeMessage({ author: actor, roomId: input.roomId, body: input.body });
    return this.store(
      { roomId: input.roomId, authorId: actor.id, body, clientMsgId: input.clientMsgId ?? null, mentions: mentionsIn(body) },
      actor,
      await this.threadOf(input.roomId, input),
      input.attachmentIds ?? [],
    );
  }

  /**
   * Writes a message (into its thread, if any) with the files it carries and
   * delivers it; a new reply also makes its author and the thread's starter
   * follow the thread, whose followers are told.
   */
  private async store(
    message: NewMessage,
    author: AuthorRow,
    thread: Awaited<ReturnType<Messages["threadOf"]>>,
    attachmentIds: string[],
  ): Promise<Message> {
    if (attachmentIds.length > 0 && !(await this.isResend(message))) {
      await this.attachments.assertSendable(message.authorId, message.roomId, attachmentIds);
    }
    const target = thread ? { threadId: thread.threadId, alsoInRoom: thread.alsoInRoom } : {};
    const { row, created } = await this.writer.write({ ...message, ...target });
    const stored = toMessage(row, author);
    // A resend carries what the first attempt stored.
    const files = created
      ? attachmentIds.length > 0
        ? await this.attachments.attach(row.id, message.authorId, message.roomId, attachmentIds)
        : []
      : ((await this.attachments.of(row.roomId, [row.id])).get(stored.id) ?? []);
    if (files.length > 0) stored.attachments = files;
    this.deliver(stored, created);
    if (thread && created) await this.threads.replied(stored, thread.starterId);
    return stored;
  }

  /**
   * The author changes a message's text (plugins' `beforeMessage` hooks see
   * the new text as they see a new message). Stored with `editedAt` and
   * pushed to the room as `message:updated`; the same text again changes
   * nothing.
   */
  async edit(actor: User, { roomId, messageId, body }: MessageEdit): Promise<Message> {
    await this.rooms.assertCanWrite(actor, roomId);
    const current = await this.live(roomId, messageId);
    if (current.authorId !== actor.id) throw new AppError("forbidden", "only its author can edit a message");
    return this.change(current, await this.hooks.beforeMessage({ author: actor, roomId, body }));
  }

  /**
   * Deletes a message: its author, or the room's owner or an admin, may. Its body is not
   * kept; what is left (`deletedAt`, an empty body) stays in the history in
   * its place and goes to the room as `message:deleted`.
   */
  async delete(actor: User, { roomId, messageId }: MessageDelete): Promise<void> {
    const role = await this.rooms.roleOf(actor, roomId);
    const current = await this.live(roomId, messageId);
    if (current.authorId !== actor.id && role === "member") {
      throw new AppError("forbidden", "only its author, or the room's owner or an admin, can delete a message");
    }
    await this.remove(current);
  }

  /** A backend edits any message (as it posts as anyone: no hooks, no author check). */
  async editForBackend({ roomId, messageId, body }: MessageEdit): Promise<Message> {
    return this.change(await this.live(roomId, messageId), body);
  }

  /** A backend deletes any message. */
  async deleteForBackend({ roomId, messageId }: MessageDelete): Promise<void> {
    await this.remove(await this.live(roomId, messageId));
  }

  /**
   * Where a reply goes: the thread of a message of the room that is not
   * deleted and not a reply itself (threads do not nest); `not_found`
   * otherwise. Nothing for a message to the room.
   */
  private async threadOf(roomId: string, { threadId, alsoToRoom }: { threadId?: string; alsoToRoom?: boolean }) {
    if (threadId === undefined) return null;
    const root = await this.db.message.findFirst({
      where: { id: BigInt(threadId), roomId, threadId: null, deletedAt: null },
      select: { authorId: true },
    });
    if (!root) throw new AppError("not_found", "threadId: no such message to reply to in this room");
    return { threadId: BigInt(threadId), alsoInRoom: alsoToRoom === true, starterId: root.authorId };
  }

  /** A page of a thread's replies, oldest first, with its first message. */
  async thread(actor: User, { roomId, threadId, before, limit }: MessageThread) {
    await this.rooms.assertReadable(actor, roomId);
    const root = await this.db.message.findFirst({
      where: { id: BigInt(threadId), roomId, threadId: null },
      include: { author: { select: AUTHOR } },
    });
    if (!root) throw new AppError("not_found", "no such thread in this room");
    const rows = await this.db.message.findMany({
      where: { threadId: root.id, ...(before ? { id: { lt: BigInt(before) } } : {}) },
      orderBy: { id: "desc" },
      take: limit + 1,
      include: { author: { select: AUTHOR } },
    });
    const [first] = await this.decorate(roomId, [root], actor.id);
    return {
      root: first!,
      replies: await this.decorate(roomId, rows.slice(0, limit).reverse(), actor.id, { threadSummaries: false }),
      hasMore: rows.length > limit,
    };
  }

  /** A message of the room that is not deleted; `not_found` otherwise (another room's message included). */
  private async live(roomId: string, messageId: string) {
    const row = await this.db.message.findUnique({
      where: { id: BigInt(messageId) },
      include: { author: { select: AUTHOR } },
    });
    if (!row || row.roomId !== roomId || row.deletedAt) throw new AppError("not_found", "no such message in this room");
    return row;
  }

  private async change(current: Awaited<ReturnType<Messages["live"]>>, body: string): Promise<Message> {
    if (current.body === body) return toMessage(current, current.author);
    const editedAt = new Date();
    const mentions = mentionsIn(body);
    // Only while not deleted: a delete that landed meanwhile wins.
    const { count } = await this.db.message.updateMany({ where: { id: current.id, deletedAt: null }, data: { body, editedAt, mentions } });
    if (count === 0) throw new AppError("not_found", "no such message in this room");
    const message = toMessage({ ...current, body, editedAt, mentions }, current.author);
    const files = (await this.attachments.of(current.roomId, [current.id])).get(message.id);
    if (files) message.attachments = files;
    this.delivery.toRoom(message.roomId, "message:updated", [message]);
    return message;
  }

  private async remove(current: Awaited<ReturnType<Messages["live"]>>): Promise<void> {
    const gone = { body: "", deletedAt: new Date(), mentions: [] };
    const { count } = await this.db.message.updateMany({ where: { id: current.id, deletedAt: null }, data: gone });
    if (count === 0) throw new AppError("not_found", "no such message in this room");
    await Promise.all([this.reactions.clear(current.id), this.attachments.deleteOf(current.id), this.pins.clear(current.id)]);
    this.delivery.toRoom(current.roomId, "message:deleted", [toMessage({ ...current, ...gone }, current.author)]);
  }

  /** Whether the author already stored a message with this `clientMsgId` (its files are then sent already). */
  private async isResend({ authorId, clientMsgId }: NewMessage): Promise<boolean> {
    return clientMsgId !== null && (await this.db.message.count({ where: { authorId, clientMsgId } })) > 0;
  }

  /** Delivers a stored message; a newly stored one then goes to plugins' `afterMessage` hooks (once). */
  private deliver(message: Message, created: boolean): void {
    this.delivery.toRoom(message.roomId, "message:new", [message]);
    if (created) this.hooks.afterMessage(message);
  }

  /**
   * A backend posts into a room: as an existing user, as a named bot (a user
   * `bot:<id>` created on first use), or as the system. Delivered like any
   * message; the author need not be a member.
   */
  async post(roomId: string, input: PostMessageBody): Promise<Message> {
    // Trusted writes skip the membership check, so check the room here: a
    // missing one must not fail the whole batch on its foreign key.
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    const author = await this.backendAuthor(input);
    return this.store(
      { roomId, authorId: author.id, body: input.body, clientMsgId: input.clientMsgId ?? null, mentions: mentionsIn(input.body), trusted: true },
      author,
      await this.threadOf(roomId, input),
      input.attachmentIds ?? [],
    );
  }

  historyForBackend({ roomId, before, limit }: MessageHistory): Promise<HistoryPage> {
    return this.page(roomId, before, limit, null);
  }

  /**
   * Who a backend acts as: an existing user, a bot (`bot:<id>`, created on
   * first use; a name given renames it, none keeps it — its id until it has
   * one), or the system.
   */
  async backendAuthor(input: { userId?: string; bot?: { id: string; name?: string } }): Promise<{ id: string; displayName: string }> {
    if (input.userId) {
      const user = await this.db.user.findUnique({ where: { id: input.userId } });
      if (!user) throw new AppError("not_found", "userId: no such user");
      return user;
    }
    const id = input.bot ? `bot:${input.bot.id}` : "system";
    const displayName = input.bot ? input.bot.name : "System";
    return this.db.user.upsert({
      where: { id },
      create: { id, username: `${id.replace(":", "_")}@bot`, displayName: displayName ?? input.bot!.id },
      update: displayName ? { displayName } : {},
    });
  }

  /** A page of history, oldest first, ending just before `before` (or at the newest). */
  async history(actor: User, { roomId, before, limit }: MessageHistory): Promise<HistoryPage> {
    await this.rooms.assertReadable(actor, roomId);
    return this.page(roomId, before, limit, actor.id);
  }

  /** A page of the room's timeline with its messages' reactions and thread summaries, and its membership lines. */
  private async page(roomId: string, before: string | undefined, limit: number, askerId: string | null): Promise<HistoryPage> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    const rows = await this.rows(roomId, before ? { lt: BigInt(before) } : {}, "desc", limit + 1);
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    const [messages, events] = await Promise.all([
      this.decorate(roomId, page, askerId),
      this.roomEvents.span(roomId, hasMore ? page[0]!.createdAt : null, before ? BigInt(before) : null),
    ]);
    return { messages, hasMore, events };
  }

  /**
   * The messages around one (a search result, a shared link), oldest first:
   * up to half of `limit` before it, it, and the rest after it (more after
   * it when fewer come before). `hasMore` says older ones exist, `hasNewer`
   * newer ones (read on with `message:newer`).
   */
  async around(actor: User, { roomId, messageId, limit }: MessageAround) {
    await this.rooms.assertReadable(actor, roomId);
    const id = BigInt(messageId);
    const half = Math.floor(limit / 2);
    const before = await this.rows(roomId, { lt: id }, "desc", half + 1);
    // Near the beginning, fewer come before it: more come after, so the page is full.
    const older = Math.min(before.length, half);
    const after = await this.rows(roomId, { gte: id }, "asc", limit - older + 1);
    if (after[0]?.id !== id) throw new AppError("not_found", "no such message in this room");
    const rows = [...before.slice(0, older).reverse(), ...after.slice(0, limit - older)];
    const [hasMore, hasNewer] = [before.length > half, after.length > limit - older];
    const [messages, events] = await Promise.all([
      this.decorate(roomId, rows, actor.id),
      this.roomEvents.span(roomId, hasMore ? rows[0]!.createdAt : null, hasNewer ? after[limit - older]!.id : null),
    ]);
    return { messages, hasMore, hasNewer, events };
  }

  /** Messages after one, oldest first (reading forward from a jump); `hasNewer` says more follow. */
  async newer(actor: User, { roomId, after, limit }: MessageNewer) {
    await this.rooms.assertReadable(actor, roomId);
    const rows = await this.rows(roomId, { gt: BigInt(after) }, "asc", limit + 1);
    const hasNewer = rows.length > limit;
    const page = rows.slice(0, limit);
    // The page before (ending at `after`) showed the events up to its first message.
    const [messages, events] = await Promise.all([
      this.decorate(roomId, page, actor.id),
      page.length === 0 ? [] : this.roomEvents.span(roomId, page[0]!.createdAt, hasNewer ? rows[limit]!.id : null),
    ]);
    return { messages, hasNewer, events };
  }

  /** The room's timeline: its messages, and the replies also sent to the room. */
  private rows(roomId: string, id: { lt?: bigint; gt?: bigint; gte?: bigint }, order: "asc" | "desc", take: number) {
    return this.db.message.findMany({
      where: { roomId, id, OR: [{ threadId: null }, { alsoInRoom: true }] },
      orderBy: { id: order },
      take,
      include: { author: { select: AUTHOR } },
    });
  }

  /**
   * Messages (oldest first) with their reactions, files, pins and, for
   * messages with replies, their thread's summary: a query each, however
   * many messages.
   */
  private async decorate(
    roomId: string,
    rows: Awaited<ReturnType<Messages["rows"]>>,
    askerId: string | null,
    { threadSummaries = true } = {},
  ): Promise<Message[]> {
    const messages = rows.map((r) => toMessage(r, r.author));
    if (rows.length === 0) return messages;
    const [first, last] = [rows[0]!.id, rows.at(-1)!.id];
    const ids = rows.map((r) => r.id);
    const [reactions, threads, files, pins] = await Promise.all([
      this.reactions.of(roomId, first, last, askerId),
      threadSummaries ? this.threadSummaries(roomId, first, last) : new Map<string, NonNullable<Message["thread"]>>(),
      this.attachments.of(roomId, ids),
      this.pins.of(roomId, ids),
    ]);
    for (const message of messages) {
      const list = reactions.get(message.id);
      if (list) message.reactions = list;
      const attached = files.get(message.id);
      if (attached) message.attachments = attached;
      const thread = threads.get(message.id);
      if (thread) message.thread = thread;
      const pin = pins.get(message.id);
      if (pin) message.pinned = pin;
    }
    return messages;
  }

  /** Reply counts and latest replies of the threads of a room's messages with ids from `first` to `last`. */
  private async threadSummaries(roomId: string, first: bigint, last: bigint): Promise<Map<string, NonNullable<Message["thread"]>>> {
    const rows = await this.db.$queryRaw<Array<{ threadId: bigint; replies: bigint; lastReplyAt: Date; authorId: string; displayName: string }>>`
      SELECT DISTINCT ON (x."threadId") x."threadId", count(*) OVER (PARTITION BY x."threadId") AS replies,
             x."createdAt" AS "lastReplyAt", x."authorId", u."displayName"
      FROM "Message" x JOIN "User" u ON u.id = x."authorId"
      WHERE x."threadId" BETWEEN ${first} AND ${last} AND x."roomId" = ${roomId}
      ORDER BY x."threadId", x.id DESC`;
    return new Map(
      rows.map((r) => [
        r.threadId.toString(),
        { replies: Number(r.replies), lastReplyAt: r.lastReplyAt.toISOString(), lastReplier: { id: r.authorId, displayName: r.displayName } },
      ]),
    );
  }

  /** Tells the room's other connections that the actor is (or stopped) typing (not a muted member: they cannot send). */
  async typing(actor: User, { roomId, typing }: Typing, connectionId?: string): Promise<void> {
    await this.rooms.assertCanWrite(actor, roomId);
    this.delivery.toRoom(roomId, "typing", [{ roomId, userId: actor.id, typing }], connectionId);
  }
}
