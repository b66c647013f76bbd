/**
 * Generators for the fuzz suite (test/fuzz.test.ts): hostile values, and
 * structurally plausible payloads built from the server's own schemas (the
 * right field names with values that reach the handlers, or hostile ones).
 *
 * Generated values are small descriptions, materialised only when a call is
 * made, so that a counterexample prints readably (`long("x" x 1048576)`
 * rather than a megabyte) and can name things that exist only at run time
 * (`ref(room#2)`: the third room of the fuzzer's world, whatever its id).
 */
import fc from "fast-check";
import { z } from "zod";

// ---- descriptions, materialised at call time ----

/** Kinds of ids the running world resolves: rooms, users, connections… */
export type RefKind = "room" | "user" | "client" | "message" | "group" | "channel" | "username" | "password" | "file" | "avatar";

/** One of the world's ids of a kind (index modulo how many there are). */
export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly index: number,
  ) {}
  [fc.toStringMethod](): string {
    return `ref(${this.kind}#${this.index})`;
  }
}

/** A long string: `prefix` then `piece` repeated `count` times. */
export class Long {
  constructor(
    readonly piece: string,
    readonly count: number,
    readonly prefix = "",
  ) {}
  get text(): string {
    return this.prefix + this.piece.repeat(this.count);
  }
  [fc.toStringMethod](): string {
    return `long(${this.prefix ? `${fc.stringify(this.prefix)} + ` : ""}${fc.stringify(this.piece)} x ${this.count})`;
  }
}

/** `depth` levels of arrays (`[[[…]]]`) or objects (`{"key":{"key":…}}`) around `leaf`. */
export class Deep {
  constructor(
    readonly depth: number,
    readonly shape: "array" | "object",
    readonly leaf: unknown,
    readonly key: string,
  ) {}
  [fc.toStringMethod](): string {
    return `deep(${this.shape}${this.shape === "object" ? ` ${fc.stringify(this.key)}` : ""} x ${this.depth}, ${fc.stringify(this.leaf)})`;
  }
}

/** An object with these own properties, in order (`__proto__` included, as JSON.parse makes it). */
export class Obj {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([k, v]) => `${fc.stringify(k)}: ${fc.stringify(v)}`).join(", ")}}`;
  }
}

/** JSON text as is (`1e400` parses to Infinity, `123456789012345678901234567890` loses precision). */
export class RawJson {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `raw(${this.text})`;
  }
}

/** A paging cursor as the server encodes them (base64url of a JSON array), with parts of our choosing. */
export class Cursor {
  constructor(readonly parts: unknown) {}
  [fc.toStringMethod](): string {
    return `cursor(${fc.stringify(this.parts)})`;
  }
}

/** Binary data: travels over Socket.IO as an attachment; JSON has no such thing (it becomes `{type: "Buffer", …}`). */
export class Bin {
  constructor(readonly bytes: number[]) {}
  [fc.toStringMethod](): string {
    return `bin(${this.bytes.length} bytes)`;
  }
}

/** Resolves references against the running world. */
export interface World {
  resolve(ref: Ref): string;
}

/**
 * The deepest nesting handed to socket.io-client (its encoder and JSON.stringify recurse, and a
 * vitest worker's stack overflowed at 2,200 levels inside an event's arguments); deeper goes as raw
 * text. Far past the server's own limit (32) either way.
 */
export const MAX_OBJECT_DEPTH = 1000;

/** Whether {@link materialize} can build the value as objects (no nesting past {@link MAX_OBJECT_DEPTH}). */
export function objectSafe(value: unknown): boolean {
  if (value instanceof Deep) return value.depth <= MAX_OBJECT_DEPTH && objectSafe(value.leaf);
  if (value instanceof Obj) return value.entries.every(([, v]) => objectSafe(v));
  if (value instanceof Cursor) return true;
  if (Array.isArray(value)) return value.every(objectSafe);
  return true;
}

function ownProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The JavaScript value a description stands for. */
export function materialize(value: unknown, world: World): unknown {
  if (value instanceof Ref) return world.resolve(value);
  if (value instanceof Long) return value.text;
  if (value instanceof RawJson) return JSON.parse(value.text);
  if (value instanceof Bin) return Buffer.from(value.bytes);
  if (value instanceof Cursor) return cursorText(value, world);
  if (value instanceof Deep) {
    let inner = materialize(value.leaf, world);
    for (let i = 0; i < value.depth; i++) {
      if (value.shape === "array") inner = [inner];
      else {
        const o: Record<string, unknown> = {};
        ownProperty(o, value.key, inner);
        inner = o;
      }
    }
    return inner;
  }
  if (value instanceof Obj) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of value.entries) ownProperty(o, k, materialize(v, world));
    return o;
  }
  if (Array.isArray(value)) return value.map((v) => materialize(v, world));
  return value;
}

/** The JSON text of a description, built directly (any depth; lone surrogates escaped as `\ud800`). */
export function jsonText(value: unknown, world: World): string {
  if (value === undefined) return "null";
  if (value instanceof Ref) return JSON.stringify(world.resolve(value));
  if (value instanceof Long) return JSON.stringify(value.text);
  if (value instanceof RawJson) return value.text;
  if (value instanceof Bin) return JSON.stringify(Buffer.from(value.bytes));
  if (value instanceof Cursor) return JSON.stringify(cursorText(value, world));
  if (value instanceof Deep) {
    const open = value.shape === "array" ? "[" : `{${JSON.stringify(value.key)}:`;
    const close = value.shape === "array" ? "]" : "}";
    return open.repeat(value.depth) + jsonText(value.leaf, world) + close.repeat(value.depth);
  }
  if (value instanceof Obj) {
    const parts = value.entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v, world)}`);
    return `{${parts.join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(v, world)).join(",")}]`;
  return JSON.stringify(value) ?? "null";
}

