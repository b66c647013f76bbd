/**
 * Channels of the non-chat namespaces: what clients and backends publish,
 * kept as history where the namespace's settings say so.
 */
import { isMessageId } from "../../shared/schemas";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { ClientInfo } from "../../shared/gateway";
import type { Connections } from "./connections";
import { AppError } from "./errors";
import { pageOf } from "./paging";

export interface Publication {
  /** Present when the namespace keeps history: ascending, for paging. */
  id?: string;
  channel: string;
  data: unknown;
  clientId: string | null;
  userId: string | null;
  createdAt: string;
}

export class Channels {
  constructor(
    private readonly db: PrismaClient,
    private readonly connections: Connections,
    /** Namespaces whose channels keep history. */
    private readonly withHistory: ReadonlySet<string>,
  ) {}

  /** Stores (if the namespace keeps history) and delivers a publication to the channel's subscribers. */
  async publish(
    namespace: string,
    channel: string,
    data: unknown,
    from: { clientId: string | null; userId: string | null },
  ): Promise<Publication> {
    let publication: Publication = { channel, data, ...from, createdAt: new Date().toISOString() };
    if (this.withHistory.has(namespace)) {
      const row = await this.db.publication.create({
        data: { namespace, channel, data: (data ?? null) as Prisma.InputJsonValue, ...from },
      });
      publication = { id: row.id.toString(), ...publication, createdAt: row.createdAt.toISOString() };
    }
    this.connections.emit(namespace, { channels: [channel] }, "publication", publication);
    return publication;
  }

  /** Stores what a backend sent to a channel, where the namespace keeps history (no delivery: the caller did it). */
  async record(namespace: string, channel: string, data: unknown): Promise<void> {
    if (!this.withHistory.has(namespace)) return;
    await this.db.publication.create({
      data: { namespace, channel, data: data as Prisma.InputJsonValue, clientId: null, userId: null },
    });
  }

  /** A page of the connections subscribed to a channel, on every instance, by connection id. */
  async presence(
    namespace: string,
    channel: string,
    page: { limit: number; after?: string | undefined },
  ): Promise<{ clients: Array<{ clientId: string; userId: ClientInfo["userId"] }>; nextCursor?: string }> {
    const subscribers = await this.connections.find(namespace, { channel });
    const { items, nextCursor } = pageOf(subscribers, (c) => c.id, page);
    return { clients: items.map((c) => ({ clientId: c.id, userId: c.userId })), ...(nextCursor ? { nextCursor } : {}) };
  }

  /** A page of a channel's history, oldest first (`before`: an id from a previous page). */
  async history(
    namespace: string,
    channel: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ publications: Publication[]; hasMore: boolean }> {
    if (!this.withHistory.has(namespace)) throw new AppError("forbidden", "this namespace keeps no history");
    // Transports check the digits; an id past the database's bigint would fail the query as `internal`.
    if (before !== undefined && !isMessageId(before)) throw new AppError("invalid_payload", "before: expected a publication id");
    const rows = await this.db.publication.findMany({
      where: { namespace, channel, ...(before ? { id: { lt: BigInt(before) } } : {}) },
      orderBy: { id: "desc" },
      take: limit + 1,
    });
    const page = rows.slice(0, limit).reverse();
    return {
      publications: page.map((r) => ({
        id: r.id.toString(),
        channel: r.channel,
        data: r.data,
        clientId: r.clientId,
        userId: r.userId,
        createdAt: r.createdAt.toISOString(),
      })),
      hasMore: rows.length > limit,
    };
  }
}
