"use client";

import { useEffect, useState } from "react";
import type { User } from "../../shared/protocol";
import { useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

export function InviteDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const store = useStore();
  const { members } = useChat();
  const [query, setQuery] = useState("");
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);
  const memberIds = new Set((members[roomId] ?? []).map((m) => m.user.id));

  useEffect(() => {
    const q = query.trim();
    if (!q) return setUsers([]);
    let stale = false;
    const timer = setTimeout(() => {
      store.searchUsers(q).then((u) => !stale && setUsers(u), (err: unknown) => !stale && setError(errorText(err)));
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [query, store]);

  return (
    <Dialog title="Invite people" onClose={onClose}>
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
        {users.map((user) => (
          <li key={user.id}>
            <span className="picker-main">
              <strong>{user.displayName}</strong>
              <span className="hint">@{user.username}</span>
            </span>
            {memberIds.has(user.id) ? (
              <span className="hint">Member</span>
            ) : (
              <button
                className="primary"
                onClick={async () => {
                  try {
                    await store.inviteToRoom(roomId, [user.id]);
                  } catch (err) {
                    setError(errorText(err));
                  }
                }}
              >
                Invite
              </button>
            )}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