function cursorText(cursor: Cursor, world: World): string {
  return Buffer.from(jsonText(cursor.parts, world)).toString("base64url");
}

// ---- hostile strings and values ----

/** Characters that have broken servers: NUL, lone surrogates, bidi overrides, invisible and control characters. */
const RISKY_CHARS = [
  "\u0000", "\ud800", "\udfff", "\u202e", "\u202d", "\u2066", "\u2069", "\u061c", "\u200b", "\u200e", "\ufeff",
  "\u0085", "\u001b", "\u007f", "\u0007", "\t", "\n", "\r", "\u2028", "\u2029", "\ufffd", "\ufffe", "\uffff",
];

/** Strings that mean something to some layer: numbers, keywords, prototype names, room prefixes, encodings. */
const SPECIAL_STRINGS = [
  "", " ", "   ", "\u0000", "a\u0000b", "\ud800", "x\udc00y", "\udbff\udfff", "\u202eevil", "\u2066x\u2069", "\u200b",
  "\t\n\r", "\u001b[31mred", "NaN", "Infinity", "-Infinity", "null", "undefined", "true", "false", "0", "-0", "-1",
  "1e309", "0x10", " 1", "1 ", "01", "9007199254740993", "9223372036854775807", "9223372036854775808",
  "9999999999999999999", "99999999999999999999", "__proto__", "constructor", "prototype", "toString",
  "hasOwnProperty", "valueOf", "%00", "%ZZ", "%", "%ED%A0%80", "../..", "/", "//", "\\", "' OR 1=1 --", "${x}",
  "{{x}}", "$where", "user:", "room:", "group:", "channel:", "session:", "ip:", "*", "?", "#", "&", "=", "+",
  "😀", "👩‍👩‍👧", "e\u0301", "𝕏", "Ω", "ＡＢＣ", "İ", "ß", "ﬃ", "<script>alert(1)</script>", "javascript:alert(1)",
];

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Lengths at and around the schemas' limits, and far past them (up to 1 MB). */
const LONG_COUNTS = [64, 65, 80, 81, 100, 101, 128, 129, 200, 201, 256, 257, 400, 401, 4000, 4001, 16_384, 65_536, 100_001, 1_048_576];

/** At most about a megabyte of UTF-8. */
const MAX_LONG_BYTES = 1_048_576;

export const longString: fc.Arbitrary<Long> = fc
  .tuple(fc.constantFrom("x", "é", "😀", " ", "\u0000", "\ud800", "a\u202e", "\\\""), fc.constantFrom(...LONG_COUNTS))
  .map(([piece, count]) => new Long(piece, Math.min(count, Math.floor(MAX_LONG_BYTES / Buffer.byteLength(piece)))));

export const hostileString: fc.Arbitrary<string | Long> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: codeUnit, maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...RISKY_CHARS), fc.string({ maxLength: 8 }))
      .map(([a, b, c]) => a + b + c),
  },
  { weight: 1, arbitrary: longString },
);

export const hostileNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0, -0, 1, -1, 2, 49, 50, 99, 100, 101, 199, 200, 499, 500, 501, 999, 1000, 1001, 9999, 10_000, 10_001,
      2 ** 31, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1.5, 0.1, -2.5,
      Number.NaN, Number.POSITIVE_INFINITY,
    ),
  },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("1e400", "-1e400", "123456789012345678901234567890", "1E2", "-0", "0.0000000000000000000001", "1e-400")
      .map((t) => new RawJson(t)),
  },
);

/** Object keys worth trying: prototype names, the schemas' own field names, odd text. */
export function keyArb(fieldNames: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "toJSON", "then") },
    { weight: 2, arbitrary: fieldNames.length > 0 ? fc.constantFrom(...fieldNames) : fc.constant("extra") },
    { weight: 2, arbitrary: fc.constantFrom("", "\u0000", "\ud800", "a.b", "0", "admin", "role", "ok", "error", "_placeholder", "num") },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
}

const deepArb: fc.Arbitrary<Deep> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 30, max: 200 }), fc.integer({ min: 1000, max: 30_000 })),
    shape: fc.constantFrom("array" as const, "object" as const),
    leaf: fc.constantFrom(null, 1, "x", "\u0000", true),
    key: fc.constantFrom("a", "__proto__", "roomId", "data", "constructor"),
  })
  .map(({ depth, shape, leaf, key }) => new Deep(depth, shape, leaf, key));

const binArb: fc.Arbitrary<Bin> = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }).map((b) => new Bin(b));

/**
 * Any value that can travel (as JSON, or over Socket.IO): hostile strings
 * and numbers, booleans, null, arrays and objects of those (with prototype
 * keys), thousands of levels of nesting, binary, random JSON.
 */
