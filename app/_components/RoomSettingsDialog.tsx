"use client";

import { useEffect, useState, type FormEvent } from "react";
import type { RoomBanEntry, RoomSummary } from "../../shared/protocol";
import { useStore } from "../_lib/use-chat";
import { ConfirmDialog, Dialog, errorText } from "./Dialog";

/** A group room's name and topic, for its owner and admins to change; its owner may also delete it. */
export function RoomSettingsDialog({ room, owner, onClose }: { room: RoomSummary; owner: boolean; onClose: () => void }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [bans, setBans] = useState<RoomBanEntry[]>([]);
  const [deleting, setDeleting] = useState(false);

  useEffect(() => {
    store.bans(room.id).then(setBans, (err: unknown) => setError(errorText(err)));
  }, [store, room.id]);

  async function unban(userId: string) {
    try {
      await store.unban(room.id, userId);
      setBans((list) => list.filter((b) => b.user.id !== userId));
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const topic = String(form.get("topic") ?? "").trim();
    if (!name) return setError("Give the room a name.");
    setBusy(true);
    setError(null);
    try {
      await store.updateRoom(room.id, { name, topic });
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Room settings" onClose={onClose}>
      <form onSubmit={onSubmit} className="stack">
        <label>
          Name
          <input name="name" maxLength={80} required defaultValue={room.name} data-autofocus />
        </label>
        <label>
          Topic
          <input name="topic" maxLength={250} defaultValue={room.topic ?? ""} placeholder="What this room is for" />
        </label>
        {bans.length > 0 && (
          <fieldset>
            <legend>Banned</legend>
            <ul className="picker" aria-label="Banned people">
              {bans.map((b) => (
                <li key={b.user.id}>
                  <span>
                    {b.user.displayName} <span className="hint">@{b.user.username}{b.by ? ` · by ${b.by.displayName}` : ""}</span>
                  </span>
                  <button type="button" onClick={() => void unban(b.user.id)}>
                    Unban
                  </button>
                </li>
              ))}
            </ul>
          </fieldset>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="row end">
          {owner && (
            <button type="button" className="ghost danger-text" onClick={() => setDeleting(true)}>
              Delete room…
            </button>
          )}
          <button
            type="button"
            className="ghost"
            title={room.archived ? "Let members write here again" : "Make the room read-only for everyone; it stays readable"}
            onClick={() => void store.archiveRoom(room.id, !room.archived).then(onClose, (err: unknown) => setError(errorText(err)))}
          >
            {room.archived ? "Unarchive" : "Archive"}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
      {deleting && <DeleteRoomDialog room={room} onDeleted={onClose} onClose={() => setDeleting(false)} />}
    </Dialog>
  );
}

/** Asks before deleting a room for everyone: its name must be typed, as GitHub asks before deleting a repository. */
function DeleteRoomDialog({ room, onDeleted, onClose }: { room: RoomSummary; onDeleted: () => void; onClose: () => void }) {
  const store = useStore();
  const [typed, setTyped] = useState("");
  return (
    <ConfirmDialog
      title={`Delete #${room.name}?`}
      confirm="Delete room"
      danger
      disabled={typed.trim() !== room.name}
      onConfirm={async () => {
        await store.deleteRoom(room.id);
        onDeleted();
      }}
      onClose={onClose}
    >
      <p className="flush">Every message and file in it is deleted for everyone, and its members lose it. This cannot be undone.</p>
      <label>
        Type the room’s name to confirm
        <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </label>
    </ConfirmDialog>
  );
}
