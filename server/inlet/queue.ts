/**
 * The queue inlet: backends append JSON commands to a Redis stream; every
 * Switchboard instance reads it through one consumer group, and a command is
 * acknowledged only once it has an outcome.
 *
 * Each command runs once while its instance lives. An instance keeps the
 * claims on the entries it holds alive (their idle time stays far below
 * `claimIdleMs`), so however long a batch takes, the others only claim
 * entries whose consumer went away, or that wait for a retry. A command that
 * cannot run (bad JSON, unknown op, invalid fields, unknown room…) is moved to
 * `<stream>:dead` with its error instead of blocking the stream; one that
 * failed because a dependency is down is let go, claimed again after
 * `claimIdleMs`, and moved to `<stream>:dead` once it has been delivered
 * `maxAttempts` times without an outcome. A command whose instance died in
 * the middle of it may run again elsewhere (at least once, not exactly once).
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
  /** Pending commands idle this long (their consumer died, or they wait for a retry) are taken over. */
  claimIdleMs: number;
  /** Deliveries of a command without an outcome before it is moved to the dead-letter stream. */
  maxAttempts: number;
}

type Entry = { id: string; message: Record<string, string> };
/** An entry in hand; `attempt` counts its deliveries, this one included (Redis's delivery counter). */
type Delivery = Entry & { attempt: number };

/** Entries read or claimed at a time. */
const BATCH = 100;

/**
 * Resets the idle time of the entries this consumer still owns and returns
 * their ids. XCLAIM … JUSTID by the owner neither moves an entry nor counts a
 * delivery; the ownership check is in the same script because a bare XCLAIM
 * would also take back an entry another instance has claimed meanwhile (after
 * a long pause of this process), and both would run it.
 * KEYS: stream; ARGV: group, consumer, ids…
 */
const KEEP_CLAIMS = `
local kept = {}
for i = 3, #ARGV do
  if redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])[1] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept[#kept + 1] = ARGV[i]
  end
end
return kept`;

export class QueueInlet {
  private readonly client: RedisClientType;
  /** XREADGROUP blocks its connection: it gets its own. */
  private readonly reader: RedisClientType;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  /** Ids of the entries this consumer holds and has not settled: their claims are kept alive. */
  private readonly inHand = new Set<string>();
  private keepTimer: NodeJS.Timeout | undefined;
  private keeping: Promise<void> | null = null;
  /**
   * Commands handled by this instance, for tests and metrics: run, moved to
   * the dead-letter stream, and let go for a retry after failing with `unavailable`.
   */
  readonly stats = { executed: 0, deadLettered: 0, retried: 0 };

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

  /**
   * The stream's backlog for this group (every instance's): entries not yet
   * read by any consumer (`lag`, Redis ≥ 7; null when Redis cannot tell) and
   * entries read but not yet acknowledged (`pending`).
   */
  async backlog(): Promise<{ lag: number | null; pending: number }> {
    const groups = (await this.client.xInfoGroups(this.options.stream)) as unknown as Array<Record<string, unknown>>;
    const group = groups.find((g) => String(g.name) === QUEUE_GROUP);
    const lag = group?.lag;
    return { lag: typeof lag === "number" ? lag : null, pending: Number(group?.pending ?? 0) };
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
    // Four refreshes per claim interval: one late or lost refresh still leaves the claims alive.
    this.keepTimer = setInterval(() => this.keepClaims(), this.options.claimIdleMs / 4);
    this.loop = this.run();
    this.log.info({ stream: this.options.stream, consumer: this.consumer }, "queue inlet reading");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Closing the reader ends a blocked XREADGROUP at once; a batch in hand is finished first.
    this.reader.destroy();
    await this.loop;
    clearInterval(this.keepTimer);
    await this.keeping;
    await closeGracefully(this.client);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.settle(await this.claimAbandoned());
        const replies = await this.reader.xReadGroup(
          QUEUE_GROUP,
          this.consumer,
          { key: this.options.stream, id: ">" },
          // Short enough that abandoned and retried commands are claimed soon after they are due.
          { COUNT: BATCH, BLOCK: Math.min(this.options.claimIdleMs, 1000) },
        );
        const fresh = ((replies as Array<{ messages: Entry[] }> | null) ?? []).flatMap((s) => s.messages);
        await this.settle(fresh.map((entry) => ({ ...entry, attempt: 1 })));
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, "queue inlet: read failed; retrying");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Handles a batch one by one, keeping the claims on what is still to do alive. */
  private async settle(batch: Delivery[]): Promise<void> {
    for (const entry of batch) this.inHand.add(entry.id);
    try {
      // An entry no longer in hand was taken over by another instance (see keepClaims).
      for (const entry of batch) if (this.inHand.has(entry.id)) await this.handle(entry);
    } finally {
      // Whatever was not settled (Redis failed) is let go, for another delivery.
      for (const entry of batch) this.inHand.delete(entry.id);
    }
  }

