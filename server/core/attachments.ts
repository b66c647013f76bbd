/**
 * Files in rooms. A file is uploaded into a room first (streamed into the
 * file store as it arrives) and waits there for its uploader's message:
 * `message:send` with `attachmentIds` carries it, and from then on whoever may
 * read the room may download it. Deleting the message deletes its files;
 * uploads no message carried within a day are swept away.
 */
import { randomUUID } from "node:crypto";
import type { Attachment, User } from "../../shared/protocol";
import type { PrismaClient } from "../db/generated/client";
import { type FileStore, fromBuffer } from "../files/store";
import { type Images, mayBeImage } from "../files/images";
import { AppError } from "./errors";
import type { Rooms } from "./rooms";

export interface UploadLimits {
  /** Largest file, in bytes. */
  maxBytes: number;
  /** MIME types accepted, as patterns: `image/png`, `image/*`, `*` + `/*` for any. */
  allowedTypes: string[];
}

/** Uploads one person may have waiting for a message at once (Slack's composer holds 10 files). */
export const MAX_WAITING_UPLOADS = 50;
/** Uploads no message carried are swept after this long. */
export const WAITING_UPLOAD_TTL_MS = 24 * 3600 * 1000;

/** What an upload says of itself: its name and type (from the request), its length if known. */
export interface UploadMeta {
  name: string;
  type: string;
  /** `Content-Length`, when the request gives one: too large is refused before a byte is read. */
  length?: number;
}

/** A file to send: its bytes in order, and how to describe it. */
export interface Download {
  name: string;
  type: string;
  size: number;
  /** Whether a browser may show it in the page (an image the server read, a thumbnail). */
  inline: boolean;
  body: AsyncIterable<Buffer>;
}

type Row = { id: string; name: string; type: string; size: number; width: number | null; height: number | null };

export class Attachments {
  constructor(
    private readonly db: PrismaClient,
    private readonly store: FileStore,
    private readonly images: Images,
    private readonly rooms: Rooms,
    readonly limits: UploadLimits,
  ) {}

  /** A member (not muted there) uploads a file into a room; it waits there for their message. */
  async upload(actor: User, roomId: string, meta: UploadMeta, body: AsyncIterable<Buffer>): Promise<Attachment> {
    await this.rooms.assertCanWrite(actor, roomId);
    return this.receive(actor.id, roomId, meta, body);
  }

  /** A backend uploads as a user, a bot or the system (whoever then posts the message). */
  async uploadForBackend(authorId: string, roomId: string, meta: UploadMeta, body: AsyncIterable<Buffer>): Promise<Attachment> {
    if ((await this.db.room.count({ where: { id: roomId } })) === 0) throw new AppError("not_found", "no such room");
    return this.receive(authorId, roomId, meta, body);
  }

  private async receive(uploaderId: string, roomId: string, meta: UploadMeta, body: AsyncIterable<Buffer>): Promise<Attachment> {
    if (!this.allowed(meta.type)) {
      throw new AppError("unsupported_media_type", `files of type ${meta.type} are not accepted here (allowed: ${this.limits.allowedTypes.join(", ")})`);
    }
    if (meta.length !== undefined && meta.length > this.limits.maxBytes) throw this.tooLarge();
    const waiting = await this.db.attachment.count({ where: { uploaderId, messageId: null } });
    if (waiting >= MAX_WAITING_UPLOADS) {
      throw new AppError("limit_exceeded", `at most ${MAX_WAITING_UPLOADS} uploads may wait to be sent; send or drop some first`);
    }
    const id = randomUUID();
    // The row first: if this process dies mid-upload, the sweep finds the row and deletes the bytes.
    await this.db.attachment.create({ data: { id, roomId, uploaderId, name: meta.name, type: meta.type } });
    try {
      const size = await this.store.put(id, capped(body, this.limits.maxBytes, () => this.tooLarge()));
      const image = mayBeImage(meta.type) ? await this.images.thumbnail(this.store.get(id)) : null;
      if (image) await this.store.put(thumbKey(id), fromBuffer(image.data));
      const row = await this.db.attachment.update({
        where: { id },
        data: { size, complete: true, ...(image ? { type: image.type, width: image.width, height: image.height } : {}) },
      });
      return toAttachment(row);
    } catch (err) {
      await this.discard([id]);
      throw err;
    }
  }

  /**
   * Checks, before a message is stored, that each upload is its author's,
   * in this room, complete and not sent yet; `not_found` otherwise.
   */
  async assertSendable(authorId: string, roomId: string, ids: string[]): Promise<void> {
    const found = await this.db.attachment.count({ where: { id: { in: ids }, uploaderId: authorId, roomId, messageId: null, complete: true } });
    if (found !== ids.length) throw new AppError("not_found", "attachmentIds: no such upload of yours waiting in this room");
  }

