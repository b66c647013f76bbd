"use client";

import { useCallback, useState, type KeyboardEvent } from "react";
import type { RoomSummary, User } from "../../shared/protocol";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { useSearch } from "../_lib/use-search";
import { Dialog, errorText, focusComposer } from "./Dialog";

type Choice = { kind: "room"; room: RoomSummary } | { kind: "person"; user: User };

const MAX_CHOICES = 10;

/**
 * Ctrl+K / ⌘K: jump to a room or a direct message by typing part of its
 * name, or to a person (opening the DM). Rooms with unread messages come
 * first when nothing is typed; ↑/↓ choose, Enter opens.
 */
export function QuickSwitcher({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const rooms = useChat((s) => s.rooms);
  const activeRoomId = useChat((s) => s.activeRoomId);
  const myId = useChat((s) => s.me.id);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const find = useCallback((q: string) => store.searchUsers(q), [store]);
  const { results: people } = useSearch(query, find);

  const q = query.trim().toLowerCase();
  const matching = rooms
    .filter((r) => r.id !== activeRoomId || q)
    .filter((r) => !q || roomTitle(r).toLowerCase().includes(q))
    .sort((a, b) => rank(a, q) - rank(b, q) || b.unread - a.unread);
  const dmPeers = new Set(rooms.flatMap((r) => (r.peer ? [r.peer.id] : [])));
  const choices: Choice[] = [
    ...matching.map((room) => ({ kind: "room" as const, room })),
    ...(people ?? []).filter((u) => !dmPeers.has(u.id) && u.id !== myId).map((user) => ({ kind: "person" as const, user })),
  ].slice(0, MAX_CHOICES);
  const current = Math.min(active, Math.max(choices.length - 1, 0));

  async function choose(choice: Choice | undefined) {
    if (!choice) return;
    try {
      if (choice.kind === "room") store.openRoom(choice.room.id);
      else await store.openDm(choice.user);
      onClose();
      focusComposer();
    } catch (err) {
      setError(errorText(err));
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current + step + choices.length) % Math.max(choices.length, 1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      void choose(choices[current]);
    }
  }

  return (
    <Dialog title="Jump to a conversation" onClose={onClose}>
      <input
        type="search"
        data-autofocus
        aria-label="Room or person"
        placeholder="Room or person"
        role="combobox"
        aria-expanded={choices.length > 0}
        aria-controls="switcher-choices"
        aria-activedescendant={choices.length > 0 ? `switcher-choice-${current}` : undefined}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {choices.length === 0 ? (
        <p className="hint">{q ? "No room or person matches." : "No other conversations yet."}</p>
      ) : (
        <ul className="switcher-choices" role="listbox" id="switcher-choices" aria-label="Conversations">
          {choices.map((choice, i) => (
            <li
              key={choice.kind === "room" ? choice.room.id : `person:${choice.user.id}`}
              id={`switcher-choice-${i}`}
              role="option"
              aria-selected={i === current}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => void choose(choice)}
            >
              {choice.kind === "room" ? (
                <>
                  <span aria-hidden="true">{choice.room.kind === "dm" ? "@" : choice.room.visibility === "private" ? "🔒" : "#"}</span>{" "}
                  {roomTitle(choice.room)}
                  {choice.room.unread > 0 && <span className="hint"> · {choice.room.unread} unread</span>}
                </>
              ) : (
                <>
                  <span aria-hidden="true">@</span> {choice.user.displayName} <span className="hint">@{choice.user.username} · new message</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="hint">↑ ↓ to choose, Enter to open, Esc to close</p>
    </Dialog>
  );
}

/** Names that start with the query before names that only contain it. */
function rank(room: RoomSummary, q: string): number {
  return q && roomTitle(room).toLowerCase().startsWith(q) ? 0 : 1;
}
