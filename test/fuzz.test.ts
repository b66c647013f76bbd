/**
 * Property-based fuzzing of every way into the server: every client event
 * (chat, plugins, the channel events of other namespaces, unknown names, raw
 * Socket.IO packets), every `/api/v1` route, the `/api/auth` routes and every
 * queue command, with random JSON and hostile values, as whole payloads and
 * as the right field names holding hostile values (so the handlers run, not
 * only the schemas); and the file routes (uploads, downloads) and profile
 * pictures (`PUT`/`DELETE /api/me/avatar`, `GET /api/avatars/{key}`), which
 * stream, byte for byte: hostile headers, damaged files, framing that lies.
 *
 * For every call: the answer is `ok` or an error whose code is in the
 * catalogue and is not `internal`; HTTP never answers 5xx; the server stays
 * healthy; and a canary user the fuzzer shares no room with keeps its data,
 * can still send and receive, and (for what any client may do) receives
 * nothing because of the fuzzer. Privileged callers (HTTP API, queue) may
 * reach everyone; for them the canary's data may change only when the call
 * named the canary's ids.
 *
 * Bounded here (FUZZ_RUNS runs per property, default below, from a fixed
 * seed so that `npm test` checks the same inputs every time); long runs,
 * from a new seed each time: `npm run fuzz -- --runs 10000`
 * (scripts/fuzz.ts). A failure prints its seed and path; FUZZ_SEED=<seed>
 * FUZZ_PATH=<path> replays that one run.
 *
 * The phases run one after the other on one database: the client events and
 * HTTP routes on a server with the limits raised (so the fuzz reaches the
 * handlers), the queue on one with Redis, and floods on one with the
 * default limits.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { SignJWT } from "jose";
import sharp from "sharp";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import slashCommands from "../plugins/slash-commands";
import { MAX_AVATAR_BYTES } from "../server/core/profiles";
import { AVATAR_SIZE } from "../server/files/images";
import { CHUNK_BYTES } from "../server/files/store";
import { routes } from "../server/http/api-v1";
import { queueCommands } from "../server/inlet/commands";
import { QUEUE_GROUP } from "../server/inlet/queue";
import { clientEvents } from "../server/realtime/events";
import { channelEvents } from "../server/realtime/namespaces";
import { ERROR_CODES } from "../shared/errors";
import type { Attachment, Message, Room, User } from "../shared/protocol";
import { loginInput, logoutInput, passwordChangeInput, registerInput } from "../shared/schemas";
import { api, register, uniqueName } from "./support/clients";
import {
  avatarBodyArb,
  avatarQueryArb,
  type AvatarQueryDesc,
  avatarQueryText,
  avatarTypeArb,
  bodyBytes,
  type BodyDesc,
  byName,
  dispositionArb,
  dispositionText,
  encodePathPart,
  eventPayloadArb,
  fieldsOf,
  framingArb,
  type FramingDesc,
  headerValue,
  hostileString,
  hostileValueArb,
  jsonText,
  keyArb,
  Long,
  MALFORMED_URL_PARTS,
  materialize,
  Obj,
  objectSafe,
  payloadArb,
  Ref,
  type RefKind,
  uploadBodyArb,
  uploadTypeArb,
  type World,
} from "./support/fuzz-values";
import {
  answerProblem,
  bootOnData,
  Canary,
  checkOutcome,
  connectChat,
  errorProblem,
  fail,
  FuzzSocket,
  httpProblem,
  rawExchange,
  setCurrentServer,
  type RunningServer,
} from "./support/fuzz-world";
import { REDIS_URL, redisAvailable, redisClient } from "./support/redis";
import { startTestServer, type Backend, type TestServer } from "./support/server";

const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
/** Fixed for the bounded run; random (fast-check's default) for long runs unless given. */
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS === undefined ? 20261201 : undefined;
/** With the seed, replays exactly the failing run fast-check printed (its `path`). */
const PATH = process.env.FUZZ_PATH;
const BACKEND = (process.env.FUZZ_BACKEND ?? "embedded") as Backend;
/** Per property: generous, since a run may send a megabyte or reconnect. */
const TIMEOUT = 60_000 + RUNS * 1_000;

function fuzz<T>(property: fc.IAsyncPropertyWithHooks<T>, runs = RUNS): Promise<void> {
  return fc.assert(property, { numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH }) });
}

const redisUp = await redisAvailable();

const KEYS = {
  full: "fuzz-full-key-0123456789abcdef",
  readOnly: "fuzz-read-only-key-0123456789",
  scoped: "fuzz-push-only-key-0123456789",
};
const PASSWORD = "correct horse battery";
/** The fuzzed servers serve metrics to this token's bearer. */
const METRICS_TOKEN = "fuzz-metrics-token-0123456789";

let configDir: string;
let base: TestServer;
/** The server of the running phase. */
let server: TestServer | RunningServer;
let canary: Canary;
let fuzzer: { user: User; token: string };
let bystander: { user: User; token: string };
/** Rooms of the fuzzer's world: its own, the bystander's, a DM between them. */
let rooms: Record<"fuzzPublic" | "fuzzPrivate" | "bystanderPublic" | "fuzzDm", Room>;
let messageIds: string[] = [];
/**
 * Files of the fuzzer's world: the fuzzer's sent (an image, a PDF in its private room) and waiting
 * uploads, the bystander's sent (in its public room) and waiting ones, and one the canary sent in
 * its private health room.
 */
let files: Record<"fuzzImage" | "fuzzPrivatePdf" | "fuzzWaiting" | "bystanderSent" | "bystanderWaiting" | "canarySent", Attachment>;
/** Uploads the fuzz made lately: downloads and `attachmentIds` try them too. */
const uploadedIds: string[] = [];
/** Keys of profile pictures: the ones people have, ones replaced lately, and keys that name none (see "HTTP profile pictures"). */
let avatarPool: string[] = [];
let sockets: { chat: FuzzSocket; fuzz: FuzzSocket; push: FuzzSocket; strict: FuzzSocket };
const socketList = () => [sockets.chat, sockets.fuzz, sockets.push, sockets.strict];
/** Client-facing phases leave the canary's user id out (a DM with it, or an invitation, is something anyone may do); privileged phases may name it. */
let privileged = false;
/** The account the /api/auth fuzz signs in, out and changes the password of. */
const authState = { username: "", password: PASSWORD, token: "" };

const world: World = {
  resolve(ref: Ref): string {
    const pool = pools[ref.kind]();
    return pool[ref.index % pool.length] ?? "none";
  },
};
const pools: Record<RefKind, () => string[]> = {
  room: () => [
    ...Object.values(rooms).map((r) => r.id),
    canary.rooms.private.id,
    canary.rooms.dm.id,
    canary.rooms.health.id,
    "00000000-0000-4000-8000-000000000000",
  ],
  user: () => [fuzzer.user.id, bystander.user.id, "no-such-user", ...(privileged ? [canary.user.id] : [])],
  client: () => [...socketList().map((s) => s.id), "no-such-client", ...(privileged ? [canary.socket.id ?? ""] : [])],
  message: () => messageIds,
  file: () => [...(files ? Object.values(files).map((f) => f.id) : []), ...uploadedIds, "00000000-0000-4000-8000-000000000000"],
  avatar: () => (avatarPool.length > 0 ? avatarPool : ["avatar-00000000-0000-4000-8000-000000000000"]),
  group: () => ["vip", "g1", "news"],
  channel: () => ["news", "fuzz-1", "user:1"],
  username: () => [fuzzer.user.username, bystander.user.username, authState.username, ...(privileged ? [canary.user.username] : [])],
  password: () => [PASSWORD, authState.password],
};

/**
 * Node's HTTP parser answers 431 without a body, before Switchboard sees the
 * request, when the request line and headers pass its limit (16 KiB): like a
 * Socket.IO frame over its limit, a transport's answer, acceptable there only.
 */