  /** Gives the uploads to a just-stored message; returns them in the order given. */
  async attach(messageId: bigint, authorId: string, roomId: string, ids: string[]): Promise<Attachment[]> {
    // Only uploads still waiting: the same upload sent twice at once goes with one message.
    await this.db.attachment.updateMany({ where: { id: { in: ids }, uploaderId: authorId, roomId, messageId: null, complete: true }, data: { messageId } });
    const byId = new Map((await this.db.attachment.findMany({ where: { id: { in: ids }, messageId } })).map((r) => [r.id, r]));
    return ids.flatMap((id) => (byId.has(id) ? [toAttachment(byId.get(id)!)] : []));
  }

  /** The files of these messages of one room, by message id, each list in upload order. */
  async of(roomId: string, messageIds: bigint[]): Promise<Map<string, Attachment[]>> {
    const result = new Map<string, Attachment[]>();
    if (messageIds.length === 0) return result;
    const rows = await this.db.attachment.findMany({
      where: { roomId, messageId: { in: messageIds } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    for (const row of rows) {
      const key = row.messageId!.toString();
      const list = result.get(key);
      if (list) list.push(toAttachment(row));
      else result.set(key, [toAttachment(row)]);
    }
    return result;
  }

  /** Deletes every file of a room (the room is being deleted). */
  async discardRoom(roomId: string): Promise<void> {
    for (;;) {
      const rows = await this.db.attachment.findMany({ where: { roomId }, select: { id: true }, take: 500 });
      if (rows.length === 0) return;
      await this.discard(rows.map((r) => r.id));
    }
  }

  /** Deletes a message's files (the message was deleted). */
  async deleteOf(messageId: bigint): Promise<void> {
    const rows = await this.db.attachment.findMany({ where: { messageId }, select: { id: true } });
    await this.discard(rows.map((r) => r.id));
  }

  /**
   * A file (or its thumbnail) for someone who may read its room; an upload
   * not yet sent only for its uploader. Anything else is `not_found`, as if
   * there were no such file.
   */
  async open(actor: User, id: string, thumbnail: boolean): Promise<Download> {
    const row = await this.findComplete(id);
    const readable =
      row !== null &&
      (row.messageId === null
        ? row.uploaderId === actor.id
        : await this.rooms.assertReadable(actor, row.roomId).then(
            () => true,
            () => false,
          ));
    if (!row || !readable) throw noSuchFile();
    return this.download(row, thumbnail);
  }

  /** A backend reads any sent file. */
  async openForBackend(id: string, thumbnail: boolean): Promise<Download> {
    const row = await this.findComplete(id);
    if (!row || row.messageId === null) throw noSuchFile();
    return this.download(row, thumbnail);
  }

  /** Deletes uploads that no message carried within {@link WAITING_UPLOAD_TTL_MS}; returns how many. */
  async sweep(now = new Date()): Promise<number> {
    const rows = await this.db.attachment.findMany({
      where: { messageId: null, createdAt: { lt: new Date(now.getTime() - WAITING_UPLOAD_TTL_MS) } },
      select: { id: true },
      take: 1000,
    });
    await this.discard(rows.map((r) => r.id));
    return rows.length;
  }

  private async findComplete(id: string) {
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    return this.db.attachment.findFirst({ where: { id, complete: true } });
  }

  private async download(row: Row, thumbnail: boolean): Promise<Download> {
    const image = row.width !== null;
    if (thumbnail) {
      if (!image) throw new AppError("not_found", "this file has no thumbnail");
      const chunks: Buffer[] = [];
      for await (const chunk of this.store.get(thumbKey(row.id))) chunks.push(chunk);
      const data = Buffer.concat(chunks);
      return { name: row.name, type: thumbnailType(data), size: data.length, inline: true, body: fromBuffer(data) };
    }
    return { name: row.name, type: row.type, size: row.size, inline: image, body: this.store.get(row.id) };
  }

  /** Removes uploads' rows, then their bytes. */
  private async discard(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.attachment.deleteMany({ where: { id: { in: ids } } });
    await this.store.delete(ids.flatMap((id) => [id, thumbKey(id)]));
  }

  private allowed(type: string): boolean {
    const [major] = type.split("/");
    return this.limits.allowedTypes.some((p) => p === "*/*" || p === type || p === `${major}/*`);
  }

  private tooLarge(): AppError {
    return new AppError("too_large", `files may be at most ${formatBytes(this.limits.maxBytes)}`);
  }
}

export function toAttachment(row: Row): Attachment {
  const attachment: Attachment = { id: row.id, name: row.name, type: row.type, size: row.size };
  if (row.width !== null && row.height !== null) attachment.image = { width: row.width, height: row.height };
  return attachment;
}

function thumbKey(id: string): string {
  return `${id}.thumb`;
}

/** Thumbnails are JPEG, or PNG where the image has transparency. */
function thumbnailType(data: Buffer): string {
  return data[0] === 0x89 && data[1] === 0x50 ? "image/png" : "image/jpeg";
}

function noSuchFile(): AppError {
  return new AppError("not_found", "no such file");
}

/** Passes `source` on, failing with `tooLarge()` once more than `max` bytes came. */
async function* capped(source: AsyncIterable<Buffer>, max: number, tooLarge: () => Error): AsyncIterable<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > max) throw tooLarge();
    yield chunk;
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
