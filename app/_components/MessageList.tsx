"use client";

import { Fragment, memo, useCallback, useEffect, useLayoutEffect, useRef } from "react";
import type { TimelineMessage } from "../_lib/timeline";
import { dayKey, dayLabel, GROUP_GAP_MS, linkify, timeOf } from "../_lib/format";
import { useChat, useStore } from "../_lib/use-chat";

const NO_ITEMS: TimelineMessage[] = [];

/**
 * The room's messages, oldest at the top. Scrolling near the top loads the
 * previous page and keeps what you were reading where it was; new messages
 * keep the view at the bottom if it was there.
 */
export const MessageList = memo(function MessageList({ roomId }: { roomId: string }) {
  const timeline = useChat((s) => s.timelines[roomId]);
  const myId = useChat((s) => s.me.id);
  const store = useStore();
  const items = timeline?.items ?? NO_ITEMS;
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ firstId?: string; lastId?: string; height: number; atBottom: boolean }>({
    height: 0,
    atBottom: true,
  });

  const isAtBottom = () => {
    const el = scroller.current;
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  const markReadIfSeen = useCallback(() => {
    if (document.visibilityState === "visible" && isAtBottom()) store.markRead(roomId);
  }, [store, roomId]);

  // Before the browser paints: keep the reading position when older messages
  // were prepended, follow the bottom when new ones were appended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = anchor.current;
    const firstId = items[0]?.id;
    const last = items.at(-1);
    if (prev.firstId && firstId !== prev.firstId && last?.id === prev.lastId) {
      el.scrollTop += el.scrollHeight - prev.height; // older page prepended
    } else if (prev.atBottom || last?.authorId === myId) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { firstId, lastId: last?.id, height: el.scrollHeight, atBottom: isAtBottom() };
    markReadIfSeen();
  }, [items, myId, markReadIfSeen]);

  useEffect(() => {
    anchor.current = { height: 0, atBottom: true };
  }, [roomId]);

  useEffect(() => {
    document.addEventListener("visibilitychange", markReadIfSeen);
    return () => document.removeEventListener("visibilitychange", markReadIfSeen);
  }, [markReadIfSeen]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    anchor.current = { ...anchor.current, height: el.scrollHeight, atBottom: isAtBottom() };
    if (el.scrollTop < 200 && timeline?.hasMore && !timeline.loading) void store.loadOlder(roomId);
    markReadIfSeen();
  };

  return (
    <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages" tabIndex={0}>
      {timeline?.hasMore ? (
        <div className="history-edge">
          <button className="ghost" disabled={timeline.loading} onClick={() => void store.loadOlder(roomId)}>
            {timeline.loading ? "Loading…" : "Load older messages"}
          </button>
        </div>
      ) : timeline ? (
        <p className="history-edge hint">This is the beginning of the conversation.</p>
      ) : null}
      <ol className="message-items">
        {items.map((m, i) => {
          const prev = items[i - 1];
          const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
          const grouped =
            !newDay &&
            prev !== undefined &&
            prev.authorId === m.authorId &&
            Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_GAP_MS;
          return (
            <Fragment key={m.status ? `pending:${m.clientMsgId}` : m.id}>
              {newDay && (
                <li className="day-separator" role="separator">
                  <span>{dayLabel(m.createdAt)}</span>
                </li>
              )}
              <MessageItem message={m} grouped={grouped} roomId={roomId} />
            </Fragment>
          );
        })}
      </ol>
    </div>
  );
});

/**
 * One message. Memoized on its props (the message object, which the store
 * keeps until that message changes, and two primitives): a new message, a
 * typing or a presence event renders no other message again, which matters
 * when each body is up to 4,000 characters to scan for links.
 */
const MessageItem = memo(function MessageItem({
  message: m,
  grouped,
  roomId,
}: {
  message: TimelineMessage;
  grouped: boolean;
  roomId: string;
}) {
  const store = useStore();
  return (
    <li
      className={`message ${grouped ? "grouped" : ""} ${m.status ?? "stored"}`}
      data-message-id={m.status ? undefined : m.id}
      aria-busy={m.status === "pending" || undefined}
    >
      {!grouped && (
        <div className="message-meta">
          <span className="author">{m.author.displayName}</span>
          <time dateTime={m.createdAt}>{timeOf(m.createdAt)}</time>
        </div>
      )}
      {/* dir="auto": a right-to-left message reads and aligns right-to-left, whatever the page's direction. */}
      <div className="body" dir="auto">
        {linkify(m.body).map((seg, i) =>
          seg.kind === "link" ? (
            // dir="ltr" isolates the address from direction overrides in the text around it.
            <a key={i} href={seg.href} target="_blank" rel="noopener noreferrer" dir="ltr">
              {seg.text}
            </a>
          ) : (
            <Fragment key={i}>{seg.text}</Fragment>
          ),
        )}
      </div>
      {m.status === "pending" && <span className="delivery hint">Sending…</span>}
      {m.status === "failed" && (
        <span className="delivery failed" role="alert">
          Not sent{m.error ? `: ${m.error}` : ""}.{" "}
          <button className="link" onClick={() => store.retry(roomId, m.clientMsgId!)}>
            Retry
          </button>{" "}
          <button className="link" onClick={() => store.discard(roomId, m.clientMsgId!)}>
            Discard
          </button>
        </span>
      )}
    </li>
  );
});
