/**
 * What message search searches for, shared by the server (which builds the
 * text-search query from it) and the web UI (which searches only when a
 * query has words, and marks them in results).
 */

/** Words of a query searched for at most; more narrow nothing a person means. */
export const MAX_SEARCH_TERMS = 8;

/**
 * The words of a search query: runs of letters and digits, lower-cased,
 * each matched as the start of a word ("deplo" finds "deploy" and
 * "deployed"). Everything else in the query (operators, quotes, markup)
 * only separates words, so a query cannot be anything but words.
 */
export function searchTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((w) => w.slice(0, 64)))].slice(0, MAX_SEARCH_TERMS);
}
