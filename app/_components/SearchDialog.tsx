"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import type { SearchHit } from "../../shared/protocol";
import { excerpt, fullTime, highlight, timeOf } from "../_lib/format";
import { useSearch } from "../_lib/use-search";
import { searchTerms } from "../../shared/search";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

/** The time filter's choices: how far back, in days (0: any time). */
const PERIODS: Array<[string, number]> = [
  ["Any time", 0],
  ["Today", 1],
  ["Past 7 days", 7],
  ["Past 30 days", 30],
  ["Past year", 365],
];

/** Whether a query has anything to search for (a query without words is refused). */
const hasWordsIn = (query: string) => searchTerms(query).length > 0;

interface Results {
  hits: SearchHit[];
  terms: string[];
  nextCursor?: string;
}

/**
 * Searches every message I may read (my rooms and DMs, public rooms),
 * newest first, with the words found marked; filters by room, author and
 * time. Picking a result opens its room at that message.
 */
export function SearchDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const me = useChat((s) => s.me);
  const summaries = useChat((s) => s.rooms);
  const rooms = summaries.map((r) => ({ id: r.id, title: roomTitle(r), kind: r.kind }));
  const activeRoomId = useChat((s) => s.activeRoomId);
  const [query, setQuery] = useState("");
  const [roomId, setRoomId] = useState("");
  const [authorId, setAuthorId] = useState("");
  // Anyone whose name this tab has seen (members, authors, search results), by name.
  const names = useChat((s) => s.names);
  const people = useMemo(
    () => Object.entries(names).filter(([id]) => id !== me.id).sort(([, a], [, b]) => a.localeCompare(b)),
    [names, me.id],
  );
  const [days, setDays] = useState(0);
  const [paged, setPaged] = useState<Results | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const q = query.trim();
  const hasWords = hasWordsIn(q);
  const filters = useCallback(
    () => ({
      ...(roomId ? { roomId } : {}),
      ...(authorId ? { authorId } : {}),
      ...(days ? { since: new Date(Date.now() - days * 86_400_000).toISOString() } : {}),
    }),
    [roomId, authorId, days],
  );
  // A moment after typing stops; answers to earlier queries are dropped. Without words there is nothing to ask.
  const find = useCallback(
    (words: string): Promise<Results | null> => (hasWordsIn(words) ? store.search({ query: words, ...filters() }) : Promise.resolve(null)),
    [store, filters],
  );
  const { results: found, error: searchError } = useSearch(query, find, { delayMs: 250 });
  // "More results" pages on from what the search found, until the search changes.
  useEffect(() => setPaged(null), [found]);
  const results = paged ?? found;
  const error = actionError ?? searchError;

  async function more() {
    if (!results?.nextCursor) return;
    setLoadingMore(true);
    try {
      const next = await store.search({ query: q, ...filters(), before: results.nextCursor });
      setPaged({ ...next, hits: [...results.hits, ...next.hits] });
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setLoadingMore(false);
    }
  }

  async function open(hit: SearchHit) {
    try {
      if (!rooms.some((r) => r.id === hit.room.id)) await store.joinRoom(hit.room.id);
      await store.openMessage(hit.message);
      onClose();
    } catch (err) {
      setActionError(errorText(err));
    }
  }

  const roomName = (hit: SearchHit) =>
    rooms.find((r) => r.id === hit.room.id)?.title ?? (hit.room.kind === "dm" ? "Direct message" : hit.room.name);

  return (
    <Dialog title="Search messages" onClose={onClose} wide>
      <div className="search-dialog">
        <input
          type="search"
          data-autofocus
          aria-label="Search words"
          placeholder="Words to find, e.g. deploy friday"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <div className="search-filters">
          <label className="inline">
            In
            <select value={roomId} onChange={(e) => setRoomId(e.target.value)}>
              <option value="">All rooms</option>
              {activeRoomId && rooms.some((r) => r.id === activeRoomId) && (
                <option value={activeRoomId}>This room</option>
              )}
              {rooms
                .filter((r) => r.id !== activeRoomId)
                .map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.kind === "dm" ? r.title : `#${r.title}`}
                  </option>
                ))}
            </select>
          </label>
          <label className="inline">
            From
            <select value={authorId} onChange={(e) => setAuthorId(e.target.value)}>
              <option value="">Anyone</option>
              <option value={me.id}>Me</option>
              {people.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            When
            <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {PERIODS.map(([label, n]) => (
                <option key={n} value={n}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {!hasWords ? (
          <p className="hint">Every word must appear in a message; a word also finds longer ones it begins (“deplo” finds “deployed”).</p>
        ) : results && results.hits.length === 0 ? (
          <p className="hint">No messages match.</p>
        ) : results ? (
          <ol className="search-results" aria-label="Search results">
            {results.hits.map((hit) => {
              const member = rooms.some((r) => r.id === hit.room.id);
              return (
                <li key={hit.message.id}>
                  <button type="button" className="search-hit" onClick={() => void open(hit)}>
                    <span className="search-hit-meta">
                      <span className="author">{hit.message.author.displayName}</span>
                      {" in "}
                      <span className="search-hit-room">{hit.room.kind === "dm" ? roomName(hit) : `#${roomName(hit)}`}</span>
                      <time dateTime={hit.message.createdAt} title={fullTime(hit.message.createdAt)}>
                        {new Date(hit.message.createdAt).toLocaleDateString()} {timeOf(hit.message.createdAt)}
                      </time>
                      {!member && <span className="hint"> · join to open</span>}
                    </span>
                    <span className="search-hit-body" dir="auto">
                      {excerpt(highlight(hit.message.body, results.terms)).map((part, i) =>
                        part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>,
                      )}
                    </span>
                  </button>
                </li>
              );
            })}
          </ol>
        ) : (
          <p className="hint">Searching…</p>
        )}
        {results?.nextCursor && (
          <button type="button" className="ghost" disabled={loadingMore} onClick={() => void more()}>
            {loadingMore ? "Loading…" : "More results"}
          </button>
        )}
      </div>
    </Dialog>
  );
}
