/**
 * Keyset paging for lists that can grow without bound: a page ends with an
 * opaque `nextCursor` naming its last item; passing it back as `after` gives
 * the items after that one, unaffected by what was added or removed before it.
 */
import { AppError } from "./errors";

/** An opaque cursor for a list position (the sort key of the page's last item). */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The sort key a cursor names, with `size` parts; `invalid_payload` for anything else. */
export function decodeCursor(cursor: string, size: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === size && key.every((k) => typeof k === "string")) return key as string[];
  } catch {
    // not ours: said below
  }
  throw new AppError("invalid_payload", "after: not a cursor this list gave");
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
