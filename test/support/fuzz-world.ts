/**
 * The fuzz suite's world (test/fuzz.test.ts): servers booted one after the
 * other on one database, the fuzzer's connections (reconnected whenever the
 * server closes one), a canary user whose data and deliveries must never
 * change because of the fuzzer, and the checks every answer must pass.
 */
import { dmKeyOf } from "../../server/core/rooms";
import { connect as tcpConnect } from "node:net";
import { Encoder, PacketType } from "socket.io-parser";
import { io, type Socket } from "socket.io-client";
import type { Config } from "../../server/config";
import { AppError } from "../../server/core/errors";
import { createLogger } from "../../server/logger";
import { startSwitchboard, type Switchboard } from "../../server/server";
import { ERROR_CODES, type ErrorCode } from "../../shared/errors";
import type { Message, Room, RoomSummary, User } from "../../shared/protocol";
import { api, register } from "./clients";
import { jsonText, materialize, objectSafe, type World } from "./fuzz-values";
import { testConfig, type TestServer } from "./server";

export type RunningServer = Switchboard & { config: Config };

/**
 * Starts another server on the data of `base` (stopped first by the caller):
 * the same database and secret, so users, rooms and tokens carry over, with
 * other settings. Without `generous`, the per-address limits are the defaults.
 */
export async function bootOnData(base: TestServer, env: Record<string, string>, { generous = true } = {}): Promise<RunningServer> {
  const config = testConfig(
    { DATA_DIR: base.config.dataDir, ...(base.config.databaseUrl ? { DATABASE_URL: base.config.databaseUrl } : {}), ...env },
    { generous },
  );
  const server = await startSwitchboard(config, createLogger(config.logLevel));
  return { ...server, config };
}

// ---- what every answer must be ----

const CODES = new Set<string>(ERROR_CODES);

/** What is wrong with an error body, or null: a catalogue code that is not `internal`, a message, `retryAfter` with `rate_limited`. */
export function errorProblem(error: unknown): string | null {
  if (typeof error !== "object" || error === null) return "the error is not an object";
  const { code, message, retryAfter } = error as { code?: unknown; message?: unknown; retryAfter?: unknown };
  if (typeof code !== "string") return "the error has no code";
  if (!CODES.has(code)) return `code "${code}" is not in the catalogue`;
  if (code === "internal") return "internal error";
  if (typeof message !== "string") return "the error has no message";
  if (code === "rate_limited" && typeof retryAfter !== "number") return "rate_limited without retryAfter";
  return null;
}

/** What is wrong with an acknowledgement, or null: `{ok: true, …}` or `{ok: false, error}` with a good error. */
export function answerProblem(answer: unknown): string | null {
  if (typeof answer !== "object" || answer === null) return "the answer is not an object";
  const { ok, error } = answer as { ok?: unknown; error?: unknown };
  if (ok === true) return null;
  if (ok !== false) return "the answer is neither ok nor an error";
  return errorProblem(error);
}

/** What is wrong with an HTTP answer, or null: 2xx, or 4xx with `{error}` whose code maps to that status. */
export function httpProblem(status: number, body: unknown): string | null {
  if (status >= 200 && status < 300) return null;
  if (status < 400 || status >= 500) return `status ${status}`;
  const error = (body as { error?: unknown } | null)?.error;
  const problem = errorProblem(error);
  if (problem) return problem;
  const code = (error as { code: ErrorCode }).code;
  const expected = new AppError(code, "").status;
  return expected === status ? null : `code ${code} answered with ${status}, not ${expected}`;
}

export function fail(problem: string, detail: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(detail)?.slice(0, 2000) ?? String(detail);
  } catch {
    shown = String(detail);
  }
  throw new Error(`${problem}: ${shown}`);
}

// ---- raw HTTP (uploads: headers and framing no HTTP client library would send) ----

export type RawOutcome =
  | { kind: "answer"; status: number; headers: Record<string, string>; body: Buffer }
  /** The server closed the connection without a complete answer. */
  | { kind: "closed"; error?: string }
  /** No answer in time (the connection is then closed). */
  | { kind: "timeout" };

/**
 * Sends one request over a fresh TCP connection, byte for byte as given (the
 * head as latin1, then the body's pieces), and reads the first complete
 * answer (1xx answers skipped). The connection is never half-closed: Node
 * drops a request whose client ends its side.
 */
