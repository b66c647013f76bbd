"use client";

import { useCallback, useState } from "react";
import { useStore } from "../_lib/use-chat";
import { useSearch } from "../_lib/use-search";
import { Dialog, errorText, focusComposer } from "./Dialog";

export function BrowseDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [query, setQuery] = useState("");
  const [actionError, setError] = useState<string | null>(null);
  const browse = useCallback((q: string) => store.browseRooms(q), [store]);
  const { results: rooms, error: searchError } = useSearch(query, browse, { allowEmpty: true });
  const error = actionError ?? searchError;


  return (
    <Dialog title="Browse public rooms" onClose={onClose}>
      <label>
        Search rooms
        <input value={query} onChange={(e) => setQuery(e.target.value)} data-autofocus />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="picker" aria-label="Public rooms">
        {rooms?.length === 0 && <li className="hint">No public rooms match.</li>}
        {rooms?.map((room) => (
          <li key={room.id}>
            <span className="picker-main">
              <strong># {room.name}</strong>
              <span className="hint">
                {room.memberCount} {room.memberCount === 1 ? "member" : "members"}
              </span>
            </span>
            <button
              className={room.joined ? "" : "primary"}
              onClick={async () => {
                try {
                  if (room.joined) store.openRoom(room.id);
                  else await store.joinRoom(room.id);
                  onClose();
                  focusComposer();
                } catch (err) {
                  setError(errorText(err));
                }
              }}
            >
              {room.joined ? "Open" : "Join"}
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
