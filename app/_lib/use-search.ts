"use client";

import { useEffect, useState } from "react";
import { errorText } from "./errors";

/**
 * Runs `search` for the query a moment after typing stops, ignoring answers
 * to earlier queries. An empty query searches only with `allowEmpty`.
 */
export function useSearch<R>(
  query: string,
  search: (q: string) => Promise<R>,
  options: { allowEmpty?: boolean; delayMs?: number } = {},
): { results: R | null; error: string | null } {
  const [results, setResults] = useState<R | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = query.trim();
  const allowEmpty = options.allowEmpty ?? false;
  const delay = options.delayMs ?? 150;

  useEffect(() => {
    if (!q && !allowEmpty) {
      setResults(null);
      return;
    }
    let stale = false;
    const timer = setTimeout(() => {
      search(q).then(
        (r) => !stale && (setResults(r), setError(null)),
        (err: unknown) => !stale && setError(errorText(err)),
      );
    }, delay);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [q, allowEmpty, search, delay]);

  return { results, error };
}
