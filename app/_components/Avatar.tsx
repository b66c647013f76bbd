"use client";

import { memo, useEffect, useState } from "react";
import type { User } from "../../shared/protocol";
import { avatarColour, initials } from "../_lib/format";
import { useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText, focusComposer } from "./Dialog";

type Person = { id: string; displayName: string; avatar?: string };

/**
 * A person's picture, or their initials on a colour of their own (the same
 * everywhere, from their id). Shows them as last seen: a changed picture or
 * name reaches every place at once.
 */
export const Avatar = memo(function Avatar({ person, size = 32, dot }: { person: Person; size?: number; dot?: boolean }) {
  const known = useChat((s) => s.avatars[person.id]);
  const name = useChat((s) => s.names[person.id]) ?? person.displayName;
  const online = useChat((s) => s.online[person.id] === true);
  const url = known === undefined ? person.avatar : (known ?? undefined);
  return (
    <span className="avatar" style={{ width: size, height: size }} aria-hidden="true">
      {url ? (
        <img src={url} alt="" width={size} height={size} />
      ) : (
        <span className="initials" style={{ background: avatarColour(person.id), fontSize: Math.round(size * 0.4) }}>
          {initials(name)}
        </span>
      )}
      {dot && <span className={`dot ${online ? "online" : ""}`} />}
    </span>
  );
});

/** A person's name that opens their card when clicked. */
export function PersonName({ person, className = "author" }: { person: Person; className?: string }) {
  const [open, setOpen] = useState(false);
  const name = useChat((s) => s.names[person.id]) ?? person.displayName;
  return (
    <>
      <button type="button" className={`link person-name ${className}`} onClick={() => setOpen(true)}>
        {name}
      </button>
      {open && <UserCard userId={person.id} fallback={person} onClose={() => setOpen(false)} />}
    </>
  );
}

/** Block or unblock someone (their messages fold away; no DMs either way while blocked). */
function BlockButton({ userId, onBlocked }: { userId: string; onBlocked: () => void }) {
  const store = useStore();
  const blocked = useChat((s) => s.blocked[userId] === true);
  const [error, setError] = useState<string | null>(null);
  return (
    <button
      type="button"
      className="ghost danger-text"
      title={error ?? (blocked ? "Show their messages and let them write to you again" : "Fold their messages away and close your direct messages")}
      onClick={() =>
        void store.setBlocked(userId, !blocked).then(
          () => !blocked && onBlocked(),
          (err: unknown) => setError(errorText(err)),
        )
      }
    >
      {blocked ? "Unblock" : "Block"}
    </button>
  );
}

/** Who someone is: picture, name, username, whether they are online, and a way to message them. */
export function UserCard({ userId, fallback, onClose }: { userId: string; fallback: Person; onClose: () => void }) {
  const store = useStore();
  const me = useChat((s) => s.me);
  const online = useChat((s) => s.online[userId] === true);
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    store.getUser(userId).then(
      (found) => setUser(found.user),
      (err: unknown) => setError(errorText(err)),
    );
  }, [store, userId]);
  const shown = user ?? fallback;
  return (
    <Dialog title={shown.displayName} onClose={onClose}>
      <div className="user-card">
        <Avatar person={shown} size={96} />
        <div>
          {user && <p className="flush hint">@{user.username}</p>}
          <p className="flush">
            <span className={`dot ${online ? "online" : ""}`} aria-hidden="true" /> {online ? "Online" : "Away"}
          </p>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
        </div>
      </div>
      {user && (
        <div className="row end">
          {user.id !== me.id && <BlockButton userId={user.id} onBlocked={onClose} />}
          <button
            className="primary"
            data-autofocus
            onClick={() => {
              setError(null);
              store.openDm(user).then(
                () => {
                  onClose();
                  focusComposer();
                },
                (err: unknown) => setError(errorText(err)),
              );
            }}
          >
            {user.id === me.id ? "Message yourself" : "Message"}
          </button>
        </div>
      )}
    </Dialog>
  );
}