export function rawExchange(port: number, head: string, body: Buffer[], waitMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let settled = false;
    const done = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ kind: "timeout" }), waitMs);
    /** The answer in `received`, once complete (`atEnd`: the connection has ended, so a body without a length is whole). */
    const parse = (atEnd: boolean): RawOutcome | null => {
      let start = 0;
      for (;;) {
        const end = received.indexOf("\r\n\r\n", start);
        if (end < 0) return null;
        const lines = received.subarray(start, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? NaN);
        if (Number.isNaN(status)) return { kind: "answer", status: 0, headers: {}, body: received.subarray(start) };
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const rest = received.subarray(end + 4);
        if (status >= 100 && status < 200) {
          start = end + 4;
          continue;
        }
        if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
          const chunks: Buffer[] = [];
          let at = 0;
          for (;;) {
            const lineEnd = rest.indexOf("\r\n", at);
            if (lineEnd < 0) return atEnd ? { kind: "closed", error: "answer cut off" } : null;
            const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
            if (Number.isNaN(size)) return { kind: "closed", error: "malformed chunked answer" };
            if (rest.length < lineEnd + 2 + size + 2) return atEnd ? { kind: "closed", error: "answer cut off" } : null;
            if (size === 0) return { kind: "answer", status, headers, body: Buffer.concat(chunks) };
            chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
            at = lineEnd + 2 + size + 2;
          }
        }
        if (headers["content-length"] !== undefined) {
          const length = Number(headers["content-length"]);
          if (rest.length >= length) return { kind: "answer", status, headers, body: rest.subarray(0, length) };
          return atEnd ? { kind: "closed", error: "answer cut off" } : null;
        }
        return atEnd ? { kind: "answer", status, headers, body: rest } : null;
      }
    };
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const outcome = parse(false);
      if (outcome) done(outcome);
    });
    // Writing may fail once the server has answered and closed (it stops reading a refused upload).
    socket.on("error", () => {});
    socket.on("close", () => done(parse(true) ?? { kind: "closed" }));
    socket.on("connect", () => {
      socket.write(Buffer.from(head, "latin1"));
      for (const piece of body) if (!socket.destroyed) socket.write(piece);
    });
  });
}

// ---- the fuzzer's connections ----

export type Outcome =
  | { kind: "ack"; answer: unknown }
  /** The server closed the connection (a frame over its limit, or a malformed one). */
  | { kind: "closed"; frameBytes: number; invalid?: boolean }
  /** No acknowledgement was asked for; a later round trip on the same connection came back. */
  | { kind: "sent"; frameBytes: number }
  | { kind: "timeout"; frameBytes: number };

const ACK_TIMEOUT_MS = 10_000;
/** Acknowledgement ids of raw frames: far above socket.io-client's own counter. */
let rawAckId = 1_000_000_000;

/** One connection of the fuzzer to a namespace, opened again after the server closes it. */
export class FuzzSocket {
  socket!: Socket;
  /** Every `protocol:error` the server sent, since the last {@link takeProtocolErrors}. */
  private protocolErrors: unknown[] = [];
  /** Raw acknowledgements received for raw frames, by id. */
  private readonly rawAcks = new Map<number, (answer: unknown) => void>();
  reconnects = 0;

  constructor(
    private url: string,
    readonly namespace: string,
    private readonly auth: () => Record<string, unknown>,
    /** A harmless event with an ack, to tell that the connection still answers. */
    private readonly probe: readonly [string, unknown],
  ) {}

  get id(): string {
    return this.socket?.id ?? "not-connected";
  }

  /** Moves to another server (the next phase). */
  async moveTo(url: string): Promise<void> {
    this.socket?.close();
    this.url = url;
    await this.open();
  }

  async open(): Promise<void> {
    const socket = io(`${this.url}${this.namespace === "/" ? "" : this.namespace}`, {
      auth: this.auth(),
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    this.socket = socket;
    socket.on("protocol:error", (payload: unknown) => void this.protocolErrors.push(payload));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (err) => reject(new Error(`${this.namespace}: cannot connect: ${err.message}`)));
    });
    socket.io.engine.on("packet", (packet: { type: string; data?: unknown }) => {
      if (packet.type !== "message" || typeof packet.data !== "string") return;
      const m = /^3(?:\/[^,]*,)?(\d+)(\[[\s\S]*)$/.exec(packet.data);
      const done = m ? this.rawAcks.get(Number(m[1])) : undefined;
      if (!m || !done) return;
      let args: unknown;
      try {
        args = JSON.parse(m[2]!);
      } catch {
        args = [m[2]];
      }
      done(Array.isArray(args) ? args[0] : args);
    });
  }