export function hostileValueArb(fieldNames: readonly string[] = [], options: { binary?: boolean } = {}): fc.Arbitrary<unknown> {
  const keys = keyArb(fieldNames);
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 3 },
      { weight: 5, arbitrary: hostileString },
      { weight: 3, arbitrary: hostileNumber },
      { weight: 1, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
      { weight: 2, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
      { weight: 2, arbitrary: fc.array(fc.tuple(keys, tie("value")), { maxLength: 4 }).map((e) => new Obj(e)) },
      { weight: 1, arbitrary: deepArb },
      ...(options.binary ? [{ weight: 1, arbitrary: binArb as fc.Arbitrary<unknown> }] : []),
    ),
  }));
  return value;
}

// ---- plausible values, by field name and schema ----

const ref = (kind: RefKind) => fc.nat({ max: 31 }).map((i) => new Ref(kind, i));

const ISO_TIMES = [
  "2020-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "-100000-01-01T00:00:00.000Z", "+275760-09-13T00:00:00.000Z",
  "0000-01-01T00:00:00.000Z", "-004714-11-23T00:00:00.000Z", "+294277-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
  "2020-02-30T00:00:00.000Z", "2020-01-01", "2020-01-01T00:00:00+25:00", "1e3", "NaN", "", "now", "infinity", "epoch",
];

/** Paging cursors: well-formed ones holding odd times and ids, wrong shapes, and strings that are no cursor at all. */
const cursorArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.oneof(fc.constantFrom(...ISO_TIMES), hostileString), fc.oneof(ref("room"), ref("user"), ref("client"), hostileString))
      .map((parts) => new Cursor(parts)),
  },
  { weight: 2, arbitrary: fc.oneof(ref("client"), ref("user"), ref("group"), hostileString).map((p) => new Cursor([p])) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((p) => new Cursor(p)) },
  { weight: 1, arbitrary: hostileString },
);

const messageIdArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: ref("message") },
  { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map(String) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "1", "9223372036854775807", "9223372036854775808", "9999999999999999999", "18446744073709551616", "0", "01", "-1",
      "1.5", "1e3", " 1", "99999999999999999999",
    ),
  },
);

const bodyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("hello", "/me", "/me waves", "/me   ", "/shrug", "/shrug fine", "/usr/bin", "   ", "\n", "\u202e\u202e", "/me \u0000"),
  },
  {
    // Near the 4,000-character limit, where a plugin's rewrite (`/me` → `* Name …`) may push a body over it.
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom("", "/me ", "/shrug ", " "),
        fc.constantFrom("x", "😀", " x"),
        fc.oneof(fc.constantFrom(3900, 3980, 3985, 3990, 3993, 3995, 3999, 4000, 4001), fc.integer({ min: 1, max: 4001 })),
      )
      .map(([prefix, piece, length]) => new Long(piece, Math.max(1, Math.floor((length - prefix.length) / piece.length)), prefix)),
  },
);

const eventNameArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "notice", "message:new", "room:joined", "room:left", "presence", "typing", "session:ended", "protocol:error",
      "publication", "client:hello", "connection:replaced", "connect", "connect_error", "disconnect", "disconnecting",
      "newListener", "removeListener", "error", "ping", "__proto__",
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(100, 101).map((n) => new Long("e", n)) },
);

const namespaceArb: fc.Arbitrary<unknown> = fc.constantFrom(
  "/", "/push", "/fuzz", "/strict", "/nope", "push", "", "/PUSH", "//", "/push/", "/push,", `/${"a".repeat(40)}`, `/${"a".repeat(41)}`, "/-x",
);

const channelArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: ref("channel") },
  { weight: 2, arbitrary: fc.constantFrom("news", "user:1", "user:x", "canary-channel", "a", "news ", "NEWS", "user:1\n") },
  { weight: 1, arbitrary: fc.constantFrom(200, 201).map((n) => new Long("c", n)) },
);

const groupArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: ref("group") },
  { weight: 2, arbitrary: fc.constantFrom("vip", "g", "user:1", "room:x", "a b") },
  { weight: 1, arbitrary: fc.constantFrom(200, 201).map((n) => new Long("g", n)) },
);

const idLike = (kind: RefKind) =>
  fc.oneof(
    { weight: 4, arbitrary: ref(kind) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom("system", "bot:x", "x@host", "user:x", "room:x", "nobody", "a".repeat(128), "a".repeat(129)) },
  );

const textArb = (max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: Math.min(max, 24) }) },
    { weight: 1, arbitrary: fc.constantFrom(max, max + 1).map((n) => new Long("n", n)) },
  );

