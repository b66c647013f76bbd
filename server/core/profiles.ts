/**
 * How people show: their display name and their picture. A change goes at
 * once to everyone who shares a room with them and to their own tabs
 * (`user:updated`), and their open connections carry the new profile from
 * then on (their next messages show it).
 */
import { randomUUID } from "node:crypto";
import type { User } from "../../shared/protocol";
import type { ProfileUpdate } from "../../shared/schemas";
import type { PrismaClient } from "../db/generated/client";
import type { Crop, Images } from "../files/images";
import { type FileStore, fromBuffer } from "../files/store";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import type { PresenceStore } from "./presence";
import type { Rooms } from "./rooms";
import { toUser } from "./wire";

/** Largest picture one may upload as a profile picture (it is cut down to 256×256). */
export const MAX_AVATAR_BYTES = 5 * 1024 * 1024;
const AVATAR_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"];

export class Profiles {
  constructor(
    private readonly db: PrismaClient,
    private readonly store: FileStore,
    private readonly images: Images,
    private readonly rooms: Rooms,
    private readonly delivery: Delivery,
    private readonly presence: PresenceStore,
  ) {}

  /** One person, and whether they are online now. */
  async get(userId: string): Promise<{ user: User; online: boolean }> {
    const row = await this.db.user.findUnique({ where: { id: userId } });
    if (!row) throw new AppError("not_found", "no such user");
    const online = await this.presence.online([userId]);
    return { user: toUser(row), online: online.has(userId) };
  }

  /** Changes the actor's display name. */
  async update(actor: User, { displayName }: ProfileUpdate): Promise<User> {
    const row = await this.db.user.update({ where: { id: actor.id }, data: { displayName } });
    return this.changed(toUser(row));
  }

  /**
   * Makes an uploaded image the actor's picture: the square `crop` of it (in
   * the upright picture's pixels), or its middle square. The previous picture
   * is deleted.
   */
  async setAvatar(actor: User, type: string, body: AsyncIterable<Buffer>, crop: Crop | null, declaredLength?: number): Promise<User> {
    if (!AVATAR_TYPES.includes(type)) throw new AppError("unsupported_media_type", "a profile picture is a JPEG, PNG, GIF, WebP or AVIF image");
    // Refused before a byte is read when the request says how long it is.
    if (declaredLength !== undefined && declaredLength > MAX_AVATAR_BYTES) throw new AppError("too_large", "a profile picture may be at most 5 MB");
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body) {
      length += chunk.length;
      if (length > MAX_AVATAR_BYTES) throw new AppError("too_large", "a profile picture may be at most 5 MB");
      chunks.push(chunk);
    }
    let picture: Awaited<ReturnType<Images["avatar"]>>;
    try {
      picture = await this.images.avatar(Buffer.concat(chunks, length), crop);
    } catch (err) {
      if (err instanceof RangeError) throw new AppError("invalid_payload", err.message);
      throw err;
    }
    if (!picture) throw new AppError("unsupported_media_type", "this is not an image that can be read");
    const key = `avatar-${randomUUID()}`;
    await this.store.put(key, fromBuffer(picture.data));
    try {
      return await this.replaceAvatar(actor.id, key);
    } catch (err) {
      await this.store.delete([key]).catch(() => {});
      throw err;
    }
  }

  /** Back to initials. */
  clearAvatar(actor: User): Promise<User> {
    return this.replaceAvatar(actor.id, null);
  }

  /** A profile picture by its key (anyone with its URL may see it: the key is not guessable). */
  async avatar(key: string): Promise<Buffer> {
    if (!/^avatar-[0-9a-f-]{36}$/.test(key)) throw new AppError("not_found", "no such picture");
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.store.get(key)) chunks.push(chunk);
    } catch {
      throw new AppError("not_found", "no such picture");
    }
    if (chunks.length === 0) throw new AppError("not_found", "no such picture");
    return Buffer.concat(chunks);
  }

  /**
   * Sets the picture and deletes the one it replaced. Compare-and-set: of two
   * changes at once (two tabs), each deletes exactly the picture it replaced,
   * so none is left stored (and served) unreferenced.
   */
  private async replaceAvatar(userId: string, key: string | null): Promise<User> {
    for (;;) {
      const before = await this.db.user.findUniqueOrThrow({ where: { id: userId } });
      const { count } = await this.db.user.updateMany({ where: { id: userId, avatarKey: before.avatarKey }, data: { avatarKey: key } });
      if (count === 0) continue; // changed meanwhile: read it again
      if (before.avatarKey && before.avatarKey !== key) await this.store.delete([before.avatarKey]);
      return this.changed(toUser({ ...before, avatarKey: key }));
    }
  }

  /** Tells everyone who sees this person, and their connections, who they now are. */
  private async changed(user: User): Promise<User> {
    this.delivery.userChanged(user);
    this.delivery.toRooms(await this.rooms.idsOf(user.id), "user:updated", [user], [user.id]);
    return user;
  }
}