  async ensure(): Promise<void> {
    if (this.socket?.connected) return;
    this.socket?.close();
    this.reconnects += 1;
    await this.open();
  }

  close(): void {
    this.socket?.close();
  }

  /** A new connection (its subscriptions as the database has them now). */
  async reopen(): Promise<void> {
    this.socket?.close();
    await this.open();
  }

  takeProtocolErrors(): unknown[] {
    return this.protocolErrors.splice(0);
  }

  /**
   * Emits an event with the real client (as a raw frame when the payload
   * nests deeper than the client can encode), with or without an ack.
   */
  async emit(event: unknown, args: unknown[], withAck: boolean, world: World): Promise<Outcome> {
    await this.ensure();
    let outcome: Outcome;
    let invalid: boolean;
    if (typeof event === "string" && !RESERVED.has(event) && args.every(objectSafe)) {
      const values = args.map((a) => materialize(a, world));
      const frameBytes = clientFrameBytes(this.namespace, event, values, withAck);
      invalid = ambiguousAttachments(values);
      outcome = await this.viaClient(event, values, withAck, frameBytes);
    } else {
      const text = jsonText([event, ...args], world);
      invalid = typeof event === "string" && RESERVED.has(event);
      outcome = await this.raw(`2${this.prefix()}${withAck ? rawAckId : ""}${text}`, withAck ? rawAckId++ : undefined);
    }
    if (!invalid) return outcome;
    // The server closes the connection after a packet it cannot decode, perhaps only after answering
    // the next one: a new connection, so that the close is not taken for the next call's answer.
    await this.reopen();
    return outcome.kind === "closed" ? { ...outcome, invalid } : outcome;
  }

  private prefix(): string {
    return this.namespace === "/" ? "" : `${this.namespace},`;
  }

  private viaClient(event: string, values: unknown[], withAck: boolean, frameBytes: number): Promise<Outcome> {
    const socket = this.socket;
    if (!withAck) {
      socket.emit(event, ...values);
      return this.afterward(frameBytes);
    }
    return this.waitFor(frameBytes, (done) => socket.emit(event, ...values, (answer: unknown) => done({ kind: "ack", answer })));
  }

  /** Writes a raw Socket.IO packet (`2["event",…]`, or anything else) on the connection. */
  async raw(packet: string, ackId?: number): Promise<Outcome> {
    await this.ensure();
    const frameBytes = Buffer.byteLength(`4${packet}`);
    if (ackId === undefined) {
      this.socket.io.engine.write(packet);
      return this.afterward(frameBytes);
    }
    return this.waitFor(frameBytes, (done) => {
      this.rawAcks.set(ackId, (answer) => done({ kind: "ack", answer }));
      this.socket.io.engine.write(packet);
    }).finally(() => this.rawAcks.delete(ackId));
  }

  /** After an event without ack: a round trip on the same connection, or its close. */
  private async afterward(frameBytes: number): Promise<Outcome> {
    const socket = this.socket;
    const probe = await this.waitFor(frameBytes, (done) =>
      socket.emit(this.probe[0], this.probe[1], (answer: unknown) => done({ kind: "ack", answer })),
    );
    if (probe.kind !== "ack") return probe;
    const problem = answerProblem(probe.answer);
    if (problem || (probe.answer as { ok: boolean }).ok !== true) fail(`the probe after the event failed (${problem ?? "not ok"})`, probe.answer);
    return { kind: "sent", frameBytes };
  }

  private waitFor(frameBytes: number, start: (done: (o: Outcome) => void) => void): Promise<Outcome> {
    const socket = this.socket;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off("disconnect", onClose);
        resolve(o);
      };
      const onClose = () => done({ kind: "closed", frameBytes });
      const timer = setTimeout(() => done({ kind: "timeout", frameBytes }), ACK_TIMEOUT_MS);
      socket.on("disconnect", onClose);
      if (!socket.connected) return onClose();
      start(done);
    });
  }
}

/**
 * Whether a packet is one Socket.IO cannot decode although the client
 * library sends it: binary data beside an object of the caller's that has
 * `_placeholder: true`, Socket.IO's own marker for an attachment (the server
 * finds no attachment for it, "illegal attachments", and closes the
 * connection; with a valid `num` it even takes the object for an attachment).
 */