/** Plausible values for a string field, chosen by its name. */
export function byName(name: string): fc.Arbitrary<unknown> {
  const n = name.toLowerCase();
  if (n === "clientmsgid") return fc.oneof(fc.constantFrom("dup-1", "dup-2", "m1"), fc.uuid(), textArb(64));
  if (/roomid|^rooms?$/.test(n)) return idLike("room");
  if (/userid|memberid|^users?$/.test(n)) return idLike("user");
  if (/clientid|^clients?$/.test(n)) return idLike("client");
  if (/^groups?$/.test(n)) return groupArb;
  if (/channel/.test(n)) return channelArb;
  if (/event/.test(n)) return eventNameArb;
  if (/namespace/.test(n)) return namespaceArb;
  if (/body/.test(n)) return bodyArb;
  if (/messageid|before/.test(n)) return messageIdArb;
  if (/attachmentid|fileid/.test(n)) return fc.oneof({ weight: 4, arbitrary: ref("file") }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: textArb(36) });
  if (/after|cursor/.test(n)) return cursorArb;
  if (/password/.test(n))
    return fc.oneof(ref("password"), fc.constantFrom("correct horse battery", "short", "        "), fc.string({ minLength: 8, maxLength: 20 }), textArb(256));
  if (/username/.test(n)) return fc.oneof(ref("username"), fc.stringMatching(/^[a-zA-Z0-9_.-]{3,32}$/), fc.constantFrom("ab", "a@host", "system"));
  if (/query/.test(n)) return fc.oneof(ref("username"), fc.constantFrom("", " ", "%", "_", "fuzz", "user_", "\\"), textArb(80));
  if (/name/.test(n)) return fc.oneof(textArb(80), fc.constantFrom("\u202e\u202c", " a ", "\u200b"));
  if (n === "id") return fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,40}$/), fc.constantFrom("x", "a".repeat(41)));
  if (n === "op") return fc.constantFrom("publish", "broadcast", "nope", "__proto__", "constructor", "toString", "");
  if (/data/.test(n)) return fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(new Deep(32, "array", 1, "a")), fc.constant(new Deep(33, "object", 1, "a")));
  return textArb(100);
}

/** The schema under optional/default/nullable/pipe wrappers: what the input must look like. */
export function inputSchema(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

/**
 * The fields an input schema takes: an object's own fields, then the fields
 * a pipe's output takes from nested objects (the queue's `postMessage` reads
 * `{roomId, ...rest}` and validates `rest` as a message body).
 */
export function fieldsOf(schema: z.ZodType): Array<[string, z.ZodType]> {
  const fields = new Map<string, z.ZodType>();
  const visit = (s: z.ZodType, depth: number): void => {
    if (depth > 6) return;
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) return visit(s.unwrap() as z.ZodType, depth + 1);
    if (s instanceof z.ZodPipe) {
      visit(s.in as z.ZodType, depth + 1);
      const out = s.out as z.ZodType;
      if (out instanceof z.ZodObject) {
        for (const [k, v] of Object.entries(out.shape as Record<string, z.ZodType>)) {
          const inner = inputSchema(v);
          if (inner instanceof z.ZodObject && !fields.has(k)) visit(inner, depth + 1);
          else if (!fields.has(k)) fields.set(k, v);
        }
      }
      return;
    }
    if (s instanceof z.ZodObject) {
      for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) if (!fields.has(k)) fields.set(k, v);
    }
  };
  visit(schema, 0);
  return [...fields];
}

/** A plausible value for one field: its schema gives the shape, its name the pool of values. */
function plausible(name: string, schema: z.ZodType, depth: number): fc.Arbitrary<unknown> {
  const s = inputSchema(schema);
  if (s instanceof z.ZodObject && depth < 3) return payloadArb(s, depth + 1);
  if (s instanceof z.ZodArray) {
    const singular = name.endsWith("s") ? name.slice(0, -1) : name;
    return fc.oneof(
      { weight: 3, arbitrary: fc.array(plausible(singular, s.element as z.ZodType, depth + 1), { minLength: 1, maxLength: 5 }) },
      { weight: 2, arbitrary: fc.array(fieldValue(singular, s.element as z.ZodType, depth + 1), { maxLength: 5 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(plausible(singular, s.element as z.ZodType, depth + 1), fc.constantFrom(100, 101, 500, 501, 1000, 1001))
          .map(([e, n]) => Array.from({ length: n }, () => e)),
      },
    );
  }
  if (s instanceof z.ZodBoolean) return fc.boolean();
  if (s instanceof z.ZodNumber) return fc.oneof(fc.integer({ min: 1, max: 100 }), hostileNumber);
  if (s instanceof z.ZodEnum) return fc.constantFrom(...(s.options as unknown[]));
  return byName(name);
}

/** A field's value: mostly plausible (to reach the handler), sometimes hostile (to test the schema). */
function fieldValue(name: string, schema: z.ZodType, depth: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 7, arbitrary: plausible(name, schema, depth) },
    { weight: 3, arbitrary: hostileValueArb([name]) },
  );
}

/** Whether a field may be left out (optional, or with a default). */
const optional = (schema: z.ZodType) => schema.safeParse(undefined).success;

/**
 * Payloads shaped like the schema's input. Half of them plausible
 * throughout (every required field, plausible values: these reach the
 * handlers); the others mixed: each field usually present with a plausible
 * or hostile value, sometimes missing, sometimes extra fields (`__proto__`,
 * `constructor`, other schemas' names…).
 */
