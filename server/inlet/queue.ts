/**
 * The queue inlet (seed 000): backends append JSON commands to a Redis
 * stream; every Switchboard instance reads it through one consumer group, so
 * each command runs on exactly one instance, and is acknowledged only after
 * it ran. A command that cannot run (bad JSON, unknown op, invalid fields,
 * unknown room…) is moved to `<stream>:dead` with its error instead of
 * blocking the stream; one that failed because a dependency is down stays
 * pending and is retried. Commands of a consumer that died are claimed by
 * the others after `claimIdleMs`.
 *
 * A transport like the HTTP routes: decode, call the core, record the result.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { createClient, type RedisClientType } from "redis";
import type { Core } from "../core";
import { AppError, parseInput, toAppError } from "../core/errors";
import type { Logger } from "../logger";
import { closeGracefully } from "../scale/redis";
import { queueCommands } from "./commands";

export const QUEUE_GROUP = "switchboard";

export interface QueueInletOptions {
  redisUrl: string;
  stream: string;
  /** Pending commands idle this long (their consumer died) are taken over. */
  claimIdleMs: number;
}

type Entry = { id: string; message: Record<string, string> };

export class QueueInlet {
  private readonly client: RedisClientType;
  /** XREADGROUP blocks its connection: it gets its own. */
  private readonly reader: RedisClientType;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  /** Commands handled by this instance, for tests and metrics. */
  readonly stats = { executed: 0, deadLettered: 0 };

  constructor(
    private readonly core: Core,
    private readonly log: Logger,
    private readonly options: QueueInletOptions,
  ) {
    this.client = createClient({ url: options.redisUrl });
    this.reader = this.client.duplicate();
    for (const c of [this.client, this.reader]) {
      // node-redis reconnects by itself; errors are reported here instead of crashing.
      c.on("error", (err: Error) => this.log.warn({ err: err.message }, "queue inlet: redis error"));
    }
  }

  get deadLetterStream(): string {
    return `${this.options.stream}:dead`;
  }

  async start(): Promise<void> {
    await Promise.all([this.client.connect(), this.reader.connect()]);
    try {
      // "0": commands appended before the group existed run too.
      await this.client.xGroupCreate(this.options.stream, QUEUE_GROUP, "0", { MKSTREAM: true });
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
    this.loop = this.run();
    this.log.info({ stream: this.options.stream, consumer: this.consumer }, "queue inlet reading");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Closing the reader ends a blocked XREADGROUP at once.
    this.reader.destroy();
    await this.loop;
    await closeGracefully(this.client);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.claimAbandoned();
        const replies = await this.reader.xReadGroup(
          QUEUE_GROUP,
          this.consumer,
          { key: this.options.stream, id: ">" },
          { COUNT: 100, BLOCK: 1000 },
        );
        for (const stream of (replies as Array<{ messages: Entry[] }> | null) ?? []) {
          for (const entry of stream.messages) await this.handle(entry);
        }
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, "queue inlet: read failed; retrying");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Takes over commands left pending by a consumer that went away. */
  private async claimAbandoned(): Promise<void> {
    const now = Date.now();
    if (now - this.lastClaim < Math.min(this.options.claimIdleMs, 5000)) return;
    this.lastClaim = now;
    const { messages } = await this.client.xAutoClaim(
      this.options.stream,
      QUEUE_GROUP,
      this.consumer,
      this.options.claimIdleMs,
      "0-0",
      { COUNT: 100 },
    );
    for (const entry of messages) if (entry) await this.handle(entry as Entry);
  }

  private async handle(entry: Entry): Promise<void> {
    const raw = entry.message.command;
    try {
      await this.execute(raw);
      this.stats.executed += 1;
    } catch (err) {
      const { error, isBug } = toAppError(err);
      if (error.code === "unavailable") {
        // Leave it pending: it is retried once the dependency is back.
        this.log.warn({ id: entry.id, err }, "queue inlet: command postponed");
        return;
      }
      if (isBug) this.log.error({ id: entry.id, err }, "queue inlet: command failed");
      await this.client.xAdd(this.deadLetterStream, "*", {
        id: entry.id,
        command: raw ?? "",
        code: error.code,
        error: error.message,
      });
      this.stats.deadLettered += 1;
    }
    await this.client.xAck(this.options.stream, QUEUE_GROUP, entry.id);
  }

  private async execute(raw: string | undefined): Promise<void> {
    if (raw === undefined) throw new AppError("invalid_payload", "the entry needs a `command` field holding JSON");
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new AppError("invalid_payload", "`command` is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new AppError("invalid_payload", "a command is a JSON object with an `op`");
    }
    const { op, ...fields } = parsed as { op?: unknown };
    const spec = typeof op === "string" && Object.hasOwn(queueCommands, op) ? queueCommands[op] : undefined;
    if (!spec) throw new AppError("invalid_payload", `unknown op ${JSON.stringify(op)}`);
    await spec.run(this.core, parseInput(spec.schema, fields));
  }
}
