"use client";

import { useEffect, useState } from "react";
import type { User } from "../../shared/protocol";
import { useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

/** Finds people by name to start (or reopen) a direct conversation. */
export function DmDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [query, setQuery] = useState("");
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) return setUsers([]);
    let stale = false;
    const timer = setTimeout(() => {
      store.searchUsers(q).then(
        (u) => !stale && setUsers(u),
        (err: unknown) => !stale && setError(errorText(err)),
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [query, store]);

  return (
    <Dialog title="New message" onClose={onClose}>
      <label>
        Find people
        <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Name or username" autoFocus />
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
