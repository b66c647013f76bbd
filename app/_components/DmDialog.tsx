"use client";

import { useCallback, useState } from "react";
import { useStore } from "../_lib/use-chat";
import { useSearch } from "../_lib/use-search";
import { Dialog, errorText } from "./Dialog";

/** Finds people by name to start (or reopen) a direct conversation. */
export function DmDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [query, setQuery] = useState("");
  const [actionError, setError] = useState<string | null>(null);
  const find = useCallback((q: string) => store.searchUsers(q), [store]);
  const { results, error: searchError } = useSearch(query, find);
  const users = results ?? [];
  const error = actionError ?? searchError;


  return (
    <Dialog title="New message" onClose={onClose}>
      <label>
        Find people
        <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Name or username" data-autofocus />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="picker" aria-label="People">
        {query.trim() && users.length === 0 && <li className="hint">Nobody by that name.</li>}
        {users.map((user) => (
          <li key={user.id}>
            <span className="picker-main">
              <strong>{user.displayName}</strong>
              <span className="hint">@{user.username}</span>
            </span>
            <button
              className="primary"
              onClick={async () => {
                try {
                  await store.openDm(user);
                  onClose();
                } catch (err) {
                  setError(errorText(err));
                }
              }}
            >
              Message
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