const NODE_MAX_HEADER_BYTES = 16 * 1024;
function requestHeadBytes(method: string, path: string, headers: Record<string, string>): number {
  return Buffer.byteLength(`${method} ${path} HTTP/1.1\r\n`) + Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}: ${v}\r\n`), 0);
}
function httpAnswerProblem(method: string, path: string, headers: Record<string, string>, status: number, body: unknown): string | null {
  if (status === 431 && requestHeadBytes(method, path, headers) > NODE_MAX_HEADER_BYTES - 512) return null;
  const problem = httpProblem(status, body);
  return problem && `${method} ${path.slice(0, 200)} answered ${status}: ${problem}`;
}

/** The text of a generated HTTP body: JSON of a description, raw text, or none. */
const bodyText = (body: { json: unknown } | { text: string | Long } | { none: true }): string | undefined =>
  "json" in body ? jsonText(body.json, world) : "text" in body ? (body.text instanceof Long ? body.text.text : body.text) : undefined;

/** The canary's data may change when a privileged call names one of its ids. */
const targetsCanary = (text: string) => canary.ids().some((id) => text.includes(id));

const maxFrameBytes = () => (server.io.engine.opts as { maxHttpBufferSize: number }).maxHttpBufferSize;

/** Every fuzz socket connected again (a call may have closed one); their ids are in the world. */
async function reconnectAll(): Promise<void> {
  for (const s of socketList()) await s.ensure();
}

/**
 * After a privileged call: the canary checked (its data may change if the
 * call named it), and the fuzzer's connections back. When the canary had to
 * be made alone again, the fuzzer's connections are opened anew, so none
 * stays subscribed to a room of the canary's.
 */
async function afterPrivileged(text: string): Promise<void> {
  const { restored } = await canary.check({ quiet: false, targeted: targetsCanary(text) });
  if (restored) for (const s of socketList()) await s.reopen();
  await reconnectAll();
}

beforeAll(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), "switchboard-fuzz-"));
  writeFileSync(
    path.join(configDir, "switchboard.config.json"),
    JSON.stringify({
      apiKeys: [KEYS.full, { key: KEYS.readOnly, readOnly: true }, { key: KEYS.scoped, namespaces: ["/push"] }],
      namespaces: {
        "/fuzz": { clientPublish: true, history: true, presence: true, maxChannelsPerConnection: 5 },
        "/strict": { auth: "anonymous", clientPublish: true, history: true, presence: true, channelPattern: "(news|user:[0-9]+)" },
      },
    }),
  );
});

// What the canary sees as a client is checked after every property (its stored data after every run).
afterEach(async () => {
  await canary?.checkView();
});

afterAll(async () => {
  canary?.close();
  for (const s of sockets ? socketList() : []) s.close();
  await base?.destroy();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

/** Settings every phase shares: the namespaces and API keys above, the slash-commands plugin. */
const common = () => ({
  SWITCHBOARD_CONFIG: path.join(configDir, "switchboard.config.json"),
  SWITCHBOARD_METRICS_TOKEN: METRICS_TOKEN,
  SWITCHBOARD_PLUGINS: path.resolve(import.meta.dirname, "../plugins/slash-commands.ts"),
});
/** Limits raised so the fuzz reaches the handlers. */
const RAISED = {
  SWITCHBOARD_RATE_LIMIT: "100000",
  SWITCHBOARD_USER_RATE_LIMIT: "100000",
  SWITCHBOARD_API_RATE_LIMIT: "1000000",
  SWITCHBOARD_MAX_CONNECTIONS_PER_USER: "1000",
  SWITCHBOARD_UPLOAD_RATE_LIMIT: "1000000",
};
/** The largest upload in the first phase: small, so that the fuzz tries sizes at and past it cheaply. */
const UPLOAD_LIMIT = 64 * 1024;
/** The types uploads may have in the first phase (not `text/html`, say: 415). */
const UPLOAD_TYPES = ["image/*", "application/*", "text/plain", "video/*"];

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", name));

/** Uploads a file as the web UI and curl do (the raw body, its name in Content-Disposition); answers the attachment. */
async function putFile(url: string, route: string, file: string, type: string, token: string): Promise<Attachment> {
  const data = fixture(file);
  const outcome = await rawExchange(
    Number(new URL(url).port),
    `POST ${route} HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${type}\r\n` +
      `Content-Disposition: attachment; filename*=UTF-8''${encodeURIComponent(file)}\r\nContent-Length: ${data.length}\r\n\r\n`,
    [data],
    10_000,
  );
  if (outcome.kind !== "answer" || outcome.status !== 201) fail(`set-up: uploading ${file} failed`, outcome.kind === "answer" ? outcome.body.toString() : outcome);
  return (JSON.parse(outcome.body.toString()) as { attachment: Attachment }).attachment;
}

// ---------------------------------------------------------------------------
describe("fuzz: client events and HTTP routes (limits raised)", () => {
  beforeAll(async () => {
    base = await startTestServer(BACKEND, { ...common(), ...RAISED, SWITCHBOARD_UPLOAD_MAX_SIZE: String(UPLOAD_LIMIT), SWITCHBOARD_UPLOAD_TYPES: UPLOAD_TYPES.join(",") });
    server = base;
    setCurrentServer(base);
    fuzzer = await register(base.url, uniqueName("fuzzer"));
    bystander = await register(base.url, uniqueName("bystander"));
    authState.username = uniqueName("authfuzz");
    authState.token = (await register(base.url, authState.username)).token;
    canary = await Canary.create(base.url);

    const setup = await connectChat(base.url, fuzzer.token);
    const other = await connectChat(base.url, bystander.token);
    const call = async <T>(s: Socket, event: string, payload: unknown): Promise<T> => {
      const answer = (await s.timeout(10_000).emitWithAck(event, payload)) as { ok: boolean } & T;
      if (!answer.ok) fail(`set-up: ${event} failed`, answer);
      return answer;
    };
    rooms = {
      fuzzPublic: (await call<{ room: Room }>(setup, "room:create", { name: "fuzz public" })).room,
      fuzzPrivate: (await call<{ room: Room }>(setup, "room:create", { name: "fuzz private", visibility: "private" })).room,
      bystanderPublic: (await call<{ room: Room }>(other, "room:create", { name: "bystander public" })).room,
      fuzzDm: (await call<{ room: Room }>(setup, "dm:open", { userId: bystander.user.id })).room,
    };
    for (const body of ["one", "two", "three"]) {
      messageIds.push((await call<{ message: Message }>(setup, "message:send", { roomId: rooms.fuzzPublic.id, body })).message.id);
    }
    messageIds.push(...(await canary.messageIds()));

    const sendFiles = (s: Socket, roomId: string, attachment: Attachment) => call(s, "message:send", { roomId, body: "", attachmentIds: [attachment.id] });
    const roomFiles = (room: Room) => `/api/rooms/${room.id}/files`;
    files = {
      fuzzImage: await putFile(base.url, roomFiles(rooms.fuzzPublic), "rotated.jpg", "image/jpeg", fuzzer.token),
      fuzzPrivatePdf: await putFile(base.url, roomFiles(rooms.fuzzPrivate), "report.pdf", "application/pdf", fuzzer.token),
      fuzzWaiting: await putFile(base.url, roomFiles(rooms.fuzzPublic), "script.svg", "image/svg+xml", fuzzer.token),
      bystanderSent: await putFile(base.url, roomFiles(rooms.bystanderPublic), "badge.png", "image/png", bystander.token),
      bystanderWaiting: await putFile(base.url, roomFiles(rooms.bystanderPublic), "report.pdf", "application/pdf", bystander.token),
      canarySent: await putFile(base.url, `/api/v1/rooms/${canary.rooms.health.id}/files?userId=${canary.user.id}`, "badge.png", "image/png", KEYS.full),
    };
    await sendFiles(setup, rooms.fuzzPublic.id, files.fuzzImage);
    await sendFiles(setup, rooms.fuzzPrivate.id, files.fuzzPrivatePdf);
    await sendFiles(other, rooms.bystanderPublic.id, files.bystanderSent);
    const posted = await api(
      base.url,
      "POST",
      `/api/v1/rooms/${canary.rooms.health.id}/messages`,
      { body: "", userId: canary.user.id, attachmentIds: [files.canarySent.id] },
      { authorization: `Bearer ${KEYS.full}` },
    );
    if (posted.status !== 201) fail("set-up: the canary's file was not sent", posted.body);
    setup.close();
    other.close();

    sockets = {
      chat: new FuzzSocket(base.url, "/", () => ({ token: fuzzer.token }), ["presence:query", { userIds: [] }]),
      fuzz: new FuzzSocket(base.url, "/fuzz", () => ({ token: fuzzer.token }), ["channel:unsubscribe", { channel: "probe" }]),
      push: new FuzzSocket(base.url, "/push", () => ({}), ["channel:unsubscribe", { channel: "probe" }]),
      strict: new FuzzSocket(base.url, "/strict", () => ({}), ["channel:unsubscribe", { channel: "probe" }]),
    };
    for (const s of socketList()) await s.open();
    await canary.check({ quiet: true });
  });
  afterAll(async () => {
    await base?.stop();
  });

  // ---- client events of the chat namespace (and the plugin's) ----

  const chatEvents: Record<string, z.ZodType> = {
    ...Object.fromEntries(Object.entries(clientEvents).map(([name, spec]) => [name, spec.schema as z.ZodType])),
    ...Object.fromEntries(Object.entries(slashCommands.events ?? {}).map(([name, spec]) => [name, spec.schema])),
  };

  /** One emit: the payload (none, one, or one and extra arguments), with or without an ack. */
  const emitArb = (schema: z.ZodType) =>
    fc.record({
      args: fc.oneof(
        { weight: 8, arbitrary: eventPayloadArb(schema, { binary: true }).map((p) => [p]) },
        { weight: 1, arbitrary: fc.constant([] as unknown[]) },
        { weight: 1, arbitrary: fc.tuple(eventPayloadArb(schema), hostileValueArb()).map((a) => [...a]) },
      ),
      withAck: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    });

  it("knows every client event of the chat namespace, the plugin's included", () => {
    expect(Object.keys(chatEvents)).toEqual(expect.arrayContaining([...Object.keys(clientEvents), "dice:roll"]));
  });

  for (const [event, schema] of Object.entries(chatEvents)) {
    it(`client event ${event}`, async () => {
      await fuzz(
        fc.asyncProperty(emitArb(schema), async ({ args, withAck }) => {
          const outcome = await sockets.chat.emit(event, args, withAck, world);
          checkOutcome(outcome, sockets.chat, maxFrameBytes());
          await canary.check({ quiet: true });
        }),
      );
    }, TIMEOUT);
  }

  it("client events with random names", async () => {
    const name = fc.oneof(
      { weight: 3, arbitrary: hostileString as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: fc.constantFrom(...Object.keys(chatEvents).map((e) => `${e} `), "ROOM:LIST", "__proto__", "constructor", "toString", "hasOwnProperty") },
      { weight: 1, arbitrary: fc.integer() },
    );
    await fuzz(
      fc.asyncProperty(name, fc.array(hostileValueArb([], { binary: true }), { maxLength: 2 }), fc.boolean(), async (event, args, withAck) => {
        const outcome = await sockets.chat.emit(event, args, withAck, world);
        checkOutcome(outcome, sockets.chat, maxFrameBytes());
        await canary.check({ quiet: true });
      }),
    );
  }, TIMEOUT);

  // ---- the channel events of the other namespaces ----

  /**
   * The channel events' fields, as server/realtime/namespaces.ts defines them
   * (its table is not exported); every name is checked to be served below.
   */
  const channelEvents: Record<string, z.ZodType> = {
    "channel:subscribe": z.strictObject({ channel: z.string() }),
    "channel:unsubscribe": z.strictObject({ channel: z.string() }),
    "channel:publish": z.strictObject({ channel: z.string(), data: z.unknown() }),
    "channel:history": z.strictObject({ channel: z.string(), before: z.string().optional(), limit: z.number().optional() }),
    "channel:presence": z.strictObject({ channel: z.string(), limit: z.number().optional(), after: z.string().optional() }),
  };
  const nsSockets = () => [sockets.fuzz, sockets.push, sockets.strict];

  it("knows the channel events (each is served in every namespace)", async () => {
    for (const s of nsSockets()) {
      for (const event of Object.keys(channelEvents)) {
        const outcome = await s.emit(event, [new Obj([["channel", "news"]])], true, world);
        expect(outcome.kind).toBe("ack");
        expect((outcome as { answer: { error?: { code: string } } }).answer.error?.code).not.toBe("unknown_event");
      }
    }
  });

  for (const [event, schema] of Object.entries(channelEvents)) {
    it(`client event ${event} (namespaces /fuzz, /push, /strict)`, async () => {
      await fuzz(
        fc.asyncProperty(fc.nat({ max: 2 }), emitArb(schema), async (which, { args, withAck }) => {
          const socket = nsSockets()[which]!;
          // Subscribed to "news" where allowed, so publish, history and presence reach their handlers.
          checkOutcome(await socket.emit("channel:subscribe", [new Obj([["channel", "news"]])], true, world), socket, maxFrameBytes());
          const outcome = await socket.emit(event, args, withAck, world);
          checkOutcome(outcome, socket, maxFrameBytes());
          await canary.check({ quiet: true });
        }),
      );
    }, TIMEOUT);
  }

  // ---- raw Socket.IO packets ----

  const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];
  /** Packets a client library would never send. (Not `1`, the client's own disconnect: the server then forgets the connection, rightly.) */
  const MALFORMED_PACKETS = [
    "", "2", "2[", "2{}", "2[]", "2[1]", "2[null]", '2["x"', '2"x"', "21", '2-1["x"]', '2/nope,["x"]', '2/fuzz,["x"]',
    "3", "31[]", "31", "3abc[]", "0", "0{}", '0/push,{}', "0/nope,{}", "0/fuzz,", "1/nope,", "4", '4["x"]', "5",
    '51-["x",{"_placeholder":true,"num":0}]', '50-["room:list",{}]', '52-["x",{"_placeholder":true,"num":5}]',
    '5-1-["x"]', "6", "61-[]", "7", "8", "9", '2999999999999999999999["x"]', '2["room:list",{"__proto__":{"limit":1}}]',
    '2["room:create",{"constructor":{"prototype":{"name":"x"}}}]', '21["room:list",{},{},{}]', "2[\"\\ud800\"]",
  ];
  const rawPacketArb = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("event" as const),
        event: fc.oneof(fc.constantFrom(...Object.keys(chatEvents), ...Object.keys(channelEvents), ...RESERVED), hostileString, fc.integer()),
        args: fc.array(hostileValueArb(), { maxLength: 3 }),
        withAck: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("text" as const), text: fc.constantFrom(...MALFORMED_PACKETS) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("text" as const),
        text: fc.tuple(fc.constantFrom("0", "2", "3", "4", "5", "6", "9", ""), hostileString).map(([t, s]) => t + (s instanceof Long ? s.text : s)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("text" as const),
        text: fc
          .tuple(fc.integer({ min: 500, max: 49_000 }), fc.constantFrom("[", '{"a":', '{"__proto__":'))
          .map(([n, open]) => `2["room:list",${open.repeat(n)}1${(open === "[" ? "]" : "}").repeat(n)}]`),
      }),
    },
  );

  let rawAckIds = 2_000_000_000;
  it("raw Socket.IO packets", async () => {
    await fuzz(
      fc.asyncProperty(fc.nat({ max: 3 }), rawPacketArb, async (which, packet) => {
        const socket = socketList()[which]!;
        await socket.ensure();
        const prefix = socket.namespace === "/" ? "" : `${socket.namespace},`;
        let outcome;
        if (packet.kind === "event") {
          const ackId = packet.withAck ? rawAckIds++ : undefined;
          outcome = await socket.raw(`2${prefix}${ackId ?? ""}${jsonText([packet.event, ...packet.args], world)}`, ackId);
        } else {
          outcome = await socket.raw(packet.text);
        }
        const mayClose = packet.kind === "text" || (typeof packet.event === "string" && RESERVED.includes(packet.event));
        checkOutcome(outcome, socket, maxFrameBytes(), { mayClose });
        // After a packet it could not decode the server closes the connection, perhaps only after
        // answering the next one (the probe): a new connection, so the next run starts clean.
        if (mayClose) await socket.reopen();
        await canary.check({ quiet: true });
      }),
    );
  }, TIMEOUT);

  // ---- connection handshakes ----

  /**
   * Whom a handshake may admit: the holder of a valid token (in `auth`, or
   * the cookie from a page of the server's own origin), or anyone without a
   * token in an anonymous namespace. Everything else is refused with a
   * catalogue code (Socket.IO itself answers "Invalid namespace" for one that
   * does not exist).
   */
  it("connection handshakes (auth payload, cookie, origin) in every namespace", async () => {
    const anonymous = new Set(["/push", "/strict"]);
    const tokenArb = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<unknown>("valid", "valid-tampered", "valid-padded", "valid-cut") },
      { weight: 3, arbitrary: hostileValueArb(["token"]) },
    );
    const handshakeArb = fc.record({
      namespace: fc.constantFrom("/", "/fuzz", "/push", "/strict", "/nope"),
      token: fc.option(tokenArb, { nil: undefined, freq: 4 }),
      extra: fc.array(fc.tuple(keyArb(["token", "auth"]), hostileValueArb(["token"])), { maxLength: 2 }),
      asCookie: fc.boolean(),
      origin: fc.constantFrom(undefined, "same", "http://evil.example", "null", "%"),
    });
    await fuzz(
      fc.asyncProperty(handshakeArb, async ({ namespace, token, extra, asCookie, origin }) => {
        const tokenValue =
          token === "valid" ? fuzzer.token
          : token === "valid-tampered" ? `${fuzzer.token.slice(0, -2)}${fuzzer.token.endsWith("A") ? "B" : "A"}x`.slice(0, fuzzer.token.length)
          : token === "valid-padded" ? `${fuzzer.token} `
          : token === "valid-cut" ? fuzzer.token.slice(0, -1)
          : token === undefined ? undefined
          : token;
        fc.pre([tokenValue, ...extra.map(([, v]) => v)].every(objectSafe));
        const cookieToken = asCookie && typeof tokenValue === "string" ? tokenValue : undefined;
        const entries: Array<[string, unknown]> = [...extra];
        if (tokenValue !== undefined && cookieToken === undefined) entries.push(["token", tokenValue]);
        const auth = materialize(new Obj(entries), world) as Record<string, unknown>;
        const headers: Record<string, string> = {
          ...(cookieToken !== undefined ? { cookie: `sb_token=${encodePathPart(cookieToken)}` } : {}),
          ...(origin === "same" ? { origin: server.url } : origin ? { origin } : {}),
        };
        const authBytes = Buffer.byteLength(jsonText(new Obj(entries), world));
        const socket = io(`${server.url}${namespace === "/" ? "" : namespace}`, {
          auth,
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
          extraHeaders: headers,
        });
        const outcome = await new Promise<{ kind: "connect"; identity: string | null } | { kind: "refused"; message: string; data: unknown } | { kind: "closed" } | { kind: "timeout" }>((resolve) => {
          const timer = setTimeout(() => resolve({ kind: "timeout" }), 10_000);
          const done = (o: Parameters<typeof resolve>[0]) => {
            clearTimeout(timer);
            resolve(o);
          };
          socket.once("connect", () => done({ kind: "connect", identity: server.io.of(namespace).sockets.get(socket.id!)?.data.user?.id ?? null }));
          socket.once("connect_error", (err: Error & { data?: unknown }) => done({ kind: "refused", message: err.message, data: err.data }));
          socket.once("disconnect", () => done({ kind: "closed" }));
        });
        socket.close();
        // What the server reads: `auth.token` as it arrives (JSON), else the cookie, which counts only from the server's own page (or no page).
        const fromAuth = (JSON.parse(JSON.stringify(auth)) as { token?: unknown }).token;
        const presented = fromAuth !== undefined ? fromAuth : cookieToken;
        const cookieRefused = fromAuth === undefined && cookieToken !== undefined && origin !== undefined && origin !== "same";
        const validToken = presented === fuzzer.token && !cookieRefused;
        const mayEnter = namespace !== "/nope" && (validToken || (anonymous.has(namespace) && presented === undefined));
        const oversized = authBytes + 64 > maxFrameBytes();
        if (outcome.kind === "connect") {
          // Admitted: anonymously where that is allowed, else as the fuzzer (the only user whose token it holds;
          // jose also accepts a signature with trailing characters base64url ignores, which names the same session).
          const expected = presented === undefined && anonymous.has(namespace) ? null : fuzzer.user.id;
          if (cookieRefused || outcome.identity !== expected || (presented === undefined && !anonymous.has(namespace))) {
            fail(`admitted to ${namespace} as ${outcome.identity} with ${fc.stringify(token)}`, { auth: Object.keys(auth), headers });
          }
        }
        if (outcome.kind === "refused") {
          if (mayEnter && !oversized) fail(`refused from ${namespace} with a valid token`, outcome);
          if (namespace === "/nope" && outcome.message === "Invalid namespace") return void (await canary.check({ quiet: true }));
          const problem = errorProblem({ code: outcome.message, message: (outcome.data as { message?: unknown } | undefined)?.message ?? "" });
          if (problem && !oversized) fail(`connect_error with ${problem}`, outcome);
          if (!problem && (outcome.data as { code?: unknown } | undefined)?.code !== outcome.message) fail("connect_error whose data has another code", outcome);
        }
        if ((outcome.kind === "closed" || outcome.kind === "timeout") && !oversized) fail(`the handshake ended with ${outcome.kind}`, { auth: Object.keys(auth) });
        await canary.check({ quiet: true });
      }),
    );
  }, TIMEOUT);

  // ---- HTTP: API keys and URL parts (API v1 and the file routes) ----

  const apiKeyArb = fc.oneof(
    { weight: 8, arbitrary: fc.constant("full") },
    { weight: 1, arbitrary: fc.constantFrom("readOnly", "scoped", "wrong", "none", "x-api-key", "basic", "lower", "empty") },
  );
  const authHeaders = (key: string): Record<string, string> => {
    switch (key) {
      case "full":
        return { authorization: `Bearer ${KEYS.full}` };
      case "readOnly":
        return { authorization: `Bearer ${KEYS.readOnly}` };
      case "scoped":
        return { authorization: `Bearer ${KEYS.scoped}` };
      case "wrong":
        return { authorization: `Bearer ${KEYS.full}x` };
      case "x-api-key":
        return { "x-api-key": KEYS.full };
      case "basic":
        return { authorization: `Basic ${Buffer.from(`a:${KEYS.full}`).toString("base64")}` };
      case "lower":
        return { authorization: `bearer ${KEYS.full}` };
      case "empty":
        return { authorization: "Bearer " };
      default:
        return {};
    }
  };

  /** A path parameter or query value: plausible or hostile text, or raw bytes that are not valid percent-encoding. */
  const urlPart = (name: string) => {
    const n = name.toLowerCase();
    const kind: RefKind = n.includes("room") ? "room" : n.includes("user") ? "user" : n.includes("group") ? "group" : n === "id" ? "file" : "client";
    return fc.oneof(
      { weight: 5, arbitrary: fc.nat({ max: 31 }).map((i) => new Ref(kind, i) as unknown) },
      { weight: 3, arbitrary: hostileString as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_URL_PARTS).map((raw) => ({ raw })) },
    );
  };
  /**
   * A URL past Node's 16 KiB limit for a request head is answered 431 before
   * Switchboard sees it, however long it is: parts are cut at 32 KiB, so the
   * fuzzer does not spend seconds building megabyte URLs (a cursor of a
   * megabyte of NUL was 8.5 MB; encoding it starved the fuzzer's own
   * connections of their heartbeats, and the canary's was closed).
   */
  const urlText = (value: unknown): string => {
    if (typeof value === "object" && value !== null && "raw" in value) return String((value as { raw: string }).raw);
    const v = materialize(value, world);
    return encodePathPart((typeof v === "string" ? v : JSON.stringify(v) ?? "").slice(0, 32 * 1024));
  };

  // ---- HTTP API v1 (privileged: may reach everyone) ----

  describe("HTTP API v1", () => {
    beforeAll(() => {
      privileged = true;
    });
    afterAll(() => {
      privileged = false;
    });

    const queryArb = (schema: z.ZodType | undefined) => {
      const fields = schema ? fieldsOf(schema).map(([n]) => n) : [];
      const value = (name: string) =>
        fc.oneof(
          { weight: 4, arbitrary: byName(name) },
          { weight: 2, arbitrary: fc.constantFrom("1", "0", "-1", "10000", "10001", "1e3", "0x10", "NaN", "Infinity", " 5", "", "1.5", "/", "/push", "/fuzz", "/nope") as fc.Arbitrary<unknown> },
          { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_URL_PARTS).map((raw) => ({ raw }) as unknown) },
        );
      return fc.array(
        fc.oneof(
          ...(fields.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...fields).chain((f) => value(f).map((v) => [f, v] as const)) }] : []),
          { weight: 1, arbitrary: fc.tuple(keyArb(["namespace", "limit", "after", "before"]), value("x")) },
          { weight: 1, arbitrary: fc.tuple(fc.constantFrom("__proto__", "constructor", "namespace", "limit", "after", ""), value("x")) },
        ),
        { maxLength: 4 },
      );
    };

    /** The request body: JSON text of a plausible or hostile value, something that is not JSON, nothing, or too much. */
    const bodyArb = (schema: z.ZodType | undefined) =>
      fc.oneof(
        { weight: schema ? 8 : 1, arbitrary: (schema ? eventPayloadArb(schema) : hostileValueArb()).map((v) => ({ json: v }) as const) },
        { weight: 1, arbitrary: fc.constantFrom("", "{", "null", "[]", "\u0000", "{'a':1}", "\ufeff{}", "{}{}", "NaN").map((text) => ({ text }) as const) },
        { weight: schema ? 1 : 4, arbitrary: fc.constant({ none: true } as const) },
        { weight: 1, arbitrary: fc.constantFrom(65_536, 70_000, 1_048_576).map((n) => ({ text: new Long("x", n, '{"event":"x","data":"') }) as const) },
      );

    const contentTypeArb = fc.oneof(
      { weight: 8, arbitrary: fc.constant("application/json") },
      { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/json; charset=utf-8", "APPLICATION/JSON", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "") },
    );

    interface HttpCall {
      method: string;
      path: string;
      headers: Record<string, string>;
      body?: string;
    }

    async function send(call: HttpCall): Promise<{ status: number; body: unknown }> {
      const hasBody = call.body !== undefined && !["GET", "HEAD"].includes(call.method);
      const res = await fetch(`${server.url}${call.path}`, { method: call.method, headers: call.headers, ...(hasBody ? { body: call.body } : {}) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: checked as such below
      }
      return { status: res.status, body };
    }

    /** Sends, checks the answer, then the canary (whose data a call naming it may change), and reconnects what the call closed. */
    async function check(call: HttpCall): Promise<void> {
      const res = await send(call);
      const problem = httpAnswerProblem(call.method, call.path, call.headers, res.status, res.body);
      if (problem) fail(problem, res.body);
      await afterPrivileged(call.path + (call.body ?? ""));
    }

    for (const route of routes) {
      it(`HTTP ${route.method.toUpperCase()} /api/v1${route.path}`, async () => {
        const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        const arb = fc.record({
          key: apiKeyArb,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom("get", "post", "put", "delete", "patch") }),
          params: fc.tuple(...params.map(urlPart)),
          query: queryArb(route.query),
          body: bodyArb(route.body),
          contentType: contentTypeArb,
        });
        await fuzz(
          fc.asyncProperty(arb, async ({ key, method, params: values, query, body, contentType }) => {
            let i = 0;
            const routePath = route.path.replace(/\{(\w+)\}/g, () => urlText(values[i++]));
            const search = query.map(([k, v]) => `${encodePathPart(k)}=${urlText(v)}`).join("&");
            const text = bodyText(body);
            await check({
              method: method.toUpperCase(),
              path: `/api/v1${routePath}${search ? `?${search}` : ""}`,
              headers: { ...authHeaders(key), ...(contentType ? { "content-type": contentType } : {}) },
              ...(text === undefined ? {} : { body: text }),
            });
          }),
        );
      }, TIMEOUT);
    }

    it("HTTP random paths and methods under /api", async () => {
      const segment = fc.oneof(
        fc.constantFrom("v1", "auth", "clients", "users", "groups", "rooms", "messages", "members", "send", "close", "count", "publish", "broadcast", "openapi.json", "me", "login", "files", "thumbnail", "upload-limits", "..", ".", ""),
        hostileString.map((s) => encodePathPart(s instanceof Long ? s.text.slice(0, 5000) : s)),
        fc.constantFrom(...MALFORMED_URL_PARTS),
      );
      await fuzz(
        fc.asyncProperty(
          fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
          fc.array(segment, { minLength: 1, maxLength: 6 }),
          apiKeyArb,
          bodyArb(undefined),
          async (method, segments, key, body) => {
            const path = `/api/${segments.join("/")}`;
            // `..` may lead out of /api, to what the web UI serves (off here): not the API's to answer.
            fc.pre(new URL(path, server.url).pathname.startsWith("/api/"));
            const text = bodyText(body);
            const call: HttpCall = {
              method,
              path,
              headers: { ...authHeaders(key), "content-type": "application/json" },
              ...(text === undefined ? {} : { body: text }),
            };
            const res = await send(call);
            // HEAD answers carry no body to read a code from.
            if (!(method === "HEAD" && res.status < 500)) {
              const problem = httpAnswerProblem(method, call.path, call.headers, res.status, res.body);
              if (problem) fail(problem, res.body);
            }
            await afterPrivileged(call.path + (call.body ?? ""));
          },
        ),
      );
    }, TIMEOUT);
  });

  // ---- /api/auth (what any client may do: the canary must notice nothing) ----

  describe("HTTP /api/auth", () => {
    let wrongKeyToken: string;
    let unsignedToken: string;
    beforeAll(async () => {
      wrongKeyToken = await new SignJWT({ name: "x" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer("switchboard")
        .setSubject(bystander.user.id)
        .setJti("x")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode("not the server's secret, but long enough"));
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      unsignedToken = `${b64({ alg: "none" })}.${b64({ sub: bystander.user.id, iss: "switchboard", jti: "x" })}.`;
    });

    /** Header-safe: characters a header cannot carry are percent-encoded. */
    const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, (c) => encodePathPart(c));

    const tokenArb = fc.oneof(
      { weight: 5, arbitrary: fc.constant<unknown>("own") },
      { weight: 2, arbitrary: fc.constantFrom<unknown>("none", "wrong-key", "unsigned", "garbage") },
      { weight: 2, arbitrary: hostileString as fc.Arbitrary<unknown> },
    );
    const tokenText = (t: unknown): string | undefined => {
      if (t === "own") return authState.token;
      if (t === "none") return undefined;
      if (t === "wrong-key") return wrongKeyToken;
      if (t === "unsigned") return unsignedToken;
      if (t === "garbage") return "a.b.c";
      // Up to a little past Node's header limit (see NODE_MAX_HEADER_BYTES).
      const s = t instanceof Long ? t.text.slice(0, 6_000) : String(t);
      return headerSafe(s);
    };

    const authRoutes: Array<{ name: string; method: string; path: string; schema?: z.ZodType; optionalBody?: boolean }> = [
      { name: "register", method: "POST", path: "/api/auth/register", schema: registerInput },
      { name: "login", method: "POST", path: "/api/auth/login", schema: loginInput },
      { name: "logout", method: "POST", path: "/api/auth/logout", schema: logoutInput, optionalBody: true },
      { name: "password", method: "POST", path: "/api/auth/password", schema: passwordChangeInput },
      { name: "me", method: "GET", path: "/api/auth/me" },
    ];

    /** After a call: the account still signs in with the password it was last given (a new token when it was signed out). */
    async function keepAccount(): Promise<void> {
      const me = await api(server.url, "GET", "/api/auth/me", undefined, { authorization: `Bearer ${authState.token}` });
      if (me.status === 200) return;
      const login = await api(server.url, "POST", "/api/auth/login", { username: authState.username, password: authState.password });
      if (login.status === 200) {
        authState.token = login.body.token;
        return;
      }
      if (login.status === 429) {
        // Locked out by the fuzz's own failed sign-ins: go on with a new account.
        authState.username = uniqueName("authfuzz");
        authState.password = PASSWORD;
        authState.token = (await register(server.url, authState.username)).token;
        return;
      }
      fail(`the fuzzed account no longer signs in with its password (${login.status})`, { state: authState, answer: login.body });
    }

    for (const route of authRoutes) {
      it(`HTTP ${route.method} ${route.path}`, async () => {
        const arb = fc.record({
          token: tokenArb,
          via: fc.constantFrom("bearer", "bearer", "cookie", "both"),
          method: fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE") }),
          contentType: fc.oneof(
            { weight: 8, arbitrary: fc.constant("application/json") },
            { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/json; charset=utf-8", "Application/JSON", "application/x-www-form-urlencoded", "") },
          ),
          body: route.schema
            ? fc.oneof(
                { weight: 8, arbitrary: eventPayloadArb(route.schema).map((v) => ({ json: v }) as const) },
                { weight: route.optionalBody ? 2 : 1, arbitrary: fc.constant({ none: true } as const) },
                { weight: 1, arbitrary: fc.constantFrom<string | Long>("", "{", "null", "[]", "\u0000", "{}{}", new Long("x", 70_000, '{"username":"')).map((text) => ({ text }) as const) },
              )
            : fc.constant({ none: true } as const),
        });
        await fuzz(
          fc.asyncProperty(arb, async ({ token, via, method, contentType, body }) => {
            const t = tokenText(token);
            const headers: Record<string, string> = {
              ...(contentType ? { "content-type": contentType } : {}),
              ...(t !== undefined && via !== "cookie" ? { authorization: `Bearer ${t}` } : {}),
              ...(t !== undefined && via !== "bearer" ? { cookie: `sb_token=${t}` } : {}),
            };
            const json = "json" in body ? materialize(body.json, world) : undefined;
            const text = bodyText(body);
            const hasBody = text !== undefined && method !== "GET";
            const res = await fetch(`${server.url}${route.path}`, { method, headers, ...(hasBody ? { body: text } : {}) });
            const raw = await res.text();
            let answer: unknown = raw;
            try {
              answer = JSON.parse(raw);
            } catch {
              // checked below
            }
            const problem = httpAnswerProblem(method, route.path, headers, res.status, answer);
            if (problem) fail(problem, answer);
            // A password change that succeeded with our token: the account now has the new password.
            if (route.name === "password" && res.status === 204 && token === "own" && method === "POST") {
              authState.password = (json as { newPassword: string }).newPassword;
            }
            await keepAccount();
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);
    }
  });

  // ---- HTTP file uploads and downloads (streamed: not in the gateway's table) ----

  /**
   * The file routes read their body and headers themselves, so the fuzz sends
   * them byte for byte (`rawExchange`): hostile `Content-Disposition` and
   * `Content-Type` headers, hostile room and file ids, random and damaged real
   * files, and framing that lies (a `Content-Length` too short or too long,
   * none, chunked, what Node's parser refuses). Beyond what every answer must
   * be: an accepted upload is a well-formed attachment, in a room its uploader
   * may upload into, holding exactly the bytes the server was to read; a
   * download goes only to whoever may read it, with headers that keep it from
   * running in this origin (and to each of them); and whatever became of the
   * request, nothing is left half stored.
   */
  describe("HTTP file uploads and downloads", () => {
    /** The MIME types shown inline when the server could decode the image (server/files/images.ts). */
    const INLINE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"]);
    const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    /** API keys (as `authHeaders` sends them) that may upload, and that may download. */
    const WRITER_KEYS = new Set(["full", "x-api-key", "lower"]);
    const READER_KEYS = new Set([...WRITER_KEYS, "readOnly"]);
    const prisma = () => server.db.prisma;
    const bigints = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

    // -- who calls --

    const tokenArb = fc.oneof(
      { weight: 8, arbitrary: fc.constant<unknown>("fuzzer") },
      { weight: 1, arbitrary: fc.constantFrom<unknown>("bystander", "none", "garbage", "api-key") },
      { weight: 1, arbitrary: hostileString as fc.Arbitrary<unknown> },
    );
    const userAuthArb = fc.record({ token: tokenArb, via: fc.constantFrom("bearer", "bearer", "cookie", "both") });
    /** A user's credentials as headers, and whose they are (null: nobody's). */
    function userCredentials({ token, via }: { token: unknown; via: string }): { headers: Record<string, string>; actor: User | null } {
      const account = token === "fuzzer" ? fuzzer : token === "bystander" ? bystander : null;
      const text =
        account ? account.token
        : token === "none" ? undefined
        : token === "garbage" ? "a.b.c"
        : token === "api-key" ? KEYS.full
        : headerValue(token instanceof Long ? token.text.slice(0, 6_000) : String(token));
      return {
        headers: {
          ...(text !== undefined && via !== "cookie" ? { authorization: `Bearer ${text}` } : {}),
          ...(text !== undefined && via !== "bearer" ? { cookie: `sb_token=${text}` } : {}),
        },
        actor: account?.user ?? null,
      };
    }

    /** Whether the server must let `actorId` download the file (its room readable; an unsent upload only its uploader's). */
    async function mayRead(actorId: string, row: { complete: boolean; messageId: bigint | null; uploaderId: string; roomId: string }): Promise<boolean> {
      if (!row.complete) return false;
      if (row.messageId === null) return row.uploaderId === actorId;
      const room = await prisma().room.findUnique({ where: { id: row.roomId }, select: { visibility: true, memberships: { where: { userId: actorId } } } });
      return room !== null && (room.visibility !== "private" || room.memberships.length > 0);
    }

    /** The stored bytes of a file (or a thumbnail, `<id>.thumb`). */
    async function storedBytes(key: string): Promise<Buffer> {
      const chunks = await prisma().fileChunk.findMany({ where: { key }, orderBy: { seq: "asc" } });
      return Buffer.concat(chunks.map((c) => Buffer.from(c.data)));
    }

    // -- what must not change, and nothing left behind --

    /** The world's files as stored: no call of these routes may change them. */
    async function worldFiles(): Promise<string> {
      const ids = Object.values(files).map((f) => f.id);
      const rows = await prisma().attachment.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
      const chunks = await prisma().fileChunk.count({ where: { key: { in: ids.flatMap((id) => [id, `${id}.thumb`]) } } });
      return JSON.stringify({ rows, chunks }, bigints);
    }
    let worldBefore = "";
    async function checkWorldFiles(): Promise<void> {
      const now = await worldFiles();
      if (now !== worldBefore) fail("the world's files changed", { before: JSON.parse(worldBefore), now: JSON.parse(now) });
    }

    /** The uploads stored (their ids) and the pieces of bytes stored. */
    const storedState = async () => ({
      ids: new Set((await prisma().attachment.findMany({ select: { id: true } })).map((r) => r.id)),
      chunks: await prisma().fileChunk.count(),
    });

    /**
     * After an upload, once the server is done with it (a request cut off is
     * cleaned up after its connection closes): no upload is left half stored,
     * and the rows and pieces added are exactly those of the upload accepted —
     * the one answered, or none after a refusal; at most one when the answer
     * was lost (Node answered malformed framing itself, or the connection closed).
     */
    async function checkNothingLeft(before: Awaited<ReturnType<typeof storedState>>, outcome: { attachment?: Attachment; lost?: boolean }): Promise<void> {
      const state = async () => {
        const rows = await prisma().attachment.findMany({ select: { id: true, size: true, width: true, complete: true } });
        const added = rows.filter((r) => !before.ids.has(r.id));
        const expectedChunks = before.chunks + added.reduce((n, r) => n + Math.ceil(r.size / CHUNK_BYTES) + (r.width !== null ? 1 : 0), 0);
        const chunks = await prisma().fileChunk.count();
        const problem =
          rows.some((r) => !r.complete) ? "an upload is stored incomplete"
          : rows.length !== before.ids.size + added.length ? "stored uploads disappeared"
          : chunks !== expectedChunks ? `${chunks} pieces stored, for ${expectedChunks}`
          : outcome.attachment ? (added.length !== 1 || added[0]!.id !== outcome.attachment.id ? "other uploads than the one accepted were stored" : null)
          : outcome.lost ? (added.length > 1 ? "one request stored several uploads" : null)
          : added.length > 0 ? "a refused upload was stored"
          : null;
        return { problem, added: added.map((r) => r.id), chunks, expectedChunks };
      };
      for (let i = 0; i < 500; i++) {
        if ((await state()).problem === null) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      const last = await state();
      if (last.problem) fail(`after an upload: ${last.problem}`, last);
    }

    /** Drops uploads waiting to be sent (but the world's), so that the next runs are not all `limit_exceeded`. */
    async function dropWaitingUploads(): Promise<void> {
      const keep = Object.values(files).map((f) => f.id);
      const rows = await prisma().attachment.findMany({ where: { messageId: null, id: { notIn: keep } }, select: { id: true } });
      const ids = rows.map((r) => r.id);
      await prisma().attachment.deleteMany({ where: { id: { in: ids } } });
      await prisma().fileChunk.deleteMany({ where: { key: { in: ids.flatMap((id) => [id, `${id}.thumb`]) } } });
    }

    // -- uploads --

    interface UploadCall {
      method: string;
      path: string;
      head: string;
      body: Buffer[];
      /** What the server is to store if it accepts (null: it must not accept; undefined: framing Node may read either way). */
      stored: Buffer | null | undefined;
      /** The server is left waiting for bytes that never come: no answer is fine (the connection is then closed). */
      mayHang: boolean;
      /** Framing Node's parser may refuse itself, with a 400 without a body, before Switchboard sees the request. */
      malformed: boolean;
      /** The body is over the limit: the server may stop reading and close before the client has read its answer. */
      oversized: boolean;
      disposition: string | undefined;
    }

    function uploadCall(
      method: string,
      path: string,
      credentials: Record<string, string>,
      disposition: string | undefined,
      type: string | undefined,
      data: Buffer,
      framing: FramingDesc,
      expectContinue: boolean,
      limit = UPLOAD_LIMIT,
    ): UploadCall {
      const headers: Array<[string, string]> = [["host", "fuzz"], ...Object.entries(credentials)];
      if (type !== undefined) headers.push(["content-type", type]);
      if (disposition !== undefined) headers.push(["content-disposition", disposition]);
      if (expectContinue) headers.push(["expect", "100-continue"]);
      const chunked = (pieces: number, extension: boolean): Buffer[] => {
        const out: Buffer[] = [];
        const size = Math.max(1, Math.ceil(data.length / pieces));
        for (let at = 0; at < data.length; at += size) {
          const piece = data.subarray(at, at + size);
          out.push(Buffer.from(`${piece.length.toString(16)}${extension ? ";x=y" : ""}\r\n`), piece, Buffer.from("\r\n"));
        }
        return [...out, Buffer.from("0\r\n\r\n")];
      };
      let body: Buffer[] = [data];
      let stored: Buffer | null | undefined = data;
      let mayHang = false;
      let malformed = false;
      switch (framing.kind) {
        case "exact":
          headers.push(["content-length", String(data.length)]);
          break;
        case "none":
          // Without a length or chunks HTTP has no body: the server reads none.
          body = [];
          stored = Buffer.alloc(0);
          break;
        case "chunked":
          headers.push(["transfer-encoding", "chunked"]);
          body = chunked(framing.pieces, framing.extension);
          break;
        case "short": {
          // The server reads what was declared; the rest is taken for the next request (which Node may refuse first).
          const length = Math.max(0, data.length - framing.by);
          headers.push(["content-length", String(length)]);
          stored = data.subarray(0, length);
          malformed = length < data.length;
          break;
        }
        case "long":
          headers.push(["content-length", String(data.length + framing.by)]);
          stored = null;
          mayHang = true;
          break;
        case "declared":
          headers.push(["content-length", framing.length]);
          malformed = true;
          if (framing.length === "0") stored = Buffer.alloc(0);
          else {
            stored = null;
            mayHang = true;
          }
          break;
        case "malformed": {
          const encoding = framing.headers.find(([k]) => k === "transfer-encoding")?.[1];
          headers.push(...framing.headers.filter(([k]) => k !== "x-broken-chunks"));
          if (framing.headers.some(([k]) => k === "x-broken-chunks")) body = [Buffer.from("zz\r\n"), data, Buffer.from("\r\n0\r\n\r\n")];
          else if (encoding && /chunked\s*$/.test(encoding)) body = chunked(2, false);
          stored = undefined;
          mayHang = true;
          malformed = true;
        }
      }
      const head = `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
      return { method, path, head, body, stored, mayHang, malformed, oversized: data.length > limit, disposition };
    }

    /**
     * Sends an upload and checks its answer; an accepted one is checked in the
     * database (`uploaders`: whom it may be stored as). Answers the error code
     * or the attachment.
     */
    async function upload(call: UploadCall, may: { write: boolean; uploaders: string[]; room: (roomId: string) => Promise<boolean> }): Promise<{ code?: string; attachment?: Attachment; lost?: boolean }> {
      const outcome = await rawExchange(server.port, call.head, call.body, call.mayHang ? 250 : 10_000);
      const what = `${call.method} ${call.path.slice(0, 200)}`;
      if (outcome.kind === "timeout") {
        if (!call.mayHang) fail(`${what}: no answer in 10 s`, null);
        return { lost: true };
      }
      if (outcome.kind === "closed") {
        if (!call.mayHang && !call.malformed && !call.oversized) fail(`${what}: the connection closed without an answer (${outcome.error ?? "closed"})`, null);
        return { lost: true };
      }
      const { status, body } = outcome;
      if (status === 431 && Buffer.byteLength(call.head, "latin1") > NODE_MAX_HEADER_BYTES - 512) return {};
      // Node answers what it cannot parse (here, perhaps the bytes after the declared body) itself, even before the answer to the upload.
      if (call.malformed && status === 400 && body.length === 0) return { lost: true };
      let answer: unknown = body.toString("utf8");
      try {
        answer = JSON.parse(answer as string);
      } catch {
        // checked as such below
      }
      const problem = httpProblem(status, answer);
      if (problem) fail(`${what} answered ${status}: ${problem}`, answer);
      if (status !== 201) return { code: (answer as { error?: { code?: string } } | null)?.error?.code };

      // Accepted: by the route, from someone who may, with a name (a page of another site cannot send one).
      if (call.method !== "POST") fail(`${what} answered 201`, answer);
      if (!may.write) fail(`${what}: an upload was accepted from a caller who may not upload`, answer);
      if (call.disposition === undefined) fail(`${what}: an upload without Content-Disposition was accepted`, answer);
      if (call.stored === null) fail(`${what}: an upload whose body never came whole was accepted`, answer);
      const body201 = answer as { attachment?: Attachment };
      const attachment = body201.attachment;
      if (Object.keys(body201).join() !== "attachment" || typeof attachment !== "object" || attachment === null) fail(`${what}: 201 without an attachment`, answer);
      const { id, name, type, size, image, ...rest } = attachment;
      const shapeProblem =
        Object.keys(rest).length > 0 ? "unknown fields"
        : typeof id !== "string" || !UUID.test(id) ? "id is not a UUID"
        : typeof name !== "string" || name.length < 1 || name.length > 255 ? "name is not 1–255 characters"
        : /[/\\]/.test(name) ? "name holds a path"
        : name === "." || name === ".." ? "name is a directory"
        : /[\u0000-\u001F\u007F-\u009F]/.test(name) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name) ? "name holds control characters or unpaired surrogates"
        : name !== name.trim() || name !== name.normalize("NFC") ? "name is not trimmed and NFC"
        : typeof type !== "string" || !MIME.test(type) ? "type is not a MIME type"
        : !UPLOAD_TYPES.some((t) => t === type || (t.endsWith("/*") && type.startsWith(t.slice(0, -1)))) ? "type is not one accepted"
        : !Number.isInteger(size) || size < 0 || size > UPLOAD_LIMIT ? "size is not 0 to the limit"
        : call.stored !== undefined && size !== call.stored.length ? `size ${size}, but ${call.stored.length} bytes were to be read`
        : image !== undefined && (!INLINE_TYPES.has(type) || !Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1 || Object.keys(image).length !== 2) ? "image is not a decoded image's size"
        : null;
      if (shapeProblem) fail(`${what}: the attachment is not well-formed (${shapeProblem})`, answer);

      const row = await prisma().attachment.findUnique({ where: { id } });
      if (!row || !row.complete || row.messageId !== null || row.size !== size || row.name !== name || row.type !== type) fail(`${what}: the attachment is not stored as answered`, { answer, row });
      if (!may.uploaders.includes(row.uploaderId)) fail(`${what}: stored as ${row.uploaderId}, not as ${may.uploaders.join(" or ")}`, answer);
      if (!(await may.room(row.roomId))) fail(`${what}: stored in room ${row.roomId}, where the uploader may not upload`, answer);
      if (call.stored !== undefined && !(await storedBytes(id)).equals(call.stored)) fail(`${what}: the stored bytes are not the ones sent`, answer);
      uploadedIds.push(id);
      if (uploadedIds.length > 16) uploadedIds.shift();
      return { attachment };
    }

    /** A room id: often one the fuzzer is in (`rooms`: public, private, bystander's public, DM), else as for any route. */
    const uploadRoomArb = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(0, 1, 3).map((i) => new Ref("room", i) as unknown) },
      { weight: 3, arbitrary: urlPart("roomId") },
    );
    /** A user's upload: as the web UI sends it, mostly, or anything else. */
    const userUploadArb = fc.record({
      auth: userAuthArb,
      method: fc.oneof({ weight: 12, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("PUT", "PATCH", "DELETE", "GET") }),
      roomId: uploadRoomArb,
      disposition: dispositionArb,
      type: uploadTypeArb,
      body: uploadBodyArb(UPLOAD_LIMIT),
      framing: framingArb,
      expectContinue: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    });
    const typeText = (t: string | Long | undefined) => (t === undefined ? undefined : headerValue(t instanceof Long ? t.text : t));
    const canaryRoomIds = () => Object.values(canary.rooms).map((r) => r.id);

    it("HTTP POST /api/rooms/{roomId}/files", async () => {
      worldBefore = await worldFiles();
      await fuzz(
        fc.asyncProperty(userUploadArb, async ({ auth, method, roomId, disposition, type, body, framing, expectContinue }) => {
          const { headers, actor } = userCredentials(auth);
          const data = bodyBytes(body as BodyDesc, fixture);
          const call = uploadCall(method, `/api/rooms/${urlText(roomId)}/files`, headers, dispositionText(disposition), typeText(type), data, framing, expectContinue);
          const before = await storedState();
          const outcome = await upload(call, {
            write: actor !== null,
            uploaders: actor ? [actor.id] : [],
            // A member's room, never the canary's.
            room: async (id) =>
              actor !== null && !canaryRoomIds().includes(id) && (await prisma().membership.count({ where: { roomId: id, userId: actor.id } })) === 1,
          });
          await checkNothingLeft(before, outcome);
          const { code, attachment } = outcome;
          if (attachment && actor) {
            // Its uploader downloads exactly what was stored, before any message carries it.
            const token = actor.id === fuzzer.user.id ? fuzzer.token : bystander.token;
            const got = await fetch(`${server.url}/api/files/${attachment.id}`, { headers: { authorization: `Bearer ${token}` } });
            const bytes = Buffer.from(await got.arrayBuffer());
            if (got.status !== 200 || !bytes.equals(await storedBytes(attachment.id))) fail("the uploader cannot download the upload", { status: got.status, attachment });
          }
          if (code === "limit_exceeded") await dropWaitingUploads();
          await checkWorldFiles();
          await canary.check({ quiet: true });
        }),
      );
    }, TIMEOUT);

    // -- downloads --

    /** A file id: one of the world's (or of the latest uploads), changed a little, or anything. */
    const fileIdArb = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          ref: fc.nat({ max: 31 }).map((i) => new Ref("file", i)),
          variant: fc.oneof(
            { weight: 6, arbitrary: fc.constant("as is") },
            { weight: 1, arbitrary: fc.constantFrom(".thumb", "upper", "trailing slash", "with NUL", "in a path", "padded", "prefix", "dotted") },
          ),
        }),
      },
      { weight: 2, arbitrary: hostileString.map((text) => ({ text })) },
      { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_URL_PARTS, "..%2F..%2Fsecret", "%2e%2e", "..", ".", "").map((raw) => ({ raw })) },
    );
    type FileIdDesc = { ref: Ref; variant: string } | { text: string | Long } | { raw: string };
    /** The id as a path part, and the file it names as is (null: it names none). */
    function fileIdPart(desc: FileIdDesc): { part: string; intended: string | null } {
      if ("raw" in desc) return { part: desc.raw, intended: null };
      if ("text" in desc) return { part: urlText(desc.text), intended: null };
      const id = world.resolve(desc.ref);
      const variants: Record<string, string> = {
        "as is": id,
        ".thumb": `${id}.thumb`,
        upper: id.toUpperCase(),
        "trailing slash": `${id}/`,
        "with NUL": `${id}\u0000`,
        "in a path": `../${id}`,
        padded: ` ${id}`,
        prefix: id.slice(0, 35),
        dotted: `${id}.`,
      };
      const changed = variants[desc.variant] ?? id;
      return { part: encodePathPart(changed), intended: desc.variant === "as is" || changed === id ? id : null };
    }
    const downloadQueryArb = fc.constantFrom("", "", "", "?download", "?download=0", "?inline=1", "?download&inline", "?__proto__=1", "?download=%ZZ", "?%", "?download=1&download=2");

    async function fetchAnswer(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; body: Buffer }> {
      const res = await fetch(url, { method, headers });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    }

    /**
     * Checks a download's answer: a good error; or the file (or thumbnail) to
     * a caller who may read it, whole, with headers that keep it from running
     * in this origin. And a caller who may read a file gets it.
     */
    async function checkDownload(
      call: { method: string; path: string; headers: Record<string, string> },
      res: { status: number; headers: Headers; body: Buffer },
      { intended, thumbnail, query, mayRead: reads }: { intended: string | null; thumbnail: boolean; query: string; mayRead: (row: NonNullable<Awaited<ReturnType<ReturnType<typeof prisma>["attachment"]["findUnique"]>>>) => Promise<boolean> },
    ): Promise<void> {
      const { method } = call;
      const what = `${method} ${call.path.slice(0, 200)}`;
      if (method === "HEAD") {
        if (res.status >= 500) fail(`${what} answered ${res.status}`, null);
        return;
      }
      let answer: unknown = res.body.toString("utf8");
      if (res.status !== 200) {
        try {
          answer = JSON.parse(answer as string);
        } catch {
          // checked as such below
        }
        const problem = httpAnswerProblem(method, call.path, call.headers, res.status, answer);
        if (problem) fail(problem, answer);
        if (res.status === 431) return;
      }
      const row = intended === null ? null : await prisma().attachment.findUnique({ where: { id: intended } });
      const readable = method === "GET" && row !== null && (await reads(row));
      if (res.status !== 200) {
        if (readable && (!thumbnail || row.width !== null)) fail(`${what}: a caller who may read the file got ${res.status}`, answer);
        return;
      }
      if (!readable) fail(`${what}: served ${intended === null ? "a file for an id naming none" : "a file to a caller who may not read it"}`, { intended, row: JSON.parse(JSON.stringify(row, bigints)) });
      const header = (name: string) => res.headers.get(name) ?? "";
      if (header("x-content-type-options") !== "nosniff") fail(`${what}: served without X-Content-Type-Options: nosniff`, null);
      if (!/default-src 'none'/.test(header("content-security-policy")) || !/\bsandbox\b/.test(header("content-security-policy"))) fail(`${what}: served without a sandboxing CSP`, header("content-security-policy"));
      if (Number(header("content-length")) !== res.body.length) fail(`${what}: Content-Length ${header("content-length")} for ${res.body.length} bytes`, null);
      const disposition = header("content-disposition");
      // Inline only an image the server decoded (and its thumbnail), and not when a download was asked for; HTML, SVG, PDF… always download.
      const inline = row.width !== null && !new URLSearchParams(query).has("download");
      if (!disposition.startsWith(inline ? "inline" : "attachment")) fail(`${what}: served as ${disposition} (${row.type}, ${row.width === null ? "not decoded" : "an image"})`, null);
      if (thumbnail) {
        if (row.width === null) fail(`${what}: a thumbnail of a file that is not an image`, null);
        if (!/^image\/(jpeg|png)$/.test(header("content-type"))) fail(`${what}: a thumbnail as ${header("content-type")}`, null);
        if (!res.body.equals(await storedBytes(`${row.id}.thumb`))) fail(`${what}: the thumbnail is not the one stored`, null);
        return;
      }
      if (header("content-type") !== row.type || res.body.length !== row.size || !res.body.equals(await storedBytes(row.id))) fail(`${what}: not the file stored`, { type: header("content-type"), size: res.body.length, row: JSON.parse(JSON.stringify(row, bigints)) });
    }

    for (const thumbnail of [false, true]) {
      const route = `/api/files/{id}${thumbnail ? "/thumbnail" : ""}`;
      it(`HTTP GET ${route}`, async () => {
        worldBefore = await worldFiles();
        const arb = fc.record({
          auth: userAuthArb,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant("GET") }, { weight: 1, arbitrary: fc.constantFrom("HEAD", "POST", "DELETE", "PUT") }),
          id: fileIdArb,
          query: downloadQueryArb,
        });
        await fuzz(
          fc.asyncProperty(arb, async ({ auth, method, id, query }) => {
            const { headers, actor } = userCredentials(auth);
            const { part, intended } = fileIdPart(id as FileIdDesc);
            const path = `/api/files/${part}${thumbnail ? "/thumbnail" : ""}${query}`;
            const res = await fetchAnswer(`${server.url}${path}`, method, headers);
            await checkDownload({ method, path, headers }, res, {
              intended,
              thumbnail,
              query,
              mayRead: async (row) => actor !== null && (await mayRead(actor.id, row)),
            });
            await checkWorldFiles();
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);
    }

    // -- as a backend (privileged: may name the canary) --

    describe("with an API key", () => {
      beforeAll(() => {
        privileged = true;
      });
      afterAll(() => {
        privileged = false;
      });

      /** `?userId=` / `?bot=` (both, neither, twice, or other keys). */
      const uploaderArb = fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(fc.constant("bot"), fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>("fuzz-bot", "fuzz_2", "x") }, { weight: 1, arbitrary: fc.constantFrom<unknown>("a".repeat(41), "Bot", "bot:x", "") }, { weight: 1, arbitrary: hostileString as fc.Arbitrary<unknown> })) },
          { weight: 4, arbitrary: fc.tuple(fc.constant("userId"), urlPart("userId")) },
          { weight: 1, arbitrary: fc.tuple(fc.constantFrom("namespace", "__proto__", "constructor", "roomId", ""), hostileString as fc.Arbitrary<unknown>) },
        ),
        { maxLength: 2 },
      );

      it("HTTP POST /api/v1/rooms/{roomId}/files", async () => {
        worldBefore = await worldFiles();
        const arb = fc.record({
          key: apiKeyArb,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("PUT", "GET", "DELETE") }),
          roomId: uploadRoomArb,
          uploader: uploaderArb,
          disposition: dispositionArb,
          type: uploadTypeArb,
          body: uploadBodyArb(UPLOAD_LIMIT),
          framing: framingArb,
          expectContinue: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        });
        await fuzz(
          fc.asyncProperty(arb, async ({ key, method, roomId, uploader, disposition, type, body, framing, expectContinue }) => {
            const search = uploader.map(([k, v]) => `${encodePathPart(k)}=${urlText(v)}`).join("&");
            const data = bodyBytes(body as BodyDesc, fixture);
            const call = uploadCall(method, `/api/v1/rooms/${urlText(roomId)}/files${search ? `?${search}` : ""}`, authHeaders(key), dispositionText(disposition), typeText(type), data, framing, expectContinue);
            // Stored as the user or bot asked for, or the system when neither was.
            const params = new URLSearchParams(search);
            const uploaders = [...params.getAll("userId"), ...params.getAll("bot").map((b) => `bot:${b}`)];
            const before = await storedState();
            const outcome = await upload(call, {
              write: WRITER_KEYS.has(key),
              uploaders: uploaders.length > 0 ? uploaders : ["system"],
              room: async (id) => (await prisma().room.count({ where: { id } })) === 1,
            });
            await checkNothingLeft(before, outcome);
          const { code, attachment } = outcome;
            if (attachment) {
              // Backends read sent files only: not this one yet.
              const got = await fetchAnswer(`${server.url}/api/v1/files/${attachment.id}`, "GET", authHeaders("full"));
              if (got.status !== 404) fail("a backend downloaded an upload no message carries", { status: got.status, attachment });
            }
            if (code === "limit_exceeded") await dropWaitingUploads();
            await checkWorldFiles();
            await afterPrivileged(call.path + (call.disposition ?? ""));
          }),
        );
      }, TIMEOUT);

      for (const thumbnail of [false, true]) {
        const route = `/api/v1/files/{id}${thumbnail ? "/thumbnail" : ""}`;
        it(`HTTP GET ${route}`, async () => {
          worldBefore = await worldFiles();
          const arb = fc.record({
            key: apiKeyArb,
            method: fc.oneof({ weight: 12, arbitrary: fc.constant("GET") }, { weight: 1, arbitrary: fc.constantFrom("HEAD", "POST", "DELETE", "PUT") }),
            id: fileIdArb,
            query: downloadQueryArb,
          });
          await fuzz(
            fc.asyncProperty(arb, async ({ key, method, id, query }) => {
              const { part, intended } = fileIdPart(id as FileIdDesc);
              const path = `/api/v1/files/${part}${thumbnail ? "/thumbnail" : ""}${query}`;
              const res = await fetchAnswer(`${server.url}${path}`, method, authHeaders(key));
              await checkDownload({ method, path, headers: authHeaders(key) }, res, {
                intended,
                thumbnail,
                query,
                // Any sent file, with a key that may read the chat namespace.
                mayRead: async (row) => READER_KEYS.has(key) && row.complete && row.messageId !== null,
              });
              await checkWorldFiles();
              await afterPrivileged(path);
            }),
          );
        }, TIMEOUT);
      }
    });

    // -- profile pictures --

    /**
     * `PUT /api/me/avatar` reads its body itself, as uploads do, so it is
     * fuzzed byte for byte too: hostile queries (the square to keep), hostile
     * `Content-Type`s, pictures whole, cut short or with bytes changed — real
     * ones, and ones made here in the shapes that have broken image code
     * (grey, grey with alpha, 16-bit, CMYK, animated, AVIF, TIFF, EXIF with a
     * GPS position, 1×1, 15×15, 4000×16, a 12-megapixel photo, exactly 50
     * megapixels and just past, a header claiming 10¹⁰ pixels) — random
     * bytes, bodies at and past 5 MB, framing that lies. A well-formed request
     * gets the answer it must (200, or the one refusal that applies first); a
     * picture set is served at its URL as a 256×256 JPEG or PNG without
     * metadata, with the headers that keep it from running and let it be
     * cached; a refusal changes nobody's picture; and whatever happened, the
     * pictures stored are exactly those people have (none left behind, none
     * missing).
     */
    describe("HTTP profile pictures", () => {
      const AVATAR_URL = /^\/api\/avatars\/(avatar-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
      /** The types a picture may be sent as (server/core/profiles.ts). */
      const AVATAR_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"]);

      // -- the pictures --

      const solid = (width: number, height: number, channels: 1 | 2 | 3 | 4, value = 120) =>
        sharp(Buffer.alloc(width * height * channels, value), { raw: { width, height, channels } });
      const colour = (width: number, height: number, background: string | { r: number; g: number; b: number; alpha?: number }) =>
        sharp({ create: { width, height, channels: 4, background } });
      const animated = async (format: "gif" | "webp", alpha: number) => {
        const frames = await Promise.all([10, 200, 90].map((r) => colour(48, 32, { r, g: 40, b: 40, alpha }).png().toBuffer()));
        return sharp(frames, { join: { animated: true } }).toFormat(format).toBuffer();
      };
      /** A PNG whose header claims 100,000 × 100,000 pixels (its checksum right): a small file, an enormous canvas. */
      const claimsHuge = async () => {
        const png = await colour(16, 16, "#08f").png().toBuffer();
        png.writeUInt32BE(100_000, 16);
        png.writeUInt32BE(100_000, 20);
        png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
        return png;
      };
      /** Each picture, and whether the server must read it (an image of a type shown inline, up to 50 megapixels). */
      const PICTURES: Record<string, { make: () => Promise<Buffer>; readable: boolean }> = {
        "rotated.jpg": { make: async () => fixture("rotated.jpg"), readable: true },
        "badge.png": { make: async () => fixture("badge.png"), readable: true },
        "report.pdf": { make: async () => fixture("report.pdf"), readable: false },
        "script.svg": { make: async () => fixture("script.svg"), readable: false },
        "grey.png": { make: () => solid(40, 30, 1).png().toBuffer(), readable: true },
        "grey-alpha.png": { make: () => solid(30, 40, 2).png().toBuffer(), readable: true },
        "rgb16.png": { make: () => colour(48, 40, "#c81e1e").toColourspace("rgb16").png().toBuffer(), readable: true },
        "cmyk.jpg": { make: () => colour(48, 40, "#c81e1e").toColourspace("cmyk").jpeg().toBuffer(), readable: true },
        "gps.jpg": {
          make: () =>
            colour(64, 40, "#0ac80a")
              .withExif({ IFD0: { Copyright: "fuzz" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1", GPSLongitudeRef: "W", GPSLongitude: "0/1 7/1 0/1" } })
              .withMetadata({ orientation: 8 })
              .jpeg()
              .toBuffer(),
          readable: true,
        },
        "anim.gif": { make: () => animated("gif", 1), readable: true },
        "anim.webp": { make: () => animated("webp", 0.5), readable: true },
        "photo.avif": { make: () => colour(40, 48, "#1e64c8").avif().toBuffer(), readable: true },
        "photo.tiff": { make: () => colour(40, 48, "#1e64c8").tiff().toBuffer(), readable: false },
        "tiny.png": { make: () => colour(16, 16, "#08f").png().toBuffer(), readable: true },
        "small.png": { make: () => colour(15, 15, "#08f").png().toBuffer(), readable: true },
        "one.gif": { make: () => colour(1, 1, "#f80").gif().toBuffer(), readable: true },
        "wide.png": { make: () => solid(4000, 16, 3).png().toBuffer(), readable: true },
        "tall.webp": { make: () => solid(16, 3000, 3).webp().toBuffer(), readable: true },
        "photo.jpg": { make: () => solid(4000, 3000, 3).jpeg().toBuffer(), readable: true },
        "cap.png": { make: () => solid(5000, 10_000, 1).png().toBuffer(), readable: true },
        "over-cap.png": { make: () => solid(5000, 10_001, 1).png().toBuffer(), readable: false },
        "claims-huge.png": { make: claimsHuge, readable: false },
      };
      const PICTURE_NAMES = Object.keys(PICTURES);
      /** Pictures made so far (each when first needed: the large ones take a moment), with their upright size. */
      const made = new Map<string, { data: Buffer; width: number; height: number } | { data: Buffer; width: null; height: null }>();
      async function picture(name: string): Promise<Buffer> {
        if (!made.has(name)) {
          const data = await PICTURES[name]!.make();
          made.set(name, { data, ...(await uprightSize(data)) });
        }
        return made.get(name)!.data;
      }
      const pictureFile = (name: string) => made.get(name)?.data ?? fixture(name);
      /** The upright size of a picture as libvips reads it (null: it reads none). */
      async function uprightSize(data: Buffer): Promise<{ width: number; height: number } | { width: null; height: null }> {
        try {
          const { autoOrient } = await sharp(data, { limitInputPixels: false }).metadata();
          return { width: autoOrient.width, height: autoOrient.height };
        } catch {
          return { width: null, height: null };
        }
      }

      // -- who has which picture --

      const inFlight = new Set<Promise<unknown>>();
      /** Requests to /api/me/avatar the server has not finished answering (or seen closed). */
      let requestsOpen = 0;
      const countRequest = (req: { url?: string }, res: { once(event: "close", f: () => void): unknown }) => {
        if (!req.url?.startsWith("/api/me/avatar")) return;
        requestsOpen += 1;
        res.once("close", () => void (requestsOpen -= 1));
      };
      let restore = () => {};
      beforeAll(() => {
        server.http.on("request", countRequest);
        // The server may go on with a request whose answer was lost (Node answered malformed framing itself):
        // its picture calls are counted, so a run waits for them before looking.
        const profiles = server.core.profiles;
        const { setAvatar, clearAvatar } = profiles;
        const counted =
          <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
          (...args: A): Promise<R> => {
            const p = f.apply(profiles, args);
            inFlight.add(p);
            void p.catch(() => {}).finally(() => inFlight.delete(p));
            return p;
          };
        profiles.setAvatar = counted(setAvatar);
        profiles.clearAvatar = counted(clearAvatar);
        restore = () => {
          Object.assign(profiles, { setAvatar, clearAvatar });
          server.http.off("request", countRequest);
        };
      });
      afterAll(() => restore());

      /**
       * Once the server is done with every picture request and call (a request
       * cut off ends when its connection closes): none open, twice 30 ms apart
       * (a request whose answer was lost may be between the two).
       */
      async function settled(): Promise<void> {
        const busy = () => inFlight.size > 0 || requestsOpen > 0;
        for (let i = 0, quiet = 0; quiet < 2; i++) {
          if (i > 1000) fail(`picture requests still running after 30 s (${requestsOpen} open, ${inFlight.size} calls)`, null);
          quiet = busy() ? 0 : quiet + 1;
          await new Promise((r) => setTimeout(r, busy() ? 10 : 30));
        }
      }

      /** Pictures replaced or removed lately: their URLs must no longer serve anything. */
      const retired: string[] = [];
      const retire = (key: string | null) => {
        if (!key) return;
        retired.push(key);
        if (retired.length > 8) retired.shift();
      };

      async function avatarKeys(): Promise<Record<string, string | null>> {
        const rows = await prisma().user.findMany({ where: { id: { in: [fuzzer.user.id, bystander.user.id] } }, select: { id: true, avatarKey: true } });
        const keys = Object.fromEntries(rows.map((r) => [r.id, r.avatarKey]));
        // What `ref(avatar#…)` names: the pictures people have, retired ones, a key never given, keys of files that are no pictures.
        avatarPool = [
          ...rows.flatMap((r) => (r.avatarKey ? [r.avatarKey] : [])),
          ...retired,
          "avatar-00000000-0000-4000-8000-000000000000",
          `avatar-${files.fuzzImage.id}`,
          files.fuzzImage.id,
          `${files.fuzzImage.id}.thumb`,
        ];
        return keys;
      }

      /** Every picture stored is someone's, and everyone's picture is stored. */
      async function checkStoredPictures(): Promise<void> {
        const stored = new Set((await prisma().fileChunk.findMany({ where: { key: { startsWith: "avatar-" } }, select: { key: true }, distinct: ["key"] })).map((r) => r.key));
        const referenced = new Set((await prisma().user.findMany({ where: { avatarKey: { not: null } }, select: { avatarKey: true } })).map((r) => r.avatarKey!));
        const orphans = [...stored].filter((k) => !referenced.has(k));
        const missing = [...referenced].filter((k) => !stored.has(k));
        if (orphans.length > 0) fail("pictures nobody has are left stored (and served)", orphans);
        if (missing.length > 0) fail("someone's picture is not stored", missing);
      }

      /** Gives `account` a picture, or takes it away, so that runs start from both. */
      async function setPicture(account: { user: User; token: string }, want: boolean): Promise<void> {
        const { avatarKey } = await prisma().user.findUniqueOrThrow({ where: { id: account.user.id }, select: { avatarKey: true } });
        if (want === (avatarKey !== null)) return;
        const auth = { authorization: `Bearer ${account.token}` };
        const res = await fetch(
          `${server.url}/api/me/avatar`,
          want ? { method: "PUT", headers: { ...auth, "content-type": "image/png" }, body: new Uint8Array(fixture("badge.png")) } : { method: "DELETE", headers: auth },
        );
        if (res.status !== 200) fail(`set-up: ${want ? "setting" : "removing"} a picture failed (${res.status})`, await res.text());
        retire(avatarKey);
      }

      /** A picture someone has, at its URL: exactly the bytes stored, a 256×256 JPEG or PNG without metadata, with headers that keep it from running and let it be kept. */
      async function checkServed(what: string, key: string): Promise<void> {
        const res = await fetchAnswer(`${server.url}/api/avatars/${key}`, "GET", {});
        checkServedAnswer(what, res);
        if (!res.body.equals(await storedBytes(key))) fail(`${what}: the picture served is not the one stored`, key);
        const meta = await sharp(res.body).metadata();
        const extra = { exif: meta.exif !== undefined, xmp: meta.xmp !== undefined, iptc: meta.iptc !== undefined, icc: meta.icc !== undefined, orientation: meta.orientation };
        if (meta.width !== AVATAR_SIZE || meta.height !== AVATAR_SIZE) fail(`${what}: the picture is ${meta.width}×${meta.height}, not ${AVATAR_SIZE}×${AVATAR_SIZE}`, key);
        if (Object.values(extra).some((v) => v !== false && v !== undefined)) fail(`${what}: the picture carries metadata`, extra);
        if (`image/${meta.format}` !== res.headers.get("content-type")) fail(`${what}: a ${meta.format} served as ${res.headers.get("content-type")}`, key);
      }
      function checkServedAnswer(what: string, res: { status: number; headers: Headers; body: Buffer }): void {
        const header = (name: string) => res.headers.get(name) ?? "";
        if (res.status !== 200) fail(`${what}: a picture someone has is not served (${res.status})`, res.body.toString("utf8").slice(0, 300));
        const png = res.body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        const jpeg = res.body[0] === 0xff && res.body[1] === 0xd8;
        if (!(header("content-type") === "image/png" && png) && !(header("content-type") === "image/jpeg" && jpeg)) fail(`${what}: served as ${header("content-type")}`, res.body.subarray(0, 8).toString("hex"));
        if (header("x-content-type-options") !== "nosniff") fail(`${what}: served without X-Content-Type-Options: nosniff`, null);
        if (!/default-src 'none'/.test(header("content-security-policy")) || !/\bsandbox\b/.test(header("content-security-policy"))) fail(`${what}: served without a sandboxing CSP`, header("content-security-policy"));
        if (!/\bpublic\b/.test(header("cache-control")) || !/\bimmutable\b/.test(header("cache-control")) || !/max-age=[1-9]/.test(header("cache-control"))) fail(`${what}: served with Cache-Control ${header("cache-control")}`, null);
      }
      async function checkGone(what: string, key: string): Promise<void> {
        const res = await fetchAnswer(`${server.url}/api/avatars/${key}`, "GET", {});
        let answer: unknown = res.body.toString("utf8");
        try {
          answer = JSON.parse(answer as string);
        } catch {
          // checked below
        }
        if (res.status !== 404 || (answer as { error?: { code?: string } } | null)?.error?.code !== "not_found") fail(`${what}: a replaced picture is still served (${res.status})`, key);
        if ((await prisma().fileChunk.count({ where: { key } })) > 0) fail(`${what}: a replaced picture is still stored`, key);
      }

      /**
       * After a call: who had a picture and who has one now. Whoever the call
       * did not change has the same one, still served; `changed` (the caller,
       * when a PUT or DELETE succeeded) has `now` instead, and the one it
       * replaced is gone.
       */
      async function checkPictures(what: string, before: Record<string, string | null>, changed: { userId: string; now: string | null } | null): Promise<Record<string, string | null>> {
        const after = await avatarKeys();
        for (const [userId, key] of Object.entries(before)) {
          if (changed?.userId === userId) {
            if (after[userId] !== changed.now) fail(`${what}: the caller's picture is ${after[userId]}, not the ${changed.now} answered`, null);
            if (key && key !== changed.now) {
              await checkGone(what, key);
              retire(key);
            }
            if (changed.now) await checkServed(what, changed.now);
          } else {
            if (after[userId] !== key) fail(`${what}: ${userId === fuzzer.user.id ? "the fuzzer" : "the bystander"}'s picture changed, from ${key} to ${after[userId]}`, null);
            if (key) await checkServed(`${what} (a picture left as it was)`, key);
          }
        }
        await checkStoredPictures();
        return after;
      }

      /** The `{user}` of a 200: the caller as stored, with the picture answered (none: `avatar` absent). */
      async function answeredUser(what: string, answer: unknown, actor: User): Promise<string | null> {
        const body = answer as { user?: User } | null;
        if (typeof body !== "object" || body === null || Object.keys(body).join() !== "user") fail(`${what}: 200 without {user}`, answer);
        const { id, username, displayName, avatar, ...rest } = body.user!;
        const row = await prisma().user.findUniqueOrThrow({ where: { id: actor.id } });
        if (Object.keys(rest).length > 0 || id !== actor.id || username !== row.username || displayName !== row.displayName) fail(`${what}: the user answered is not the caller`, { answer, row: { id: row.id, username: row.username, displayName: row.displayName } });
        if (avatar === undefined) return null;
        const key = typeof avatar === "string" ? AVATAR_URL.exec(avatar)?.[1] : undefined;
        if (!key) fail(`${what}: avatar is not /api/avatars/avatar-<uuid>`, avatar);
        return key;
      }

      // -- PUT --

      interface Expectation {
        status: number;
        code?: string;
      }
      /**
       * The answer a well-formed PUT must get (null: no single one), in the
       * order the server checks: who calls, the square's form, the type, the
       * size, the picture, the square in the picture.
       */
      function expected(call: { actor: User | null; method: string; head: string; framing: FramingDesc; query: AvatarQueryDesc; type: string | undefined; data: Buffer; body: BodyDesc }): Expectation | null {
        if (call.method !== "PUT" || !["exact", "chunked"].includes(call.framing.kind) || Buffer.byteLength(call.head, "latin1") > NODE_MAX_HEADER_BYTES - 512) return null;
        if (!call.actor) return { status: 401, code: "unauthorized" };
        if (call.query.kind !== "none" && call.query.kind !== "crop") return null;
        const crop = call.query.kind === "crop" ? call.query : null;
        if (crop && (crop.size < 16 || Math.max(crop.x, crop.y, crop.size) > 100_000)) return { status: 400, code: "invalid_payload" };
        const type = (call.type ?? "").split(";")[0]!.trim().toLowerCase();
        if (!AVATAR_TYPES.has(type)) return { status: 415, code: "unsupported_media_type" };
        if (call.data.length > MAX_AVATAR_BYTES) return { status: 413, code: "too_large" };
        if (call.body.kind === "fill" || call.data.length === 0) return { status: 415, code: "unsupported_media_type" };
        if (call.body.kind !== "fixture" && call.body.kind !== "padded") return null;
        const whole = made.get(call.body.name);
        if (!whole || !call.data.equals(whole.data)) return null;
        if (!PICTURES[call.body.name]!.readable || whole.width === null) return { status: 415, code: "unsupported_media_type" };
        const square = crop ?? { x: 0, y: 0, size: Math.min(whole.width, whole.height) };
        if (square.x + square.size > whole.width || square.y + square.size > whole.height) return { status: 400, code: "invalid_payload" };
        return { status: 200 };
      }

      /** Sends a PUT (or another method) byte for byte; answers its status and JSON, or that the answer was lost. */
      async function exchange(call: ReturnType<typeof uploadCall>): Promise<{ status: number; answer: unknown } | { lost: true } | { tooLong: true }> {
        const outcome = await rawExchange(server.port, call.head, call.body, call.mayHang ? 250 : 10_000);
        const what = `${call.method} ${call.path.slice(0, 200)}`;
        if (outcome.kind === "timeout") {
          if (!call.mayHang) fail(`${what}: no answer in 10 s`, null);
          return { lost: true };
        }
        if (outcome.kind === "closed") {
          if (!call.mayHang && !call.malformed && !call.oversized) fail(`${what}: the connection closed without an answer (${outcome.error ?? "closed"})`, null);
          return { lost: true };
        }
        const { status, body } = outcome;
        if (status === 431 && Buffer.byteLength(call.head, "latin1") > NODE_MAX_HEADER_BYTES - 512) return { tooLong: true };
        if (call.malformed && status === 400 && body.length === 0) return { lost: true };
        let answer: unknown = body.toString("utf8");
        try {
          answer = JSON.parse(answer as string);
        } catch {
          // checked as such below
        }
        const problem = httpProblem(status, answer);
        if (problem) fail(`${what} answered ${status}: ${problem}`, answer);
        return { status, answer };
      }

      const pictureUploadArb = fc.record({
        auth: userAuthArb,
        method: fc.oneof({ weight: 12, arbitrary: fc.constant("PUT") }, { weight: 1, arbitrary: fc.constantFrom("POST", "PATCH", "GET", "DELETE") }),
        query: avatarQueryArb,
        type: avatarTypeArb,
        body: avatarBodyArb(MAX_AVATAR_BYTES, PICTURE_NAMES),
        framing: framingArb,
        expectContinue: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        hadPicture: fc.boolean(),
      });

      it("HTTP PUT /api/me/avatar", async () => {
        worldBefore = await worldFiles();
        await fuzz(
          fc.asyncProperty(pictureUploadArb, async ({ auth, method, query, type, body, framing, expectContinue, hadPicture }) => {
            const { headers, actor } = userCredentials(auth);
            await setPicture(actor?.id === bystander.user.id ? bystander : fuzzer, hadPicture);
            const desc = body as BodyDesc;
            if (desc.kind === "fixture" || desc.kind === "padded") await picture(desc.name);
            const data = bodyBytes(desc, pictureFile);
            const contentType = typeText(type);
            const call = uploadCall(method, `/api/me/avatar${avatarQueryText(query)}`, headers, undefined, contentType, data, framing, expectContinue, MAX_AVATAR_BYTES);
            const what = `${method} /api/me/avatar${avatarQueryText(query).slice(0, 100)} (${contentType?.slice(0, 60)}, ${data.length} bytes, ${framing.kind})`;
            const before = await avatarKeys();
            const result = await exchange(call);
            const must = expected({ actor, method, head: call.head, framing, query, type: contentType, data, body: desc });
            if (!("status" in result)) {
              // Lost (or refused by Node): the picture may have been set all the same, never half.
              await settled();
              const after = await avatarKeys();
              const changedId = Object.keys(before).find((id) => before[id] !== after[id]);
              const allowed = changedId === actor?.id && ((method === "PUT" && call.stored !== null) || method === "DELETE");
              await checkPictures(what, before, changedId && allowed ? { userId: changedId, now: after[changedId]! } : null);
            } else {
              const { status, answer } = result;
              const code = (answer as { error?: { code?: string } } | null)?.error?.code;
              if (must && (must.status !== status || (must.code !== undefined && must.code !== code))) fail(`${what}: answered ${status} ${code ?? ""}, not ${must.status} ${must.code ?? ""}`, answer);
              if (status !== 200) {
                await checkPictures(what, before, null);
              } else {
                if (!actor || (method !== "PUT" && method !== "DELETE")) fail(`${what}: answered 200`, answer);
                const key = await answeredUser(what, answer, actor);
                if (method === "DELETE") {
                  if (key !== null) fail(`${what}: DELETE answered a picture`, answer);
                } else {
                  // Set: from the whole body, of a type taken, at most 5 MB, a square that fits the picture sent.
                  if (key === null) fail(`${what}: 200 without a picture`, answer);
                  if (call.stored === null) fail(`${what}: a picture whose body never came whole was set`, answer);
                  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
                  if (!AVATAR_TYPES.has(type)) fail(`${what}: a picture sent as ${contentType} was set`, answer);
                  if (data.length > MAX_AVATAR_BYTES) fail(`${what}: a picture of ${data.length} bytes was set`, answer);
                  const params = new URLSearchParams(avatarQueryText(query));
                  const [x, y, size] = [params.get("x"), params.get("y"), params.get("size")];
                  if (call.stored !== undefined) {
                    const sent = await uprightSize(call.stored);
                    if (sent.width === null) fail(`${what}: a picture libvips cannot read was set`, answer);
                    if (sent.width * sent.height > 50_000_000) fail(`${what}: a picture of ${sent.width}×${sent.height} was set`, answer);
                    if (size !== null && (Number(x) + Number(size) > sent.width || Number(y) + Number(size) > sent.height)) fail(`${what}: a square past the ${sent.width}×${sent.height} picture was cut`, answer);
                  }
                  if ([x, y, size].some((v) => v !== null && !/^[0-9]{1,6}$/.test(v))) fail(`${what}: a square not in whole pixels was taken`, { x, y, size });
                  if (size !== null && Number(size) < 16) fail(`${what}: a square under 16 pixels was taken`, { x, y, size });
                }
                await checkPictures(what, before, { userId: actor.id, now: key });
              }
            }
            await checkWorldFiles();
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);

      // -- DELETE --

      it("HTTP DELETE /api/me/avatar", async () => {
        const arb = fc.record({
          auth: userAuthArb,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant("DELETE") }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PATCH", "OPTIONS", "HEAD") }),
          query: avatarQueryArb,
          body: fc.oneof(
            { weight: 6, arbitrary: fc.constant<string | undefined>(undefined) },
            { weight: 1, arbitrary: fc.constantFrom<string | undefined>("", "{}", "null", '{"avatar":null}', "\u0000", "x".repeat(70_000)) },
          ),
          contentType: fc.constantFrom(undefined, "application/json", "image/png", "text/plain"),
          hadPicture: fc.boolean(),
        });
        await fuzz(
          fc.asyncProperty(arb, async ({ auth, method, query, body, contentType, hadPicture }) => {
            const { headers, actor } = userCredentials(auth);
            await setPicture(actor?.id === bystander.user.id ? bystander : fuzzer, hadPicture);
            const path = `/api/me/avatar${avatarQueryText(query)}`;
            const what = `${method} ${path.slice(0, 200)}`;
            const requestHeaders = { ...headers, ...(contentType ? { "content-type": contentType } : {}) };
            const before = await avatarKeys();
            const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
            const res = await fetch(`${server.url}${path}`, { method, headers: requestHeaders, ...(hasBody ? { body } : {}) })
              .then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }))
              .catch(() => null);
            if (res === null) fail(`${what}: no answer`, null);
            if (method === "HEAD") {
              if (res.status >= 500) fail(`${what} answered ${res.status}`, null);
              await checkPictures(what, before, null);
            } else {
              let answer: unknown = res.body.toString("utf8");
              try {
                answer = JSON.parse(answer as string);
              } catch {
                // checked below
              }
              const problem = httpAnswerProblem(method, path, requestHeaders, res.status, answer);
              if (problem) fail(problem, answer);
              if (res.status === 200) {
                if (method !== "DELETE" || !actor) fail(`${what}: answered 200`, answer);
                if ((await answeredUser(what, answer, actor)) !== null) fail(`${what}: the picture is still answered`, answer);
                await checkPictures(what, before, { userId: actor.id, now: null });
              } else {
                // A DELETE from a signed-in caller goes through, whatever the query says.
                if (method === "DELETE" && actor && res.status !== 431) fail(`${what}: the caller's DELETE answered ${res.status}`, answer);
                await checkPictures(what, before, null);
              }
            }
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);

      // -- GET (public, by its unguessable key) --

      it("HTTP GET /api/avatars/{key}", async () => {
        const keyArb = fc.oneof(
          {
            weight: 8,
            arbitrary: fc.record({
              ref: fc.nat({ max: 31 }).map((i) => new Ref("avatar", i)),
              variant: fc.oneof(
                { weight: 6, arbitrary: fc.constant("as is") },
                {
                  weight: 2,
                  arbitrary: fc.constantFrom(
                    "upper", "prefix upper", "trailing slash", "with NUL", "in a path", "padded", "prefix", "dotted", ".thumb", "/thumbnail", "no prefix",
                    "twice encoded", "encoded", "semicolon", "plus",
                  ),
                },
              ),
            }),
          },
          { weight: 2, arbitrary: hostileString.map((text) => ({ text })) },
          { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_URL_PARTS, "..%2F..%2Fsecret", "avatar-..%2F..%2Fsecret", "avatar-%2e%2e", "avatar-", "avatar", "").map((raw) => ({ raw })) },
        );
        type KeyDesc = { ref: Ref; variant: string } | { text: string | Long } | { raw: string };
        /** The key as a path part, and the picture it names (null: none); `exact`: as a client sends it (then it must be served). */
        const keyPart = (desc: KeyDesc): { part: string; intended: string | null; exact: boolean } => {
          if ("raw" in desc) return { part: desc.raw, intended: null, exact: false };
          if ("text" in desc) return { part: urlText(desc.text), intended: null, exact: false };
          const key = world.resolve(desc.ref);
          const variants: Record<string, string> = {
            "as is": encodePathPart(key),
            upper: encodePathPart(key.toUpperCase()),
            "prefix upper": encodePathPart(key.replace("avatar-", "AVATAR-")),
            "trailing slash": `${encodePathPart(key)}/`,
            "with NUL": encodePathPart(`${key}\u0000`),
            "in a path": encodePathPart(`../${key}`),
            padded: encodePathPart(` ${key}`),
            prefix: encodePathPart(key.slice(0, -1)),
            dotted: encodePathPart(`${key}.`),
            ".thumb": encodePathPart(`${key}.thumb`),
            "/thumbnail": `${encodePathPart(key)}/thumbnail`,
            "no prefix": encodePathPart(key.replace(/^avatar-/, "")),
            "twice encoded": encodePathPart(encodePathPart(key).replace(/-/g, "%2D")),
            encoded: key.replace(/-/g, "%2D"),
            semicolon: `${encodePathPart(key)};x=1`,
            plus: `${encodePathPart(key)}+`,
          };
          const part = variants[desc.variant] ?? encodePathPart(key);
          // `%2D` is `-`: the same key, which the server may serve or not (no browser sends it so).
          return { part, intended: desc.variant === "as is" || desc.variant === "encoded" ? key : null, exact: desc.variant === "as is" };
        };
        const arb = fc.record({
          auth: userAuthArb,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant("GET") }, { weight: 1, arbitrary: fc.constantFrom("HEAD", "POST", "PUT", "DELETE") }),
          key: keyArb,
          query: fc.constantFrom("", "", "", "?download", "?v=1", "?%", "?__proto__=1"),
          fuzzerPicture: fc.boolean(),
          bystanderPicture: fc.boolean(),
        });
        await avatarKeys();
        await fuzz(
          fc.asyncProperty(arb, async ({ auth, method, key, query, fuzzerPicture, bystanderPicture }) => {
            await setPicture(fuzzer, fuzzerPicture);
            await setPicture(bystander, bystanderPicture);
            const current = await avatarKeys();
            const { headers } = userCredentials(auth);
            const { part, intended, exact } = keyPart(key as KeyDesc);
            const path = `/api/avatars/${part}${query}`;
            const what = `${method} ${path.slice(0, 200)}`;
            const res = await fetchAnswer(`${server.url}${path}`, method, headers).catch(() => null);
            if (res === null) fail(`${what}: no answer`, null);
            // Anyone may see a picture someone has, by its key as is; nothing else is served.
            const someones = intended !== null && Object.values(current).includes(intended);
            if (method === "HEAD") {
              if (res.status >= 500 || (someones && exact && res.status !== 200)) fail(`${what} answered ${res.status}`, null);
            } else if (res.status === 200) {
              if (method !== "GET" || !someones) fail(`${what}: served ${intended === null ? "something for a key naming no picture" : `${intended}, which nobody has`}`, { status: res.status, type: res.headers.get("content-type") });
              await checkServed(what, intended);
            } else {
              let answer: unknown = res.body.toString("utf8");
              try {
                answer = JSON.parse(answer as string);
              } catch {
                // checked below
              }
              const problem = httpAnswerProblem(method, path, headers, res.status, answer);
              if (problem) fail(problem, answer);
              if (method === "GET" && someones && exact && res.status !== 431) fail(`${what}: a picture someone has answered ${res.status}`, answer);
            }
            await checkPictures(what, current, null);
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);

      // -- two tabs at once --

      /**
       * Several pictures set and removed at once (tabs, or a double click):
       * every call succeeds, the caller ends with one of the pictures answered
       * (or none), and exactly the pictures people have are left stored.
       */
      it("HTTP PUT and DELETE /api/me/avatar at once", async () => {
        const good = PICTURE_NAMES.filter((n) => PICTURES[n]!.readable && !["cap.png", "photo.jpg", "wide.png", "tall.webp"].includes(n));
        const callArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constant<string | null>(null) });
        await fuzz(
          fc.asyncProperty(fc.array(callArb, { minLength: 2, maxLength: 6 }), fc.boolean(), async (calls, hadPicture) => {
            await setPicture(fuzzer, hadPicture);
            for (const name of calls) if (name) await picture(name);
            const before = await avatarKeys();
            const auth = { authorization: `Bearer ${fuzzer.token}` };
            const answers = await Promise.all(
              calls.map(async (name) => {
                const res = await fetch(
                  `${server.url}/api/me/avatar`,
                  name
                    ? { method: "PUT", headers: { ...auth, "content-type": name.endsWith(".png") ? "image/png" : name.endsWith(".gif") ? "image/gif" : name.endsWith(".webp") ? "image/webp" : name.endsWith(".avif") ? "image/avif" : "image/jpeg" }, body: new Uint8Array(pictureFile(name)) }
                    : { method: "DELETE", headers: auth },
                );
                return { name, status: res.status, body: (await res.json()) as unknown };
              }),
            );
            const answered = new Set<string | null>();
            for (const a of answers) {
              if (a.status !== 200) fail(`${a.name ? `PUT ${a.name}` : "DELETE"} among ${calls.length} at once answered ${a.status}`, a.body);
              answered.add(await answeredUser("at once", a.body, fuzzer.user));
            }
            const after = await avatarKeys();
            const now = after[fuzzer.user.id] ?? null;
            if (!answered.has(now)) fail(`after ${calls.length} calls at once the fuzzer's picture is ${now}, which no call answered`, { answers, now });
            if (now) await checkServed("at once", now);
            // Every other picture (the one before, those answered and replaced at once) is gone.
            for (const key of new Set([before[fuzzer.user.id] ?? null, ...answered])) {
              if (key && key !== now) {
                await checkGone("at once", key);
                retire(key);
              }
            }
            await checkStoredPictures();
            await canary.check({ quiet: true });
          }),
        );
      }, TIMEOUT);
    });
  });

  // ---- Prometheus metrics: an operator's route, read only with the token ----

  it("HTTP GET /metrics", async () => {
    const printable = (s: string | Long) => (s instanceof Long ? s.text.slice(0, 6_000) : s).replace(/[^\x20-\x7e]/g, (c) => encodePathPart(c));
    const arb = fc.record({
      authorization: fc.oneof(
        { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
        { weight: 2, arbitrary: fc.constant(`Bearer ${METRICS_TOKEN}`) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            `bearer ${METRICS_TOKEN}`,
            `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
            `Bearer ${METRICS_TOKEN}x`,
            METRICS_TOKEN,
            `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}`,
            `Bearer ${KEYS.full}`,
            "Bearer ",
          ),
        },
        { weight: 3, arbitrary: hostileString.map((s) => `Bearer ${printable(s)}`) },
        { weight: 1, arbitrary: hostileString.map(printable) },
      ),
      query: fc.option(hostileString.map((s) => `?${printable(s).slice(0, 2000)}`), { nil: "" }),
      method: fc.constantFrom("GET", "GET", "GET", "POST", "DELETE"),
    });
    await fuzz(
      fc.asyncProperty(arb, async ({ authorization, query, method }) => {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
        const res = await fetch(`${server.url}/metrics${query}`, { method, headers });
        const raw = await res.text();
        let answer: unknown = raw;
        try {
          answer = JSON.parse(raw);
        } catch {
          // checked below
        }
        const problem = httpAnswerProblem(method, `/metrics${query}`, headers, res.status, answer);
        if (problem) fail(problem, answer);
        const bearer = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? "")?.[1]?.trim();
        const entitled = method === "GET" && bearer === METRICS_TOKEN;
        if (entitled !== (res.status === 200)) fail(`GET /metrics answered ${res.status} to ${JSON.stringify(authorization)}`, answer);
        if (res.status === 200 && !raw.includes("switchboard_info{")) fail("the metrics lack switchboard_info", raw.slice(0, 500));
        if (res.status !== 200 && raw.includes("switchboard_")) fail("metrics served without the token", raw.slice(0, 500));
        if (method === "GET" && res.status !== 200 && res.status !== 431 && (answer as { error?: { code?: string } }).error?.code !== "unauthorized") {
          fail(`GET /metrics refused with ${res.status}, not unauthorized`, answer);
        }
      }),
    );
  }, TIMEOUT);

  it("keeps the metrics' labels to names Switchboard defines, after everything above", async () => {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    /** Every value of `label` among the series whose name starts with `metric`. */
    const values = (label: string, metric = "switchboard_") => {
      const found = new Set<string>();
      for (const line of text.split("\n")) {
        if (!line.startsWith(metric)) continue;
        const m = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`).exec(line);
        if (m) found.add(m[1]!);
      }
      return [...found];
    };
    const events = new Set([...Object.keys(clientEvents), ...Object.keys(slashCommands.events ?? {}), ...Object.keys(channelEvents), "(unknown)"]);
    const outcomes = new Set<string>(["ok", ...ERROR_CODES]);
    const namespaces = new Set(["/", "/fuzz", "/push", "/strict"]);
    expect(values("event", "switchboard_client_event").filter((e) => !events.has(e))).toEqual([]);
    expect(values("outcome").filter((o) => !outcomes.has(o))).toEqual([]);
    expect(values("namespace").filter((n) => !namespaces.has(n))).toEqual([]);
    expect(values("code").filter((c) => !outcomes.has(c))).toEqual([]);
    // Route patterns as the server registered them: no id, no path a client chose.
    expect(values("route").filter((r) => !/^\/api(\/[a-z0-9.*-]+|\/:[a-zA-Z]+)*$/.test(r))).toEqual([]);
    // The fuzz sent thousands of made-up names: the series stay few.
    expect(text.split("\n").filter((l) => l.startsWith("switchboard_")).length).toBeLessThan(3_000);
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
describe.runIf(redisUp)("fuzz: queue commands (Redis stream)", () => {
  const stream = `switchboard-fuzz:${process.pid}:${randomBytes(4).toString("hex")}`;
  const dead = `${stream}:dead`;
  let redis: Awaited<ReturnType<typeof redisClient>>;
  let queueServer: RunningServer;

  beforeAll(async () => {
    redis = await redisClient();
    queueServer = await bootOnData(base, {
      ...common(),
      ...RAISED,
      REDIS_URL,
      SWITCHBOARD_QUEUE_STREAM: stream,
      SWITCHBOARD_QUEUE_CLAIM_MS: "200",
      SWITCHBOARD_QUEUE_MAX_ATTEMPTS: "2",
    });
    server = queueServer;
    setCurrentServer(queueServer);
    privileged = true;
    await canary.attach(queueServer.url);
    for (const s of socketList()) await s.moveTo(queueServer.url);
  });
  afterAll(async () => {
    privileged = false;
    await queueServer?.close();
    if (redis) {
      await redis.del([stream, dead]);
      redis.destroy();
    }
  });

  /** Appends an entry and waits for its outcome: run, or moved to the dead-letter stream with a good code. */
  async function runEntry(message: Record<string, string>): Promise<void> {
    const inlet = queueServer.inlet!;
    const settled = () => inlet.stats.executed + inlet.stats.deadLettered;
    const before = settled();
    const deadBefore = inlet.stats.deadLettered;
    const id = await redis.xAdd(stream, "*", message);
    const deadline = Date.now() + 20_000;
    while (settled() === before) {
      if (Date.now() > deadline) fail("the command got no outcome in 20 s", { id, message: Object.keys(message) });
      await new Promise((r) => setTimeout(r, 5));
    }
    if (inlet.stats.deadLettered > deadBefore) {
      const [last] = await redis.xRevRange(dead, "+", "-", { COUNT: 1 });
      if (last?.message.id !== id) fail("the dead-letter stream does not hold the command", last);
      const problem = answerProblem({ ok: false, error: { code: last.message.code, message: last.message.error } });
      if (problem) fail(`dead-lettered with ${problem}`, last.message);
    }
    while ((await redis.xPending(stream, QUEUE_GROUP)).pending > 0) {
      if (Date.now() > deadline) fail("the command is still pending", id);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  for (const [op, spec] of Object.entries(queueCommands)) {
    it(`queue command ${op}`, async () => {
      const arb = fc.record({
        fields: payloadArb(spec.schema),
        op: fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>(op) }, { weight: 1, arbitrary: hostileValueArb() }),
        extra: fc.oneof(
          { weight: 6, arbitrary: fc.constant([] as Array<[string, string]>) },
          { weight: 1, arbitrary: fc.array(fc.tuple(keyArb(["command", "id"]), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 2 }) },
        ),
      });
      await fuzz(
        fc.asyncProperty(arb, async ({ fields, op: opValue, extra }) => {
          const command = jsonText(new Obj([["op", opValue], ...fields.entries]), world);
          const message: Record<string, string> = {};
          for (const [k, v] of extra) if (k !== "command") Object.defineProperty(message, k, { value: v, enumerable: true, configurable: true, writable: true });
          message.command = command;
          await runEntry(message);
          await afterPrivileged(command);
        }),
      );
    }, TIMEOUT);
  }

  it("queue entries that are not commands", async () => {
    const value = fc.oneof(
      hostileString.map((s) => (s instanceof Long ? s.text : s)),
      hostileValueArb().map((v) => jsonText(v, world)),
      fc.constantFrom("{", "[]", "null", '{"op":"publish"}', '{"op":"__proto__"}', '{"op":{"op":"publish"}}', '"publish"'),
    );
    await fuzz(
      fc.asyncProperty(fc.array(fc.tuple(keyArb(["command", "op", "id"]), value), { minLength: 1, maxLength: 3 }), async (entries) => {
        const message: Record<string, string> = {};
        for (const [k, v] of entries) Object.defineProperty(message, k, { value: v, enumerable: true, configurable: true, writable: true });
        await runEntry(message);
        await afterPrivileged(JSON.stringify(entries));
      }),
    );
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
describe("fuzz: floods with the default limits", () => {
  let floodServer: RunningServer;
  /** Demonstrations more than fuzz: at most 100 runs, whatever FUZZ_RUNS says (each sends dozens of events or sign-ins). */
  const floodRuns = Math.min(RUNS, 100);

  beforeAll(async () => {
    floodServer = await bootOnData(base, common(), { generous: false });
    server = floodServer;
    setCurrentServer(floodServer);
    await canary.attach(floodServer.url);
  });
  afterAll(async () => {
    await floodServer?.close();
  });

  it("a burst of client events is answered rate_limited past the budget, and with nothing else", async () => {
    const events = Object.keys(clientEvents);
    const payload = fc.oneof(
      fc.constant<unknown>({}),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom<unknown>({ limit: 1 }, { query: "fuzz" }, { roomId: "x", body: "flood" }, { roomId: "x", typing: true }),
    );
    await fuzz(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...events), payload), { minLength: 60, maxLength: 120 }), async (burst) => {
        const socket = await connectChat(floodServer.url, fuzzer.token);
        try {
          const answers = await Promise.all(burst.map(([event, p]) => socket.timeout(10_000).emitWithAck(event, p) as Promise<unknown>));
          for (const answer of answers) {
            const problem = answerProblem(answer);
            if (problem) fail(problem, answer);
          }
          const limited = answers.filter((a) => (a as { error?: { code: string } }).error?.code === "rate_limited");
          if (limited.length === 0) fail(`a burst of ${burst.length} events was never rate_limited`, null);
        } finally {
          socket.close();
        }
        await canary.check({ quiet: true });
      }),
      floodRuns,
    );
  }, TIMEOUT);

  it("a burst of uploads is answered rate_limited past the limit (SWITCHBOARD_UPLOAD_RATE_LIMIT), and with nothing else", async () => {
    const limit = floodServer.config.limits.uploadsPerUserPerMinute;
    let burstNo = 0;
    await fuzz(
      fc.asyncProperty(fc.integer({ min: limit + 1, max: limit + 10 }), fc.constantFrom("user", "bot"), async (n, as) => {
        // A user's budget lasts a minute; a bot of its own each burst starts with a full one.
        const bot = `flood-${process.pid}-${burstNo++}`;
        const route = as === "user" ? `/api/rooms/${rooms.fuzzPublic.id}/files` : `/api/v1/rooms/${rooms.fuzzPublic.id}/files?bot=${bot}`;
        const auth = as === "user" ? `Bearer ${fuzzer.token}` : `Bearer ${KEYS.full}`;
        const head = `POST ${route} HTTP/1.1\r\nHost: fuzz\r\nAuthorization: ${auth}\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=burst.txt\r\nContent-Length: 5\r\n\r\n`;
        const outcomes = await Promise.all(Array.from({ length: n }, () => rawExchange(floodServer.port, head, [Buffer.from("burst")], 10_000)));
        let limited = 0;
        let accepted = 0;
        for (const outcome of outcomes) {
          if (outcome.kind !== "answer") fail(`an upload of a burst got no answer (${outcome.kind})`, outcome);
          const body = JSON.parse(outcome.body.toString() || "null") as unknown;
          const problem = httpProblem(outcome.status, body);
          if (problem) fail(problem, body);
          if (outcome.status === 429) {
            limited += 1;
            if (!outcome.headers["retry-after"]) fail("429 without Retry-After", body);
          }
          if (outcome.status === 201) accepted += 1;
        }
        if (limited === 0) fail(`a burst of ${n} uploads was never rate_limited`, null);
        if (as === "bot" && accepted > limit) fail(`${accepted} uploads of a burst were accepted, past the limit of ${limit}`, null);
        // Unsent uploads count against another limit (50 waiting): not this property's.
        const waiting = await floodServer.db.prisma.attachment.findMany({ where: { messageId: null, uploaderId: { in: [fuzzer.user.id, `bot:${bot}`] }, name: "burst.txt" }, select: { id: true } });
        await floodServer.db.prisma.attachment.deleteMany({ where: { id: { in: waiting.map((w) => w.id) } } });
        await floodServer.db.prisma.fileChunk.deleteMany({ where: { key: { in: waiting.map((w) => w.id) } } });
        await canary.check({ quiet: true });
      }),
      floodRuns,
    );
  }, TIMEOUT);

  it("a burst of sign-ins is answered rate_limited past the limit, and with nothing else", async () => {
    await fuzz(
      fc.asyncProperty(fc.integer({ min: 21, max: 30 }), fc.string({ maxLength: 12 }), async (n, password) => {
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => api(floodServer.url, "POST", "/api/auth/login", { username: `nobody_${i}`, password: password || "x" })),
        );
        for (const res of results) {
          const problem = httpProblem(res.status, res.body);
          if (problem) fail(problem, res.body);
          if (res.status === 429 && !res.headers.get("retry-after")) fail("429 without Retry-After", res.body);
        }
        if (!results.some((r) => r.status === 429)) fail(`${n} sign-ins in a burst were never rate_limited`, null);
        await canary.check({ quiet: true });
      }),
      floodRuns,
    );
  }, TIMEOUT);
});