function ambiguousAttachments(values: unknown[]): boolean {
  let binary = false;
  let marker = false;
  const stack: Array<{ v: unknown; depth: number }> = values.map((v) => ({ v, depth: 0 }));
  while (stack.length > 0 && !(binary && marker)) {
    const { v, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null || depth > 64) continue;
    if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) {
      binary = true;
      continue;
    }
    if (!Array.isArray(v) && (v as { _placeholder?: unknown })._placeholder === true) marker = true;
    for (const item of Object.values(v)) stack.push({ v: item, depth: depth + 1 });
  }
  return binary && marker;
}

/** Names socket.io-client refuses to emit (they go as raw frames; the server's parser refuses them). */
const RESERVED = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

const encoder = new Encoder();

/** Bytes of the WebSocket frame(s) carrying this event (the largest one: each is checked against the limit). */
function clientFrameBytes(namespace: string, event: string, values: unknown[], withAck: boolean): number {
  const parts = encoder.encode({ type: PacketType.EVENT, nsp: namespace, data: [event, ...values], ...(withAck ? { id: 1 } : {}) });
  return Math.max(...parts.map((p: string | Buffer) => (typeof p === "string" ? Buffer.byteLength(`4${p}`) : p.length)));
}

/**
 * Checks an outcome: an ack must be a good answer; a closed connection is
 * acceptable only for a frame over the server's limit (or, with `mayClose`,
 * for a malformed raw packet); no ack ever may take for ever. Also checks
 * every `protocol:error` the connection got meanwhile.
 */
export function checkOutcome(outcome: Outcome, socket: FuzzSocket, maxFrameBytes: number, { mayClose = false } = {}): void {
  for (const payload of socket.takeProtocolErrors()) {
    const problem = errorProblem((payload as { error?: unknown } | null)?.error);
    if (problem) fail(`protocol:error with ${problem}`, payload);
  }
  if (outcome.kind === "ack") {
    const problem = answerProblem(outcome.answer);
    if (problem) fail(problem, outcome.answer);
  } else if (outcome.kind === "closed") {
    // The ack id's digits are not known exactly: a few bytes of slack at the limit.
    if (!mayClose && !outcome.invalid && outcome.frameBytes + 16 <= maxFrameBytes) {
      fail(`the server closed the connection after a frame of ${outcome.frameBytes} bytes (limit ${maxFrameBytes})`, null);
    }
  } else if (outcome.kind === "timeout") {
    fail(`no answer in ${ACK_TIMEOUT_MS} ms`, outcome);
  }
}

// ---- the canary ----

type History = Array<Pick<Message, "id" | "body" | "authorId">>;

/** What the canary sees through its own connection: its private room's and DM's history, its room list. */
interface View {
  histories: Record<string, History>;
  rooms: RoomSummary[];
}

/**
 * A user the fuzzer shares no room with: a private room and a DM with
 * messages, and a room for health checks. After every call it must still
 * send a message and receive it, its stored data must be unchanged, and (for
 * what a client can do) it must have received nothing else.
 */
export class Canary {
  socket!: Socket;
  private url = "";
  private seq = 0;
  private events: Array<[string, unknown]> = [];
  /** Its rows in the database, checked after every call. */
  private stored = "";
  /** What it sees as a client, checked after every property ({@link checkView}). */
  private view!: View;

  /** When it sent each of its recent events (to tell its own rate limit from someone else's flood). */
  private sentAt: number[] = [];

  private constructor(
    readonly user: User,
    private readonly token: string,
    /** Its private group room and its DM (with messages), and the health room. */
    readonly rooms: { private: Room; dm: Room; health: Room },
    /** The other member of its DM (never connected, never named to the fuzzer). */
    private readonly friendId: string,
  ) {}

  /** Ids of its connections (a closed socket forgets its id: kept here). */
  private readonly socketIds = new Set<string>();

  /** Every id that names the canary or its data: a privileged call mentioning one may change it. */
  ids(): string[] {
    return [this.user.id, this.user.username, this.rooms.private.id, this.rooms.dm.id, this.rooms.health.id, ...this.socketIds];
  }