export function payloadArb(schema: z.ZodType, depth = 0, extraNames: readonly string[] = []): fc.Arbitrary<Obj> {
  const fields = fieldsOf(schema);
  const names = [...fields.map(([n]) => n), ...extraNames];
  const clean = fields.map(([name, s]) => {
    const value = plausible(name, s, depth).map((v) => [name, v] as const);
    return optional(s) ? fc.option(value, { freq: 2, nil: undefined }) : value;
  });
  const mixed = fields.map(([name, s]) =>
    fc.option(fieldValue(name, s, depth).map((v) => [name, v] as const), { freq: 7, nil: undefined }),
  );
  const extras = fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as Array<readonly [string, unknown]>) },
    { weight: 1, arbitrary: fc.array(fc.tuple(keyArb(names), hostileValueArb(names)), { minLength: 1, maxLength: 2 }) },
  );
  const own = (entries: ReadonlyArray<readonly [string, unknown] | undefined>) =>
    entries.filter((e): e is readonly [string, unknown] => e !== undefined);
  return fc.oneof(
    { weight: 1, arbitrary: fc.tuple(...clean).map((entries) => new Obj(own(entries))) },
    { weight: 1, arbitrary: fc.tuple(fc.tuple(...mixed), extras).map(([entries, extra]) => new Obj([...own(entries), ...extra])) },
  );
}

/** Either a plausible payload for the schema (mostly) or any hostile value at all. */
export function eventPayloadArb(schema: z.ZodType, options: { binary?: boolean } = {}): fc.Arbitrary<unknown> {
  const names = fieldsOf(schema).map(([n]) => n);
  return fc.oneof(
    { weight: 4, arbitrary: payloadArb(schema) },
    { weight: 1, arbitrary: hostileValueArb(names, options) },
  );
}

// ---- URLs ----

