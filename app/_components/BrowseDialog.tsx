"use client";

import { useEffect, useState } from "react";
import type { PublicRoom } from "../../shared/protocol";
import { useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

export function BrowseDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [query, setQuery] = useState("");
  const [rooms, setRooms] = useState<PublicRoom[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      store.browseRooms(query.trim()).then(
        (r) => !stale && setRooms(r),
        (err: unknown) => !stale && setError(errorText(err)),
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [query, store]);

  return (
    <Dialog title="Browse public rooms" onClose={onClose}>
      <label>
        Search rooms
        <input value={query} onChange={(e) => setQuery(e.target.value)} autoFocus />
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
