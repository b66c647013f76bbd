"use client";

import { useCallback, useState } from "react";
import { useChatSelector, useStore } from "../_lib/use-chat";
import { useSearch } from "../_lib/use-search";
import { Dialog, errorText } from "./Dialog";

export function InviteDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const store = useStore();
  const members = useChatSelector((s) => s.members[roomId]);
  const [query, setQuery] = useState("");
  const [actionError, setError] = useState<string | null>(null);
  const find = useCallback((q: string) => store.searchUsers(q), [store]);
  const { results, error: searchError } = useSearch(query, find);
  const users = results ?? [];
  const error = actionError ?? searchError;
  const memberIds = new Set((members ?? []).map((m) => m.user.id));

  return (
    <Dialog title="Invite people" onClose={onClose}>
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
