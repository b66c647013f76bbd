"use client";

import { useEffect, useState } from "react";
import type { Message } from "../../shared/protocol";
import { clip, fullTime, summary, timeOf } from "../_lib/format";
import { useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

const NO_PINS: Message[] = [];

/**
 * The room's pinned messages, the newest pin first, each with who pinned
 * it: opening one opens the room at that message (as a search result does).
 * Kept in step live while open (pins and unpins by others, deletions).
 */
export function PinsDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const store = useStore();
  const pins = useChat((s) => s.pins[roomId]) ?? NO_PINS;
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Read afresh on opening: pins made while this tab did not follow the room.
  useEffect(() => {
    store
      .loadPins(roomId)
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setLoaded(true));
  }, [store, roomId]);

  async function open(message: Message) {
    try {
      await store.openMessage(message);
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Dialog title="Pinned messages" onClose={onClose} wide>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {pins.length === 0 ? (
        <p className="hint">{loaded ? "Nothing is pinned here yet. Pin a message from its actions (Pin) so everyone finds it here." : "Loading…"}</p>
      ) : (
        <ol className="search-results" aria-label="Pinned messages">
          {pins.map((m) => (
            <li key={m.id}>
              <button type="button" className="search-hit" onClick={() => void open(m)}>
                <span className="search-hit-meta">
                  <span className="author">{m.author.displayName}</span>{" "}
                  <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
                    {new Date(m.createdAt).toLocaleDateString()} {timeOf(m.createdAt)}
                  </time>
                </span>
                <span className="search-hit-body" dir="auto">
                  {clip(summary(m), 200)}
                </span>
                {m.pinned && (
                  <span className="search-hit-meta">
                    📌 Pinned{m.pinned.by ? ` by ${m.pinned.by.displayName}` : ""} {new Date(m.pinned.at).toLocaleDateString()}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ol>
      )}
    </Dialog>
  );
}