  static async create(url: string): Promise<Canary> {
    const me = await register(url, `canary_${Date.now().toString(36)}`);
    const friend = await register(url, `canary_friend_${Date.now().toString(36)}`);
    const socket = await connectChat(url, me.token);
    const call = async <T>(event: string, payload: unknown): Promise<T> => {
      const answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as { ok: boolean } & T;
      if (!answer.ok) fail(`canary set-up: ${event} failed`, answer);
      return answer;
    };
    const { room: privateRoom } = await call<{ room: Room }>("room:create", { name: "canary private", visibility: "private" });
    const { room: dm } = await call<{ room: Room }>("dm:open", { userId: friend.user.id });
    const { room: health } = await call<{ room: Room }>("room:create", { name: "canary health", visibility: "private" });
    for (const body of ["first secret", "second secret", "third secret"]) await call("message:send", { roomId: privateRoom.id, body });
    for (const body of ["dm one", "dm two"]) await call("message:send", { roomId: dm.id, body });
    socket.close();
    const canary = new Canary(me.user, me.token, { private: privateRoom, dm, health }, friend.user.id);
    await canary.attach(url);
    return canary;
  }

  /** Connects to a (new) server and takes the baselines. */
  async attach(url: string): Promise<void> {
    this.socket?.close();
    this.url = url;
    this.socket = await connectChat(url, this.token);
    this.socketIds.add(this.socket.id!);
    this.socket.onAny((event: string, payload: unknown) => void this.events.push([event, payload]));
    await this.rebaseline();
    this.events = [];
  }

  close(): void {
    this.socket?.close();
  }

  /** Ids of the messages in its private room and DM (the fuzzer tries to mark them read, page before them…). */
  async messageIds(): Promise<string[]> {
    return Object.values(this.view.histories).flatMap((h) => h.map((m) => m.id));
  }

  private async rebaseline(): Promise<void> {
    this.view = await this.clientView();
    this.stored = await this.storedData();
  }

  /**
   * One event with its ack. Under the default limits the canary's own checks
   * may spend its budget (fast-check runs, and shrinks, quickly): like any
   * good client it then waits `retryAfter`, but only when it did spend it.
   * Limited while it sent fewer events than its buckets hold over the last
   * two seconds (in which they refill completely), someone else's events
   * were counted against it.
   */
  private async call<T>(event: string, payload: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      this.sentAt = this.sentAt.filter((t) => t > now - 2000);
      this.sentAt.push(now);
      const answer = (await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as { ok: boolean; error?: { code: string; retryAfter?: number } } & T;
      if (answer.ok) return answer;
      if (answer.error?.code === "rate_limited" && attempt < 5) {
        const config = currentServer!.config;
        const burst = 2 * Math.min(config.rateLimitPerSecond, config.limits.userEventsPerSecond);
        if (this.sentAt.length < burst - 2) fail(`the canary was rate_limited after ${this.sentAt.length} events in 2 s: another user's events spent its budget`, answer);
        await new Promise((r) => setTimeout(r, (answer.error?.retryAfter ?? 1) * 1000));
        continue;
      }
      fail(`the canary's ${event} failed`, answer);
    }
  }

  private async clientView(): Promise<View> {
    const histories: Record<string, History> = {};
    for (const room of [this.rooms.private, this.rooms.dm]) {
      const { messages } = await this.call<{ messages: Message[] }>("message:history", { roomId: room.id, limit: 100 });
      histories[room.id] = messages.map(({ id, body, authorId }) => ({ id, body, authorId }));
    }
    const { rooms } = await this.call<{ rooms: RoomSummary[] }>("room:list", { limit: 500 });
    return { histories, rooms: rooms.filter((r) => r.id !== this.rooms.health.id) };
  }

