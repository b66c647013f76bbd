"use client";

import { memo, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { MAX_BODY_LENGTH } from "../../shared/limits";
import type { Message } from "../../shared/protocol";
import { fullTime, timeOf } from "../_lib/format";
import { overLimitText } from "../_lib/errors";
import { sendsMessage } from "../_lib/keys";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { errorText } from "./Dialog";
import { MutedNotice } from "./Composer";
import { MessageText, ReaderName } from "./MessageBody";

/**
 * A thread beside its room: the message that started it, its replies (older
 * ones on request), and a composer whose replies can also go to the room.
 */
export const ThreadPanel = memo(function ThreadPanel({ roomId, rootId }: { roomId: string; rootId: string }) {
  const store = useStore();
  const view = useChat((s) => s.threads[rootId]);
  const room = useChat((s) => s.rooms.find((r) => r.id === roomId));
  const myName = useChat((s) => s.me.username.toLowerCase());
  const list = useRef<HTMLOListElement>(null);
  const count = view?.replies.items.length ?? 0;

  // New replies keep the newest in sight, and are read (when the tab is seen).
  const unread = useChat((s) => s.followed[rootId]?.unread ?? 0);
  useEffect(() => {
    const el = list.current?.parentElement;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count]);
  useEffect(() => {
    const read = () => store.markThreadRead(rootId);
    read();
    document.addEventListener("visibilitychange", read);
    return () => document.removeEventListener("visibilitychange", read);
  }, [store, rootId, count, unread]);

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => e.key === "Escape" && !document.querySelector("dialog[open]") && store.closeThread();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);

  return (
    <aside className="thread-panel" aria-label="Thread">
      <header className="thread-header">
        <h2>
          Thread <span className="hint">{room ? (room.kind === "dm" ? roomTitle(room) : `#${room.name}`) : ""}</span>
        </h2>
        <button className="icon" aria-label="Close thread" onClick={() => store.closeThread()}>
          ×
        </button>
      </header>
      <ReaderName.Provider value={myName}>
        <div className="thread-scroll">
          {!view ? (
            <p className="hint thread-edge">Loading…</p>
          ) : (
            <>
              <ThreadMessage message={view.root} />
              {view.error && (
                <p className="form-error" role="alert">
                  {view.error}
                </p>
              )}
              <p className="thread-count hint">
                {view.root.thread?.replies ? `${view.root.thread.replies} ${view.root.thread.replies === 1 ? "reply" : "replies"}` : "No replies yet"}
              </p>
              {view.replies.hasMore && (
                <div className="thread-edge">
                  <button className="ghost" disabled={view.replies.loading} onClick={() => void store.loadOlderReplies(rootId)}>
                    {view.replies.loading ? "Loading…" : "Load older replies"}
                  </button>
                </div>
              )}
              <ol className="thread-replies" ref={list} aria-label="Replies">
                {view.replies.items.map((m) => (
                  <ThreadMessage key={m.id} message={m} />
                ))}
              </ol>
            </>
          )}
        </div>
      </ReaderName.Provider>
      {room?.muted ? (
        <MutedNotice />
      ) : (
        <ReplyComposer roomId={roomId} rootId={rootId} roomName={room?.kind === "group" ? `#${room.name}` : "the conversation"} />
      )}
    </aside>
  );
});

const ThreadMessage = memo(function ThreadMessage({ message: m }: { message: Message }) {
  return (
    <li className={`message ${m.deletedAt ? "deleted" : ""}`} data-message-id={m.id}>
      <div className="message-meta">
        <span className="author">{m.author.displayName}</span>
        <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
          {timeOf(m.createdAt)}
        </time>
        {m.alsoInRoom && <span className="hint"> · also sent to the room</span>}
      </div>
      <MessageText message={m} />
      {m.reactions && (
        <div className="reactions" aria-label="Reactions">
          {m.reactions.map((r) => (
            <span key={r.emoji} className="reaction" title={`${r.count} reacted with ${r.emoji}`}>
              <span className="reaction-emoji">{r.emoji}</span> {r.count}
            </span>
          ))}
        </div>
      )}
    </li>
  );
});

/** Enter sends the reply, Shift+Enter starts a new line; "also send to the room" as in Slack. */
function ReplyComposer({ roomId, rootId, roomName }: { roomId: string; rootId: string; roomName: string }) {
  const store = useStore();
  const [text, setText] = useState("");
  const [alsoToRoom, setAlsoToRoom] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const tooLong = text.length > MAX_BODY_LENGTH;
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => input.current?.focus(), [rootId]);

  async function send() {
    if (!text.trim() || tooLong || sending) return;
    setSending(true);
    setError(null);
    try {
      await store.reply(roomId, rootId, text, alsoToRoom);
      setText("");
      setAlsoToRoom(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSending(false);
      input.current?.focus();
    }
  }
  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (sendsMessage(event)) {
      event.preventDefault();
      void send();
    }
  }

  return (
    <form
      className="composer thread-composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        ref={input}
        aria-label="Reply"
        rows={1}
        placeholder="Reply…"
        value={text}
        aria-invalid={tooLong || error !== null || undefined}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="primary" disabled={!text.trim() || tooLong || sending}>
        Reply
      </button>
      <label className="inline also-to-room">
        <input type="checkbox" checked={alsoToRoom} onChange={(e) => setAlsoToRoom(e.target.checked)} /> Also send to {roomName}
      </label>
      {(error || tooLong) && (
        <p className="form-error" role="alert">
          {tooLong ? overLimitText(text) : error}
        </p>
      )}
    </form>
  );
}
