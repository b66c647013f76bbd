"use client";

import { useCallback, useState, type ReactNode } from "react";
import type { User } from "../../shared/protocol";
import { useStore } from "../_lib/use-chat";
import { useSearch } from "../_lib/use-search";

/**
 * Finds people by name or username as you type and lists them, each with
 * what `action` renders for it (a button, or a note such as "Member"). The
 * one people picker of the dialogs: new message, invite, new room.
 */
export function UserPicker(props: {
  action: (user: User) => ReactNode;
  /** An error of the caller's own (its action failed), shown where the search's would be. */
  error?: string | null;
  /** Whether the input takes focus when the dialog opens. */
  autoFocus?: boolean;
}) {
  const store = useStore();
  const [query, setQuery] = useState("");
  const find = useCallback((q: string) => store.searchUsers(q), [store]);
  const { results, error: searchError } = useSearch(query, find);
  const users = results ?? [];
  const error = props.error ?? searchError;
  return (
    <>
      <label>
        Find people
        <input
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Name or username"
          autoComplete="off"
          {...(props.autoFocus ? { "data-autofocus": true } : {})}
        />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="picker" aria-label="People">
        {results && query.trim() && users.length === 0 && <li className="hint">Nobody by that name.</li>}
        {users.map((user) => (
          <li key={user.id}>
            <span className="picker-main">
              <strong>{user.displayName}</strong>
              <span className="hint">@{user.username}</span>
            </span>
            {props.action(user)}
          </li>
        ))}
      </ul>
    </>
  );
}