/** Percent-encodes the UTF-8 of a string (lone surrogates become U+FFFD, as any HTTP client would send them). */
export function encodePathPart(s: string): string {
  return [...Buffer.from(s, "utf8")]
    .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`))
    .join("");
}

/** A path or query part: usually encoded text, sometimes raw bytes that are not valid percent-encoding. */
export const MALFORMED_URL_PARTS = ["%", "%Z", "%ZZ", "%ED%A0%80", "%C0%80", "%FF", "%00", "%2F", "%2e%2e", "..", "%25", "a%"];

// ---- file uploads (streamed routes: headers and raw bytes, not JSON) ----

/**
 * Makes a header value sendable: what no HTTP client can put in a header
 * (controls, characters past U+00FF) is percent-encoded; tab, printable ASCII
 * and the bytes 0x80–0xFF (as a client sending raw UTF-8 sends them) pass.
 */
export function headerValue(s: string): string {
  return s.replace(/[^\t\x20-\x7e\x80-\xff]/g, (c) => encodePathPart(c));
}

/** The UTF-8 bytes of a string, as a latin1 string (a header carrying raw UTF-8). */
export const utf8Bytes = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** File names that have broken servers: paths, reserved names, tricky Unicode, names that look like others. */
const FILE_NAMES = [
  "report.pdf", "photo.jpg", "a", ".", "..", "...", "/", "\\", "../../../etc/passwd", "..\\..\\windows\\win.ini",
  "/etc/passwd", "C:\\boot.ini", "a/", "a/..", "....//....//x", "%2e%2e%2fx", "..%c0%afx", "x/../../y", "a\\", "dir/ ",
  " ", "  leading and trailing  ", "CON", "nul.txt", "com1", ".htaccess", ".env", "file.", "name with spaces.txt",
  "résumé.pdf", "e\u0301te\u0301.txt", "😀.png", "👩‍👩‍👧.gif", "文件.docx", "ｆｕｌｌｗｉｄｔｈ.txt", "\u202egnp.exe", "a\u200b.txt",
  "a\u0000b.txt", "\u0000", "\ud800.txt", "x\udc00", "a\tb", "line\nbreak.txt", "cr\r.txt", "\u0085next", "\u007f",
  "quote\".txt", "semi;colon.txt", "equals=x", "star*.txt", "percent%.txt", "%41%42.txt", "back\\slash", "'single'",
  "<script>alert(1)</script>.html", "x.svg", "x.html", "index.html", "${jndi:x}", "__proto__", "constructor",
];

export const fileNameArb: fc.Arbitrary<string | Long> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FILE_NAMES) },
  { weight: 3, arbitrary: hostileString },
  {
    // At and around the 255-character limit (UTF-16 units: 😀 is two), and far past it.
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("x", "é", "😀", "a/", " "), fc.constantFrom(127, 128, 254, 255, 256, 3000))
      .map(([piece, count]) => new Long(piece, count)),
  },
);

/** A Content-Disposition header, described (printed readably in a counterexample). */
export type DispositionDesc =
  | { kind: "none" }
  /** RFC 8187: `attachment; filename*=UTF-8''…`, as the web UI sends it. */
  | { kind: "extended"; type: string; charset: string; name: string | Long }
  /** `filename="…"`, with the name's UTF-8 bytes raw (what many clients send) or as ISO-8859-1. */
  | { kind: "quoted"; type: string; name: string | Long; utf8: boolean }
  /** Both parameters, naming different files. */
  | { kind: "both"; plain: string | Long; extended: string | Long; extendedFirst: boolean }
  /** Anything at all. */
  | { kind: "raw"; text: string | Long };

const DISPOSITION_TYPES = ["attachment", "attachment", "inline", "ATTACHMENT", "form-data; name=\"file\"", "", "x", "attachment;"];

/** Headers a hand-written or broken client sends. */
const DISPOSITION_TEXTS = [
  "", " ", "attachment", "inline", "attachment;", ";", ";;;", "attachment; filename", "attachment; filename=", 'attachment; filename=""',
  'attachment; filename=" "', "attachment; filename*=", "attachment; filename*=UTF-8''", "attachment; filename*=UTF-8'en'%E2%82%AC.txt",
  "attachment; filename*=ISO-8859-1''%E9t%E9.txt", "attachment; filename*=KOI8-R''x", "attachment; filename*=''x", "attachment; filename*=UTF-8''%",
  "attachment; filename*=UTF-8''%ZZ", "attachment; filename*=UTF-8''%ED%A0%80", "attachment; filename*=UTF-8''%C0%AE%C0%AE", "attachment; filename*=UTF-8''%00",
  "attachment; filename*=UTF-8''%00.txt", "attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "attachment; filename*=UTF-8''%E2%80%AEfdp.exe",
  "attachment; filename*=utf8''x", "attachment; filename*=UTF-8''a%0D%0Ab", "attachment; filename=a; filename=b", 'attachment; filename="unterminated',
  'attachment; filename="a\\"b"', 'attachment; filename="\\', "attachment; filename=a b c", "attachment; __proto__=x; filename=a",
  "attachment; filename=__proto__", "attachment; constructor=x", "attachment; filename=toString", 'attachment; filename="..\\\\..\\\\x"',
  "attachment; FILENAME=Upper.txt", "attachment; filename = spaced.txt", "attachment; filename=a.txt; size=99999999999",
  'form-data; name="file"; filename="f.png"', "attachment\tfilename=x", "attachment; filename==", "attachment; =x", "filename=x",
];

const dispositionName = (n: string | Long) => (n instanceof Long ? n.text : n);

export const dispositionArb: fc.Arbitrary<DispositionDesc> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "none" } as const) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("extended" as const),
      type: fc.oneof({ weight: 6, arbitrary: fc.constant("attachment") }, { weight: 1, arbitrary: fc.constantFrom(...DISPOSITION_TYPES) }),
      charset: fc.oneof({ weight: 6, arbitrary: fc.constant("UTF-8''") }, { weight: 1, arbitrary: fc.constantFrom("utf-8''", "UTF-8'en'", "ISO-8859-1''", "UTF-16''", "''", "UTF-8'") }),
      name: fileNameArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("quoted" as const),
      type: fc.constantFrom(...DISPOSITION_TYPES),
      name: fileNameArb,
      utf8: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("both" as const), plain: fileNameArb, extended: fileNameArb, extendedFirst: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("raw" as const),
      text: fc.oneof(fc.constantFrom(...DISPOSITION_TEXTS), hostileString, fc.constantFrom(8000, 17_000).map((n) => new Long("x", n, "attachment; filename="))),
    }),
  },
);

/** RFC 8187 encoding of a name in a charset (unpaired surrogates become U+FFFD, as any client sends them). */
function extendedValue(name: string, charset: string): string {
  if (/^iso-8859-1/i.test(charset)) {
    return [...Buffer.from(name, "latin1")].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
  }
  return encodePathPart(name);
}

/** A quoted-string: `"` and `\` escaped. */
const quoted = (s: string) => `"${s.replace(/[\\"]/g, "\\$&")}"`;

/** The header value a description stands for (undefined: no header), sendable as is. */
export function dispositionText(d: DispositionDesc): string | undefined {
  switch (d.kind) {
    case "none":
      return undefined;
    case "extended":
      return headerValue(`${d.type}${d.type ? "; " : ""}filename*=${d.charset}${extendedValue(dispositionName(d.name), d.charset)}`);
    case "quoted": {
      const name = dispositionName(d.name);
      return headerValue(`${d.type}${d.type ? "; " : ""}filename=${quoted(d.utf8 ? utf8Bytes(name) : name)}`);
    }
    case "both": {
      const plain = `filename=${quoted(dispositionName(d.plain))}`;
      const extended = `filename*=UTF-8''${extendedValue(dispositionName(d.extended), "UTF-8")}`;
      return headerValue(`attachment; ${d.extendedFirst ? `${extended}; ${plain}` : `${plain}; ${extended}`}`);
    }
    case "raw":
      return headerValue(dispositionName(d.text));
  }
}

/** `Content-Type` of an upload: none, what browsers send, and what they never would. */
export const uploadTypeArb: fc.Arbitrary<string | Long | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/svg+xml", "text/html", "application/pdf",
      "application/octet-stream", "text/plain; charset=utf-8", "application/json", "video/mp4", "application/zip",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "", " ", "IMAGE/PNG", "image/png; charset=x", " image/png ", "image/png;", "image/", "/", "/png", "image", "*/*", "image/*",
      "text/html, image/png", "image/png\t", "<script>", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
      "text/html;charset=utf-7", "image/svg+xml; q=1", "application/pdf\u0000", "image/jpeg\u00ff", `a/${"b".repeat(127)}`, `a/${"b".repeat(200)}`,
      "x-/y", "-x/y", "image/png image/jpeg",
    ),
  },
  { weight: 1, arbitrary: hostileString },
);

