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

/** What a body mentions: lower-case usernames, and {@link ROOM_MENTION} for `@room`; each once, in order. */
export function mentionsIn(body: string): string[] {
  const found = new Set<string>();
  for (const match of body.matchAll(MENTION)) {
    const name = match[1]!.replace(/\.+$/, "").toLowerCase();
    if (name.length < 3) continue;
    found.add(name === "room" ? ROOM_MENTION : name);
    if (found.size >= MAX_MENTIONS) break;
  }
  return [...found];
}

/** The body split into text and mentions (`@name` as written), in order; joined, exactly the body. */
export function splitMentions(body: string): Array<{ text: string; mention?: string }> {
  const parts: Array<{ text: string; mention?: string }> = [];
  let last = 0;
  for (const match of body.matchAll(MENTION)) {
    const name = match[1]!.replace(/\.+$/, "");
    if (name.length < 3) continue;
    const start = match.index;
    const end = start + 1 + name.length;
    if (start > last) parts.push({ text: body.slice(last, start) });
    parts.push({ text: body.slice(start, end), mention: name.toLowerCase() === "room" ? ROOM_MENTION : name.toLowerCase() });
    last = end;
  }
  if (last < body.length) parts.push({ text: body.slice(last) });
  return parts;
}
