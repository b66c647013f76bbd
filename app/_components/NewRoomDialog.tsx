"use client";

import { useState, type FormEvent } from "react";
import { useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

/** Name, public or private, and people to invite by username. */
export function NewRoomDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const visibility = form.get("visibility") === "private" ? "private" : "public";
    const usernames = String(form.get("invite") ?? "")
      .split(/[\s,]+/)
      .map((u) => u.replace(/^@/, ""))
      .filter(Boolean);
    if (!name) return setError("Give the room a name.");
    setBusy(true);
    setError(null);
    try {
      const ids: string[] = [];
      for (const username of usernames) {
        const found = (await store.searchUsers(username)).find((u) => u.username.toLowerCase() === username.toLowerCase());
        if (!found) throw new Error(`No user named “${username}”.`);
        ids.push(found.id);
      }
      await store.createRoom(name, visibility, ids);
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title="New room" onClose={onClose}>
      <form onSubmit={onSubmit} className="stack">
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
        <label>
          Invite <span className="hint">(usernames, separated by commas)</span>
          <input name="invite" placeholder="ada, grace" autoComplete="off" />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Create room
          </button>
        </div>
      </form>
    </Dialog>
  );
}