/** Real files (a turned JPEG, a PNG with transparency, a PDF, an SVG with a script), cut short or with bytes changed. */
export const FIXTURES = ["rotated.jpg", "badge.png", "report.pdf", "script.svg"] as const;

/** An upload's bytes, described. */
export type BodyDesc =
  | { kind: "bytes"; bytes: number[] }
  | { kind: "fixture"; name: string; cut: number | null; flips: Array<[number, number]> }
  /** `size` bytes of one value: at and past the size limit. */
  | { kind: "fill"; size: number; byte: number }
  /** A whole real file, then bytes of one value up to `size` (a picture at and past the size limit). */
  | { kind: "padded"; name: string; size: number; byte: number };

/** Body descriptions; `limit` is the server's largest file (sizes are tried at and around it). */
export function uploadBodyArb(limit: number): fc.Arbitrary<BodyDesc> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<BodyDesc>({ kind: "bytes", bytes: [] }) },
    { weight: 3, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 2048 }).map((bytes) => ({ kind: "bytes", bytes }) as BodyDesc) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("fixture" as const),
        name: fc.constantFrom(...FIXTURES),
        cut: fc.option(fc.nat({ max: 4096 }), { freq: 3, nil: null }),
        flips: fc.array(fc.tuple(fc.nat({ max: 4096 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(limit - 1, limit, limit + 1, limit * 3), fc.integer({ min: 0, max: 255 }))
        .map(([size, byte]) => ({ kind: "fill", size, byte }) as BodyDesc),
    },
  );
}

/** The bytes a body description stands for; `fixture` reads a file of test/fixtures. */
export function bodyBytes(d: BodyDesc, fixture: (name: string) => Buffer): Buffer {
  if (d.kind === "bytes") return Buffer.from(d.bytes);
  if (d.kind === "fill") return Buffer.alloc(d.size, d.byte);
  if (d.kind === "padded") {
    const file = fixture(d.name);
    return Buffer.concat([file, Buffer.alloc(Math.max(0, d.size - file.length), d.byte)]);
  }
  const data = Buffer.from(fixture(d.name));
  const bytes = d.cut === null ? data : data.subarray(0, d.cut % (data.length + 1));
  for (const [at, value] of d.flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
  return bytes;
}

/**
 * How the body is framed: its true length; none (then HTTP says there is no
 * body); chunked; a `Content-Length` that lies (shorter: the rest is taken
 * for the next request; longer: the server waits for bytes that never come);
 * one far too large; or framing Node's parser refuses.
 */
export type FramingDesc =
  | { kind: "exact" }
  | { kind: "none" }
  | { kind: "chunked"; pieces: number; extension: boolean }
  | { kind: "short"; by: number }
  | { kind: "long"; by: number }
  | { kind: "declared"; length: string }
  | { kind: "malformed"; headers: Array<[string, string]> };

export const framingArb: fc.Arbitrary<FramingDesc> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<FramingDesc>({ kind: "exact" }) },
  { weight: 1, arbitrary: fc.constant<FramingDesc>({ kind: "none" }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("chunked" as const), pieces: fc.integer({ min: 1, max: 5 }), extension: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("short" as const), by: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("long" as const), by: fc.constantFrom(1, 2, 1000, 5_000_000) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("declared" as const),
      length: fc.constantFrom("10485761", "2147483648", "999999999999999", "9007199254740993", "99999999999999999999", "0"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("malformed" as const),
      headers: fc.constantFrom<Array<[string, string]>>(
        [["content-length", "-1"]],
        [["content-length", "1.5"]],
        [["content-length", "0x10"]],
        [["content-length", "3, 4"]],
        [["content-length", "abc"]],
        [["content-length", "5"], ["content-length", "6"]],
        [["content-length", "5"], ["transfer-encoding", "chunked"]],
        [["transfer-encoding", "gzip, chunked"]],
        [["transfer-encoding", "chunked, gzip"]],
        [["transfer-encoding", "identity"]],
        [["transfer-encoding", "chunked"], ["x-broken-chunks", "1"]],
      ),
    }),
  },
);

// ---- profile pictures (PUT /api/me/avatar: a picture as the body, the square to keep in the query) ----

/** `Content-Type` of a profile picture: mostly one of the five taken, else a near miss, or anything an upload may carry. */
export const avatarTypeArb: fc.Arbitrary<string | Long | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "IMAGE/JPEG", "image/png; charset=binary", " image/webp ", "image/gif;", "Image/AVIF; q=1", "image/jpg", "image/pjpeg", "image/x-png",
      "image/heic", "image/heif", "image/tiff", "image/bmp", "image/svg+xml", "image/*", "image", "image/jpeg, image/png", "image/png\t",
      "image/jpeg\u0000", "text/html", "application/octet-stream", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
    ),
  },
  { weight: 2, arbitrary: uploadTypeArb },
);

