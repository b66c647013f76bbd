"use client";

import { useState, type FormEvent } from "react";
import type { User } from "../../shared/protocol";
import { useStore } from "../_lib/use-chat";
import { Dialog, errorText, focusComposer } from "./Dialog";
import { UserPicker } from "./UserPicker";

/** Name, public or private, and people to invite (found by name). */
export function NewRoomDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [invited, setInvited] = useState<User[]>([]);
  const isInvited = (user: User) => invited.some((u) => u.id === user.id);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const visibility = form.get("visibility") === "private" ? "private" : "public";
    if (!name) return setError("Give the room a name.");
    setBusy(true);
    setError(null);
    try {
      await store.createRoom(name, visibility, invited.map((u) => u.id));
      onClose();
      focusComposer();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title="New room" onClose={onClose}>
      {/* The people picker stays outside the form: Enter in its search field does not create the room. */}
      <form id="new-room" onSubmit={onSubmit} className="stack">
        <label>
          Name
          <input name="name" maxLength={80} required data-autofocus />
        </label>
        <fieldset>
          <legend>Who can find it</legend>
          <label className="inline">
            <input type="radio" name="visibility" value="public" defaultChecked /> Public: anyone can browse and join
          </label>
          <label className="inline">
            <input type="radio" name="visibility" value="private" /> Private: only people invited
          </label>
        </fieldset>
      </form>
      <fieldset>
        <legend>Invite</legend>
        {invited.length > 0 && (
          <ul className="chips" aria-label="Invited">
            {invited.map((user) => (
              <li key={user.id}>
                {user.displayName}
                <button
                  type="button"
                  className="icon"
                  aria-label={`Do not invite ${user.displayName}`}
                  onClick={() => setInvited(invited.filter((u) => u.id !== user.id))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <UserPicker
          action={(user) =>
            isInvited(user) ? (
              <span className="hint">Invited</span>
            ) : (
              <button type="button" onClick={() => setInvited([...invited, user])}>
                Add
              </button>
            )
          }
        />
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" form="new-room" className="primary" disabled={busy}>
          Create room
        </button>
      </div>
    </Dialog>
  );
}