  private keepClaims(): void {
    if (this.inHand.size === 0 || this.keeping) return;
    const ids = [...this.inHand];
    this.keeping = this.client
      .eval(KEEP_CLAIMS, { keys: [this.options.stream], arguments: [QUEUE_GROUP, this.consumer, ...ids] })
      .then((reply) => {
        const kept = new Set(reply as string[]);
        for (const id of ids) {
          // Still in hand but not ours any more: leave it to the instance that claimed it.
          if (!kept.has(id) && this.inHand.delete(id)) {
            this.log.warn({ id }, "queue inlet: another instance took over a command this one held");
          }
        }
      })
      .catch((err: unknown) => this.log.warn({ err }, "queue inlet: could not keep claims alive"))
      .finally(() => (this.keeping = null));
  }

  /**
   * Claims commands pending for at least `claimIdleMs`: their consumer went
   * away, or they were let go after failing with `unavailable`.
   */
  private async claimAbandoned(): Promise<Delivery[]> {
    const now = Date.now();
    if (now - this.lastClaim < Math.min(this.options.claimIdleMs, 5000)) return [];
    this.lastClaim = now;
    const { stream, claimIdleMs } = this.options;
    const due = await this.client.xPendingRange(stream, QUEUE_GROUP, "-", "+", BATCH, { IDLE: claimIdleMs });
    if (due.length === 0) return [];
    const delivered = new Map(due.map((p) => [p.id, p.deliveriesCounter]));
    // XCLAIM checks the idle time again, atomically: of two instances claiming an entry, one gets it.
    const claimed = await this.client.xClaim(stream, QUEUE_GROUP, this.consumer, claimIdleMs, [...delivered.keys()]);
    return claimed
      .filter((entry): entry is NonNullable<typeof entry> => entry !== null)
      .map((entry) => ({ ...(entry as Entry), attempt: (delivered.get(entry.id) ?? 0) + 1 }));
  }

  private async handle(entry: Delivery): Promise<void> {
    const { maxAttempts } = this.options;
    if (entry.attempt > maxAttempts) {
      // Delivered maxAttempts times and never settled: each time its instance
      // stopped in the middle (perhaps because of this very command). Not run again.
      await this.deadLetter(
        entry,
        new AppError("internal", `gave up after ${entry.attempt - 1} attempts: none of them finished`),
      );
      return;
    }
    try {
      await this.execute(entry.message.command);
    } catch (err) {
      const { error, isBug } = toAppError(err);
      if (error.code !== "unavailable") {
        if (isBug) this.log.error({ id: entry.id, err }, "queue inlet: command failed");
        await this.deadLetter(entry, error);
      } else if (entry.attempt >= maxAttempts) {
        this.log.warn({ id: entry.id, attempt: entry.attempt, err }, "queue inlet: command given up");
        await this.deadLetter(entry, new AppError("unavailable", `gave up after ${entry.attempt} attempts: ${error.message}`));
      } else {
        // Let go, still pending: once idle for claimIdleMs an instance claims it again (a delivery more).
        this.inHand.delete(entry.id);
        this.stats.retried += 1;
        this.log.warn({ id: entry.id, attempt: entry.attempt, err }, "queue inlet: command postponed");
      }
      return;
    }
    this.stats.executed += 1;
    await this.acknowledge(entry.id);
    this.inHand.delete(entry.id);
  }

  /**
   * Acknowledges a command that ran. Until Redis has taken the XACK the
   * command stays in hand (its claim kept alive), so a Redis blip cannot let
   * another instance claim it and run it again; only stopping gives up.
   */
  private async acknowledge(id: string): Promise<void> {
    for (;;) {
      // Only while connected: a command sent to a Redis that is away waits for it, and stopping must not.
      if (this.client.isReady) {
        try {
          await this.client.xAck(this.options.stream, QUEUE_GROUP, id);
          return;
        } catch (err) {
          this.log.warn({ id, err }, "queue inlet: could not acknowledge a command that ran; retrying");
        }
      }
      // Stopping during an outage: left pending, another instance will run it again.
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async deadLetter(entry: Entry, error: AppError): Promise<void> {
    this.inHand.delete(entry.id);
    // One transaction: the command lands in the dead-letter stream once, acknowledged.
    await this.client
      .multi()
      .xAdd(this.deadLetterStream, "*", {
        id: entry.id,
        command: entry.message.command ?? "",
        code: error.code,
        error: error.message,
      })
      .xAck(this.options.stream, QUEUE_GROUP, entry.id)
      .exec();
    this.stats.deadLettered += 1;
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
    if (!spec) throw new AppError("invalid_payload", `unknown op ${describeOp(op)}`);
    await this.core.gateway.run(spec.name, parseInput(spec.schema, fields));
  }
}

/**
 * The `op` of a command that has none we know, for its error: a string
 * quoted (cut at 100 characters), anything else by its type. Not
 * `JSON.stringify`: a value nested a few thousand levels deep overflows its
 * stack, and the command went to the dead-letter stream as `internal`.
 */
function describeOp(op: unknown): string {
  if (typeof op === "string") return JSON.stringify(op.length > 100 ? `${op.slice(0, 100)}…` : op);
  if (op === undefined) return "(none)";
  if (op === null) return "null";
  return Array.isArray(op) ? "(an array)" : `(a ${typeof op})`;
}
