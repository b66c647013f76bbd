/**
 * Blocking someone: neither can write in the direct message between them,
 * the blocked person cannot open one with the blocker, and the blocker's
 * clients collapse the blocked person's messages in rooms they share (the
 * server still delivers them: whether to look is the blocker's choice). The
 * blocked person is not told. Every tab of the blocker is (`user:blocked`).
 */
import type { User } from "../../shared/protocol";
import type { UserBlockChange } from "../../shared/schemas";
import type { PrismaClient } from "../db/generated/client";
import type { Delivery } from "./delivery";
import { AppError } from "./errors";
import { toUser } from "./wire";

/** People one user may block (more is `limit_exceeded`). */
export const MAX_BLOCKS = 1000;

export class Blocks {
  constructor(
    private readonly db: PrismaClient,
    private readonly delivery: Delivery,
  ) {}

  async set(actor: User, { userId, blocked }: UserBlockChange): Promise<void> {
    if (userId === actor.id) throw new AppError("invalid_payload", "userId: you cannot block yourself");
    if (blocked) {
      if ((await this.db.user.count({ where: { id: userId } })) === 0) throw new AppError("not_found", "no such user");
      if ((await this.db.userBlock.count({ where: { userId: actor.id } })) >= MAX_BLOCKS) {
        throw new AppError("limit_exceeded", `you may block at most ${MAX_BLOCKS} people`);
      }
      const { count } = await this.db.userBlock.createMany({ data: [{ userId: actor.id, blockedId: userId }], skipDuplicates: true });
      if (count === 0) return;
    } else {
      const { count } = await this.db.userBlock.deleteMany({ where: { userId: actor.id, blockedId: userId } });
      if (count === 0) return;
    }
    this.delivery.toUser(actor.id, "user:blocked", [{ userId, blocked }]);
  }

  /** The people the actor blocks, the latest first. */
  async list(actor: User): Promise<User[]> {
    const rows = await this.db.userBlock.findMany({
      where: { userId: actor.id },
      orderBy: { createdAt: "desc" },
      include: { blocked: true },
    });
    return rows.map((r) => toUser(r.blocked));
  }
}