/** A value of `x`, `y` or `size`: pixels about the pictures' sizes and the limits (16, 100,000), or text no number parser should take. */
const PIXEL_COUNTS = [0, 1, 8, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 63, 64, 65, 100, 2999, 3000, 3999, 4000, 5000, 9999, 10_000, 99_999, 100_000, 100_001, 999_999];
const pixelArb = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 80 }) }, { weight: 2, arbitrary: fc.constantFrom(...PIXEL_COUNTS) });
const PIXEL_TEXTS = [
  "", " ", "-0", "-1", "+1", "+16", "1e1", "1E2", "2e1", "0x10", "0b10000", "0o20", "1.5", "16.0", "16.", ".5", "016", "0016", " 16", "16 ",
  "\u0661\u0666", "\uff11\uff16", "NaN", "Infinity", "-Infinity", "9999999", "9".repeat(400), "16;", "16,16", "[16]", "true", "null", "16px",
];
type QueryValue = string | Long | { raw: string };
const pixelValueArb: fc.Arbitrary<QueryValue> = fc.oneof(
  { weight: 3, arbitrary: pixelArb.map(String) },
  { weight: 2, arbitrary: fc.constantFrom(...PIXEL_TEXTS) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_URL_PARTS).map((raw) => ({ raw })) },
);

/** The query of `PUT /api/me/avatar`, described. */
export type AvatarQueryDesc =
  /** No square: the middle one. */
  | { kind: "none" }
  /** A square as the web UI sends it (whole pixels): it fits the picture or not, is under 16 or past 100,000 or not. */
  | { kind: "crop"; x: number; y: number; size: number }
  /** Any keys (the right ones mostly, repeated, missing) with any values. */
  | { kind: "pairs"; pairs: Array<[string | Long, QueryValue]> }
  /** A query string no client library would build. */
  | { kind: "raw"; text: string };

const RAW_AVATAR_QUERIES = [
  "?", "?&", "?&&&", "?x", "?x&y&size", "?x=&y=&size=", "?=", "?=16", "?x=0;y=0;size=16", "?x=0&y=0&size=16&", "?x=0&&y=0&size=16",
  "?%", "?x=%", "?x%3D0%26y%3D0%26size%3D16", "??x=0&y=0&size=16", "?x=0&y=0&size=1%36", "?x=0&x=99999&y=0&size=16", "?size=16&size=8&x=0&y=0",
  "?x=0&y=0&size=16&x=", "?x[]=0&y=0&size=16", "?x=0&y=0&size[]=16", "?__proto__=1", "?__proto__[x]=0&y=0&size=16", "?constructor=1",
  `?x=0&y=0&size=${"1".repeat(5000)}`, `?${"x=0&".repeat(3000)}y=0&size=16`, "?x=0&y=0&size=16%00", "?x=%2B0&y=0&size=16", "?x=0&y=0&size=%EF%BC%91%EF%BC%96",
];

export const avatarQueryArb: fc.Arbitrary<AvatarQueryDesc> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<AvatarQueryDesc>({ kind: "none" }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("crop" as const), x: pixelArb, y: pixelArb, size: pixelArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("pairs" as const),
      pairs: fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom<string | Long>("x", "y", "size") },
            { weight: 1, arbitrary: fc.constantFrom<string | Long>("X", "Size", "width", "crop", "__proto__", "constructor", "toString", "x.y", "", " x") },
            { weight: 1, arbitrary: hostileString },
          ),
          pixelValueArb,
        ),
        { maxLength: 5 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_AVATAR_QUERIES).map((text) => ({ kind: "raw" as const, text })) },
);

/** The query string (with its `?`, or none) a description stands for; long text is cut at 32 KiB, past Node's limit for a request head. */
export function avatarQueryText(q: AvatarQueryDesc): string {
  const part = (v: QueryValue) =>
    typeof v === "object" && "raw" in v ? v.raw : encodePathPart((v instanceof Long ? v.text : v).slice(0, 32 * 1024));
  switch (q.kind) {
    case "none":
      return "";
    case "crop":
      return `?x=${q.x}&y=${q.y}&size=${q.size}`;
    case "pairs":
      return q.pairs.length === 0 ? "" : `?${q.pairs.map(([k, v]) => `${part(k)}=${part(v)}`).join("&")}`;
    case "raw":
      return q.text;
  }
}

/**
 * A profile picture's bytes: a picture whole (mostly), cut short or with
 * bytes changed; random bytes; one value at and past the size limit; or a
 * whole picture padded to it. `pictures` are names for {@link bodyBytes}.
 */
export function avatarBodyArb(limit: number, pictures: readonly string[]): fc.Arbitrary<BodyDesc> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<BodyDesc>({ kind: "bytes", bytes: [] }) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 2048 }).map((bytes) => ({ kind: "bytes", bytes }) as BodyDesc) },
    { weight: 4, arbitrary: fc.constantFrom(...pictures).map((name) => ({ kind: "fixture", name, cut: null, flips: [] }) as BodyDesc) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("fixture" as const),
        name: fc.constantFrom(...pictures),
        cut: fc.option(fc.nat({ max: 65_536 }), { freq: 2, nil: null }),
        flips: fc.array(fc.tuple(fc.nat({ max: 65_536 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(limit - 1, limit, limit + 1, limit * 3), fc.integer({ min: 0, max: 255 }))
        .map(([size, byte]) => ({ kind: "fill", size, byte }) as BodyDesc),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...pictures), fc.constantFrom(limit - 1, limit, limit + 1), fc.constantFrom(0, 0xff))
        .map(([name, size, byte]) => ({ kind: "padded", name, size, byte }) as BodyDesc),
    },
  );
}
