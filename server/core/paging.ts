/**
 * Keyset paging for lists that can grow without bound: a page ends with an
 * opaque `nextCursor` naming its last item; passing it back as `after` gives
 * the items after that one, unaffected by what was added or removed before it.
 */
import { isSafeText } from "../../shared/text";
import { AppError } from "./errors";

/** An opaque cursor for a list position (the sort key of the page's last item). */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

const notACursor = () => new AppError("invalid_payload", "after: not a cursor this list gave");

/**
 * The sort key a cursor names, with `size` parts; `invalid_payload` for
 * anything else. A client may send any base64: the parts must be text the
 * database can compare (no U+0000, no unpaired surrogate).
 */
export function decodeCursor(cursor: string, size: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === size && key.every((k) => typeof k === "string" && isSafeText(k))) return key as string[];
  } catch {
    // not ours: said below
  }
  throw notACursor();
}

/**
 * A time in a cursor, as `toISOString()` wrote it into one (years 0001 to
 * 9999); `invalid_payload` for anything else, such as a time PostgreSQL
 * refuses (`new Date` accepts years ±275,760; the database has no year 0000).
 */
export function cursorTime(part: string): Date {
  const time = new Date(part);
  if (!/^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(part) || Number.isNaN(time.getTime()) || time.toISOString() !== part) {
    throw notACursor();
  }
  return time;
}

/**
 * A page of an already sorted in-memory list (connections, fetched from every
 * instance): the items after `after` by `keyOf`, at most `limit` of them.
 */
export function pageOf<T>(items: T[], keyOf: (item: T) => string, page: { limit: number; after?: string | undefined }): {
  items: T[];
  nextCursor?: string;
} {
  const after = page.after === undefined ? undefined : decodeCursor(page.after, 1)[0]!;
  const rest = after === undefined ? items : items.filter((item) => keyOf(item) > after);
  const taken = rest.slice(0, page.limit);
  return rest.length > page.limit ? { items: taken, nextCursor: encodeCursor([keyOf(taken.at(-1)!)]) } : { items: taken };
}
