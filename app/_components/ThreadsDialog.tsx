"use client";

import { useEffect, useMemo, useState } from "react";
import type { FollowedThread } from "../../shared/protocol";
import { UNREAD_CAP } from "../../shared/limits";
import { clip, fullTime, summary, timeOf } from "../_lib/format";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";

/**
 * The threads I take part in (started, or replied in), the latest reply
 * first, those with replies I have not read marked: opening one opens its
 * room at the message that started it, with the thread beside it.
 */
export function ThreadsDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const followed = useChat((s) => s.followed);
  const rooms = useChat((s) => s.rooms);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const threads = useMemo(() => Object.values(followed).sort(byLatestReply), [followed]);

  // Read afresh on opening: threads begun in another tab, replies counted while away.
  useEffect(() => {
    store
      .loadFollowed()
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setLoaded(true));
  }, [store]);

  async function open(thread: FollowedThread) {
    try {
      await store.openMessage({ roomId: thread.root.roomId, id: thread.root.id, threadId: thread.root.id });
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const roomOf = (thread: FollowedThread) => {
    const room = rooms.find((r) => r.id === thread.root.roomId);
    return room ? (room.kind === "dm" ? roomTitle(room) : `#${room.name}`) : "";
  };

  return (
    <Dialog title="Threads" onClose={onClose} wide>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {threads.length === 0 ? (
        <p className="hint">{loaded ? "No threads yet. Threads you start or reply in show here, with the replies you have not read." : "Loading…"}</p>
      ) : (
        <ol className="search-results" aria-label="Threads">
          {threads.map((thread) => {
            const { root, unread } = thread;
            const last = root.thread;
            return (
              <li key={root.id}>
                <button type="button" className={`search-hit ${unread > 0 ? "has-unread" : ""}`} onClick={() => void open(thread)}>
                  <span className="search-hit-meta">
                    <span className="author">{root.author.displayName}</span>
                    {" in "}
                    <span className="search-hit-room">{roomOf(thread)}</span>
                    {unread > 0 && (
                      <span className="badge" aria-label={`${unread} unread ${unread === 1 ? "reply" : "replies"}`}>
                        {unread >= UNREAD_CAP ? `${UNREAD_CAP - 1}+` : unread}
                      </span>
                    )}
                  </span>
                  <span className="search-hit-body" dir="auto">
                    {root.deletedAt ? <span className="hint">Message deleted</span> : clip(summary(root), 160)}
                  </span>
                  {last && (
                    <span className="search-hit-meta">
                      {last.replies} {last.replies === 1 ? "reply" : "replies"} · last by {last.lastReplier.displayName}{" "}
                      <time dateTime={last.lastReplyAt} title={fullTime(last.lastReplyAt)}>
                        {new Date(last.lastReplyAt).toLocaleDateString()} {timeOf(last.lastReplyAt)}
                      </time>
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </Dialog>
  );
}

/** The thread with the latest reply first. */
function byLatestReply(a: FollowedThread, b: FollowedThread): number {
  return Date.parse(b.root.thread?.lastReplyAt ?? b.root.createdAt) - Date.parse(a.root.thread?.lastReplyAt ?? a.root.createdAt);
}
