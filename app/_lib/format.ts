/** Splitting message text into plain text and safe links, and formatting times. */
import { tokenize } from "linkifyjs";
import type { RoomEvent } from "../../shared/protocol";

export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

/** The only places a link may lead; `javascript:`, `data:`, `file:`, `ftp:`… stay plain text. */
const LINK_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/**
 * Invisible and direction-changing characters (bidi controls, zero-width
 * characters, byte-order mark). A link containing one could show another
 * address than the one it opens ("https://evil.example/\u202Emoc.elgoog"
 * reads as "…google.com"), so such text is never made a link.
 */
const DECEPTIVE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

/**
 * Text and links, in order; joined, the segments' texts are exactly `body`.
 * Rendered as React text nodes and <a>, never as HTML.
 *
 * linkifyjs scans in linear time, so a hostile 4,000-character body costs
 * about as much as an ordinary one. Like Slack, bare domains ("example.com")
 * and email addresses become links too: people paste them that way. A bare
 * domain opens over https (what browsers try first today); an address opens
 * a mailto: link. Every href is parsed with the URL parser and kept only if
 * its protocol is http:, https: or mailto:, and is emitted in the parser's
 * canonical form, so what was checked is what the browser opens.
 */
export function linkify(body: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const token of tokenize(body)) {
    if (!token.isLink) continue;
    const start = token.startIndex();
    const end = token.endIndex();
    const text = body.slice(start, end);
    const href = safeHref(text, token.toHref("https"));
    if (href === null) continue;
    if (start > last) out.push({ kind: "text", text: body.slice(last, start) });
    out.push({ kind: "link", text, href });
    last = end;
  }
  if (last < body.length) out.push({ kind: "text", text: body.slice(last) });
  return out;
}

/**
 * The address a link showing `text` may open, in the URL parser's canonical
 * form, or null when it may not be a link: `href` is not an absolute http:,
 * https: or mailto: URL, or `text` holds a deceptive character. Message
 * formatting checks `[text](url)` links with this too, so every link in a
 * message follows one rule.
 */
export function safeHref(text: string, href: string): string | null {
  if (DECEPTIVE.test(text)) return null;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  return LINK_PROTOCOLS.has(url.protocol) ? url.href : null;
}

export function timeOf(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** The date and time in full, for a tooltip. */
export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(iso) === dayKey(now.toISOString())) return "Today";
  if (dayKey(iso) === dayKey(yesterday.toISOString())) return "Yesterday";
  return d.toLocaleDateString(undefined, {
    weekday: "long",
    month: "long",
    day: "numeric",
    ...(d.getFullYear() !== now.getFullYear() ? { year: "numeric" } : {}),
  });
}

/** Consecutive messages by one author within this gap are shown as one group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

/** The typing indicator's sentence for these people (empty when nobody types). */
export function typingText(names: string[]): string {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return names.length > 2 ? "Several people are typing…" : "";
}

/** A text shortened to `max` characters, with an ellipsis when it was longer (notifications, lists). */
/** What a message says in a line of its own (a notification, a list): its text, else the files it carries. */
export function summary(message: { body: string; attachments?: Array<{ name: string }> }): string {
  if (message.body.trim() !== "" || !message.attachments?.length) return message.body;
  return `📎 ${message.attachments.map((a) => a.name).join(", ")}`;
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Names as a sentence's subject: "Ada", "Ada and Bob", "Ada, Bob and Cy", "Ada, Bob and 3 others". */
export function nameList(names: string[]): string {
  if (names.length <= 2) return names.join(" and ");
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}

/**
 * The sentences for a run of timeline lines: consecutive changes of
 * membership of the same kind (by the same person) make one ("Ada added Bob
 * and Cy"); each rename and topic is one ("Ada renamed the room to #ops").
 */
export function roomEventLines(run: RoomEvent[]): Array<{ text: string; at: string }> {
  const lines: Array<{ text: string; at: string }> = [];
  for (let i = 0; i < run.length; ) {
    const first = run[i]!;
    let end = i + 1;
    // A rename or a topic is a line of its own (each says what it became).
    const joinable = first.kind !== "renamed" && first.kind !== "topic";
    while (joinable && end < run.length && run[end]!.kind === first.kind && run[end]!.by?.id === first.by?.id) end++;
    const names = nameList(run.slice(i, end).map((e) => e.user.displayName));
    const many = end - i > 1;
    const text =
      first.kind === "renamed" ? `${names} renamed the room to #${first.value ?? ""}`
      : first.kind === "topic" ? (first.value ? `${names} set the topic: ${first.value}` : `${names} cleared the topic`)
      : first.kind === "created" ? `${names} created the room`
      : first.kind === "joined" ? (first.by ? `${first.by.displayName} added ${names}` : `${names} joined`)
      : first.kind === "left" ? `${names} left`
      : first.by ? `${first.by.displayName} removed ${names}`
      : `${names} ${many ? "were" : "was"} removed`;
    lines.push({ text, at: first.at });
    i = end;
  }
  return lines;
}

/**
 * A search result's text with the searched words marked: each term matches
 * the beginning of a word, case-insensitively, as the server's search does.
 * Joined, the parts' texts are exactly `body`.
 */
export function highlight(body: string, terms: string[]): Array<{ text: string; match: boolean }> {
  const words = terms.filter((t) => t.length > 0).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (words.length === 0) return [{ text: body, match: false }];
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.join("|")})`, "giu");
  const parts: Array<{ text: string; match: boolean }> = [];
  let last = 0;
  for (const found of body.matchAll(pattern)) {
    if (found[0].length === 0) continue;
    if (found.index > last) parts.push({ text: body.slice(last, found.index), match: false });
    parts.push({ text: found[0], match: true });
    last = found.index + found[0].length;
  }
  if (last < body.length) parts.push({ text: body.slice(last), match: false });
  return parts;
}

/** A long text cut to about `max` characters around its first marked part, with "…" where cut. */
export function excerpt(parts: Array<{ text: string; match: boolean }>, max = 240): Array<{ text: string; match: boolean }> {
  const full = parts.map((p) => p.text).join("");
  if (full.length <= max) return parts;
  let offset = 0;
  for (const p of parts) {
    if (p.match) break;
    offset += p.text.length;
  }
  const start = Math.max(0, Math.min(offset - Math.floor(max / 3), full.length - max));
  const end = start + max;
  const out: Array<{ text: string; match: boolean }> = [];
  let at = 0;
  for (const p of parts) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + p.text.length);
    if (to > from) out.push({ text: p.text.slice(from - at, to - at), match: p.match });
    at += p.text.length;
  }
  if (start > 0) out.unshift({ text: "…", match: false });
  if (end < full.length) out.push({ text: "…", match: false });
  return out;
}

/** "Ada Lovelace" → "AL", "ada" → "A": what stands for someone without a picture. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (w: string | undefined) => (w ? (Array.from(w)[0] ?? "") : "");
  return (first(words[0]) + (words.length > 1 ? first(words.at(-1)) : "")).toUpperCase() || "?";
}

/** A colour of someone's own, the same on every screen: a hue from their id, dark enough for white letters. */
export function avatarColour(id: string): string {
  let hash = 0;
  for (const c of id) hash = (hash * 31 + c.codePointAt(0)!) >>> 0;
  return `hsl(${hash % 360} 55% 38%)`;
}
