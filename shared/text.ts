/**
 * What text may enter Switchboard. Every string a client, a backend or a
 * config file hands in goes through {@link text} (or {@link jsonData} for
 * free-form JSON), so a value PostgreSQL would refuse is refused at the
 * schema with `invalid_payload`, before it can reach a write shared with
 * other people's messages.
 */
import { z } from "zod";

/** U+0000 (PostgreSQL cannot store it in text or jsonb) and unpaired UTF-16 surrogates (not valid Unicode). */
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSAFE_TEXT_MESSAGE = "must not contain U+0000 or unpaired surrogate characters";

export function isSafeText(s: string): boolean {
  return !UNSAFE.test(s);
}

/** A string schema that refuses unsafe text; chain `.min()`, `.max()`, `.trim()`… as with `z.string()`. */
export function text() {
  return z.string().refine(isSafeText, UNSAFE_TEXT_MESSAGE);
}

/** C0 and C1 control characters (tab and newline included). */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** An identifier: safe text without control characters (host applications choose their own user ids). */
export function identifier(max = 128) {
  return text()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), "must not contain control characters");
}

/**
 * Characters removed from display names: controls, bidirectional embeddings,
 * overrides, isolates and marks (which can make a name display as someone
 * else's, or reverse the text after it), and invisible formatting
 * characters. Zero-width joiners stay: emoji sequences need them.
 */
const INVISIBLE = /[\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** A display name as people see it: invisible and direction-changing characters removed, spaces collapsed. */
export function cleanDisplayName(name: string): string {
  return name.replace(/\s+/g, " ").replace(INVISIBLE, "").replace(/ {2,}/g, " ").trim();
}

/** A display name field: cleaned, then 1–64 characters. */
export function displayName() {
  return text().transform(cleanDisplayName).pipe(z.string().min(1, "display name is empty").max(64));
}

/** Exactly one emoji as Unicode recommends it for general interchange (skin tones and sequences included). */
const ONE_EMOJI = new RegExp("^\\p{RGI_Emoji}$", "v");

/** A reaction's emoji: one emoji, nothing else (no text, no custom names). */
export function emoji() {
  return z.string().max(32).refine((s) => ONE_EMOJI.test(s), "expected exactly one emoji");
}

/** How deep free-form JSON may nest. */
export const MAX_JSON_DEPTH = 32;

/**
 * The first problem with a free-form JSON value, or null: only JSON types
 * (no binary attachments), safe text in every string and key, at most
 * {@link MAX_JSON_DEPTH} levels. Iterative, so hostile nesting cannot
 * exhaust the stack.
 */
export function jsonProblem(value: unknown): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return "numbers must be finite";
      continue;
    }
    if (typeof v === "string") {
      if (!isSafeText(v)) return UNSAFE_TEXT_MESSAGE;
      continue;
    }
    if (typeof v !== "object") return "must be JSON";
    if (depth >= MAX_JSON_DEPTH) return `nests deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(v)) {
      for (const item of v) stack.push({ v: item, depth: depth + 1 });
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return "must be JSON (binary data is not accepted here)";
    for (const [key, item] of Object.entries(v)) {
      if (!isSafeText(key)) return `keys ${UNSAFE_TEXT_MESSAGE}`;
      stack.push({ v: item, depth: depth + 1 });
    }
  }
  return null;
}

/** Any JSON value (an event's `data`, a publication), checked by {@link jsonProblem}. */
export const jsonData = z.unknown().superRefine((value, ctx) => {
  const problem = jsonProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `data ${problem}` });
});