  /** Its account, sessions, memberships, rooms and messages (but the health room's), as stored. */
  private async storedData(): Promise<string> {
    const prisma = currentServer!.db.prisma;
    const roomIds = [this.rooms.private.id, this.rooms.dm.id];
    const [user, sessions, memberships, rooms, messages] = await Promise.all([
      prisma.user.findUnique({ where: { id: this.user.id } }),
      prisma.session.findMany({ where: { userId: this.user.id }, orderBy: { id: "asc" } }),
      prisma.membership.findMany({ where: { userId: this.user.id }, orderBy: { roomId: "asc" } }),
      prisma.room.findMany({ where: { id: { in: roomIds } }, orderBy: { id: "asc" } }),
      prisma.message.findMany({ where: { roomId: { in: roomIds } }, orderBy: { id: "asc" } }),
    ]);
    return JSON.stringify({ user, sessions, memberships, rooms, messages }, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }

  /**
   * The server is healthy and the canary unaffected: `/healthz` answers, the
   * canary sends a message and receives it, its stored data is as before and
   * (with `quiet`) it received nothing but its own messages. With `targeted`
   * (a privileged call named the canary's ids) its data may have changed: it
   * gets its rooms and connection back if it lost them, and the baselines are
   * taken again.
   */
  async check(options: { quiet: boolean; targeted?: boolean }): Promise<{ restored: boolean }> {
    try {
      return await this.checkOnce(options);
    } catch (err) {
      // Start the next run (fast-check's shrinking replays many) from a clean state.
      await this.restore()
        .then(() => this.attach(this.url))
        .catch(() => {});
      throw err;
    }
  }

  private async checkOnce({ quiet, targeted = false }: { quiet: boolean; targeted?: boolean }): Promise<{ restored: boolean }> {
    const health = await api(this.url, "GET", "/healthz");
    if (health.status !== 200) fail("GET /healthz failed", health);
    const restored = targeted && (await this.restore());
    if (!this.socket.connected) fail("the canary's connection was closed", null);

    const body = `health ${++this.seq}`;
    const received = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the canary did not receive its own message")), ACK_TIMEOUT_MS);
      // Privileged calls may send anything as `message:new` (null included).
      const listener = (m: Message | null) => {
        if (m?.body !== body) return;
        clearTimeout(timer);
        this.socket.off("message:new", listener);
        resolve(m);
      };
      this.socket.on("message:new", listener);
    });
    const sent = await this.call<{ message: Message }>("message:send", { roomId: this.rooms.health.id, body });
    const got = (await received)!;
    if (got.id !== sent.message.id) fail("the canary received another message than it sent", { got, sent });

    if (targeted) await this.rebaseline();
    else {
      const now = await this.storedData();
      if (now !== this.stored) fail("the canary's stored data changed", { before: JSON.parse(this.stored), now: JSON.parse(now) });
    }

    const events = this.events.splice(0);
    const unexpected = events.filter(([event, payload]) => {
      const m = payload as Message | null;
      return !(event === "message:new" && m?.roomId === this.rooms.health.id && m.authorId === this.user.id);
    });
    if (quiet && unexpected.length > 0) fail("the canary received events caused by the fuzzer", unexpected);
    return { restored };
  }

  /** What the canary sees as a client (its histories, its room list) is what it saw before. */
  async checkView(): Promise<void> {
    const now = await this.clientView();
    if (JSON.stringify(now) !== JSON.stringify(this.view)) fail("the canary sees other data than before", { before: this.view, now });
  }

  /**
   * After a privileged call that named it: the canary alone again, as the
   * client-facing properties need it (back in its rooms, out of any other,
   * nobody else in its rooms but its DM's friend), and connected. True if
   * anything had to change: the caller should reconnect the fuzzer's
   * connections, whose subscriptions may include the canary's rooms.
   */
  private async restore(): Promise<boolean> {
    const prisma = currentServer!.db.prisma;
    const own = Object.values(this.rooms).map((r) => r.id);
    let changed = !this.socket.connected;
    // A backend may archive its rooms (read-only) or delete them: unarchived, and made again (empty).
    const unarchived = await prisma.room.updateMany({ where: { id: { in: own }, archivedAt: { not: null } }, data: { archivedAt: null } });
    if (unarchived.count > 0) changed = true;
    for (const room of Object.values(this.rooms)) {
      if ((await prisma.room.count({ where: { id: room.id } })) > 0) continue;
      changed = true;
      await prisma.room.create({
        data: { id: room.id, name: room.name, kind: room.kind, visibility: room.visibility, dmKey: room.kind === "dm" ? dmKeyOf(this.user.id, this.friendId) : null },
      });
      if (room.kind === "dm") await prisma.membership.create({ data: { roomId: room.id, userId: this.friendId } });
    }
    for (const room of Object.values(this.rooms)) {
      const key = { roomId_userId: { roomId: room.id, userId: this.user.id } };
      if (await prisma.membership.findUnique({ where: key })) continue;
      changed = true;
      await prisma.membership.create({
        data: { roomId: room.id, userId: this.user.id, role: room.kind === "dm" ? "member" : "owner" },
      });
    }
    const elsewhere = await prisma.membership.deleteMany({ where: { userId: this.user.id, roomId: { notIn: own } } });
    const others = await prisma.membership.deleteMany({
      where: { roomId: { in: own }, userId: { notIn: [this.user.id, this.friendId] } },
    });
    if (elsewhere.count + others.count > 0) changed = true;
    if (changed) await this.attach(this.url);
    return changed;
  }
}

/** The server of the running phase (the canary repairs itself through its database). */
let currentServer: RunningServer | TestServer | null = null;
export function setCurrentServer(server: RunningServer | TestServer | null): void {
  currentServer = server;
}

export function connectChat(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}
