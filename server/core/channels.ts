/**
 * Channels of the non-chat namespaces: the rules each namespace's settings
 * set (which names exist, how many channels a connection may hold, who may
 * publish, ask presence or read history), and what clients and backends
 * publish, kept as history where the settings say so.
 */
import type { ChannelHistory, ChannelPresence, Publication } from "../../shared/channels";
import { isMessageId } from "../../shared/schemas";
import type { Prisma, PrismaClient } from "../db/generated/client";
import type { Connections } from "./connections";
import { AppError } from "./errors";
import { pageOf } from "./paging";

/** How one namespace's channels behave: its settings from the config file. */
export interface ChannelRules {
  clientPublish: boolean;
  presence: boolean;
  history: boolean;
  maxChannelsPerConnection: number;
  /** A regular expression channel names must match as a whole, if set. */
  channelPattern?: string | undefined;
}

/** A connection as the channel operations see it (the Socket.IO transport implements it over a socket). */
export interface Subscriber {
  /** Its client id. */
  id: string;
  userId: string | null;
  /** The channels it is subscribed to. */
  channels(): string[];
  join(channel: string): Promise<void> | void;
  leave(channel: string): Promise<void> | void;
}

type Rules = ChannelRules & { pattern: RegExp | null };

export class Channels {
  private readonly rules: Map<string, Rules>;

  constructor(
    private readonly db: PrismaClient,
    private readonly connections: Connections,
    /** The rules of each namespace that has channels (the chat namespace has none). */
    rules: Record<string, ChannelRules>,
  ) {
    this.rules = new Map(
      Object.entries(rules).map(([namespace, r]) => [
        namespace,
        { ...r, pattern: r.channelPattern ? new RegExp(`^(?:${r.channelPattern})$`, "u") : null },
      ]),
    );
  }

  /** Subscribes a connection, if the name is allowed and it holds fewer channels than the namespace's limit. */
  async subscribe(namespace: string, subscriber: Subscriber, { channel }: { channel: string }): Promise<Record<string, never>> {
    const rules = this.allowed(namespace, channel);
    const held = subscriber.channels();
    if (!held.includes(channel) && held.length >= rules.maxChannelsPerConnection) {
      throw new AppError("limit_exceeded", `at most ${rules.maxChannelsPerConnection} channels per connection: unsubscribe from one first`);
    }
    await subscriber.join(channel);
    return {};
  }

  async unsubscribe(namespace: string, subscriber: Subscriber, { channel }: { channel: string }): Promise<Record<string, never>> {
    this.rulesOf(namespace);
    await subscriber.leave(channel);
    return {};
  }

  /** A client's publication: where the namespace lets clients publish, to a channel it is subscribed to. */
  async publishFrom(
    namespace: string,
    subscriber: Subscriber,
    { channel, data }: { channel: string; data?: unknown },
  ): Promise<{ publication: Publication }> {
    if (!this.rulesOf(namespace).clientPublish) throw new AppError("forbidden", "clients may not publish in this namespace");
    this.requireSubscribed(namespace, subscriber, channel);
    const from = { clientId: subscriber.id, userId: subscriber.userId };
    let publication: Publication = { channel, data: data ?? null, ...from, createdAt: new Date().toISOString() };
    if (this.keepsHistory(namespace)) {
      const row = await this.db.publication.create({
        data: { namespace, channel, data: (data ?? null) as Prisma.InputJsonValue, ...from },
      });
      publication = { id: row.id.toString(), ...publication, createdAt: row.createdAt.toISOString() };
    }
    this.connections.emit(namespace, { channels: [channel] }, "publication", publication);
    return { publication };
  }

  /** Stores what a backend sent to a channel, where the namespace keeps history (no delivery: the caller did it). */
  async record(namespace: string, channel: string, data: unknown): Promise<void> {
    if (!this.keepsHistory(namespace)) return;
    await this.db.publication.create({
      data: { namespace, channel, data: data as Prisma.InputJsonValue, clientId: null, userId: null },
    });
  }

  /** A page of the connections subscribed to a channel, on every instance, by client id; for its subscribers. */
  async presence(
    namespace: string,
    subscriber: Subscriber,
    { channel, limit, after }: ChannelPresence,
  ): Promise<{ clients: Array<{ clientId: string; userId: string | null }>; nextCursor?: string }> {
    if (!this.rulesOf(namespace).presence) throw new AppError("forbidden", "presence is not tracked in this namespace");
    this.requireSubscribed(namespace, subscriber, channel);
    const subscribers = await this.connections.find(namespace, { channel });
    const { items, nextCursor } = pageOf(subscribers, (c) => c.id, { limit, after });
    return { clients: items.map((c) => ({ clientId: c.id, userId: c.userId })), ...(nextCursor ? { nextCursor } : {}) };
  }

  /** A page of a channel's history, oldest first (`before`: an id from a previous page); for its subscribers. */
  async history(
    namespace: string,
    subscriber: Subscriber,
    { channel, before, limit }: ChannelHistory,
  ): Promise<{ publications: Publication[]; hasMore: boolean }> {
    this.requireSubscribed(namespace, subscriber, channel);
    if (!this.keepsHistory(namespace)) throw new AppError("forbidden", "this namespace keeps no history");
    // The schema checks the digits; an id past the database's bigint would fail the query as `internal`.
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

  private rulesOf(namespace: string): Rules {
    const rules = this.rules.get(namespace);
    if (!rules) throw new AppError("not_found", `namespace "${namespace}" has no channels`);
    return rules;
  }

  /** The namespace's rules, if the channel's name is allowed there. */
  private allowed(namespace: string, channel: string): Rules {
    const rules = this.rulesOf(namespace);
    if (rules.pattern && !rules.pattern.test(channel)) {
      throw new AppError("invalid_payload", `channel: "${channel}" is not a channel of ${namespace}`);
    }
    return rules;
  }

  /** History, presence and publishing are for the channel's subscribers. */
  private requireSubscribed(namespace: string, subscriber: Subscriber, channel: string): void {
    this.allowed(namespace, channel);
    if (!subscriber.channels().includes(channel)) throw new AppError("forbidden", "subscribe to the channel first");
  }

  private keepsHistory(namespace: string): boolean {
    return this.rules.get(namespace)?.history ?? false;
  }
}
