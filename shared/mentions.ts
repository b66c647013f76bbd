/**
 * Mentions in message text: `@username` names one person, `@room` everyone
 * in a group room. The server stores what a message mentions (for mention
 * counts and notifications); the web UI marks the same words in the text.
 */

/** The mention of everyone in a room. No username can be it ('@' is not allowed in usernames). */
export const ROOM_MENTION = "@room";

/**
 * `@` then a username (3–32 of A–Z a–z 0–9 _ . -), not inside a word or an
 * address ("ada@example.com" mentions nobody); a trailing dot ends the
 * sentence rather than the name.
 */
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_@-])/gu;

/** Most mentions a message keeps (more are text like any other). */
export const MAX_MENTIONS = 50;

/** Each mention in a body: where it is written, and who it names (a lower-case username, or {@link ROOM_MENTION}). */
function* mentionsAt(body: string): Generator<{ start: number; end: number; mention: string }> {
  if (!body.includes("@")) return;
  for (const match of body.matchAll(MENTION)) {
    const name = match[1]!.replace(/\.+$/, "");
    if (name.length < 3) continue;
    const lower = name.toLowerCase();
    yield { start: match.index, end: match.index + 1 + name.length, mention: lower === "room" ? ROOM_MENTION : lower };
  }
}

/** What a body mentions, each once, in order (at most {@link MAX_MENTIONS}). */
export function mentionsIn(body: string): string[] {
  const found = new Set<string>();
  for (const { mention } of mentionsAt(body)) {
    found.add(mention);
    if (found.size >= MAX_MENTIONS) break;
  }
  return [...found];
}

/** The body split into text and mentions (`@name` as written), in order; joined, exactly the body. */
export function splitMentions(body: string): Array<{ text: string; mention?: string }> {
  const parts: Array<{ text: string; mention?: string }> = [];
  let last = 0;
  for (const { start, end, mention } of mentionsAt(body)) {
    if (start > last) parts.push({ text: body.slice(last, start) });
    parts.push({ text: body.slice(start, end), mention });
    last = end;
  }
  if (last < body.length) parts.push({ text: body.slice(last) });
  return parts;
}
