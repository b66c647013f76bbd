"use client";

import { Fragment, memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { RoomEvent } from "../../shared/protocol";
import { MAX_BODY_LENGTH } from "../../shared/limits";
import { dayKey, dayLabel, fullTime, GROUP_GAP_MS, roomEventLines, timeOf } from "../_lib/format";
import { compareIds, interleave, type TimelineMessage } from "../_lib/timeline";
import { mentionsMe, messageLink } from "../_lib/chat-store";
import { overLimitText } from "../_lib/errors";
import { sendsMessage } from "../_lib/keys";
import { useChat, useShallow, useStore } from "../_lib/use-chat";
import { ConfirmDialog, errorText } from "./Dialog";
import { EmojiPicker, rememberEmoji } from "./EmojiPicker";
import { MessageText, ReaderName } from "./MessageBody";
import { AttachmentList } from "./Attachments";
import { Avatar, PersonName } from "./Avatar";

const NO_ITEMS: TimelineMessage[] = [];

/**
 * The room's messages, oldest at the top. Scrolling near the top loads the
 * previous page and keeps what you were reading where it was; new messages
 * keep the view at the bottom if it was there. Opened at a message (a search
 * result, a link), it shows that message and reads forward as you scroll
 * down. A "New messages" divider marks where the unread ones began, with
 * jumps to it and back to the present.
 */
export const MessageList = memo(function MessageList({ roomId }: { roomId: string }) {
  const timeline = useChat((s) => s.timelines[roomId]);
  const myId = useChat((s) => s.me.id);
  const myName = useChat((s) => s.me.username.toLowerCase());
  // The room's owner may delete anyone's message in it.
  const owner = useChat((s) => s.members[roomId]?.some((m) => m.user.id === s.me.id && m.role === "owner") ?? false);
  // A member an admin muted reads, but reacts, replies, edits and pins nothing.
  const muted = useChat((s) => s.rooms.find((r) => r.id === roomId)?.muted === true);
  const unreadFrom = useChat((s) => s.unreadFrom[roomId] ?? null);
  const store = useStore();
  const items = timeline?.items ?? NO_ITEMS;
  const entries = useMemo(() => interleave(items, timeline?.events), [items, timeline?.events]);
  // Read receipts go under my newest message.
  const lastMine = items.findLast((m) => !m.status && !m.deletedAt && m.authorId === myId)?.id;
  // The divider goes before the first message by someone else after the read
  // marker — once what is loaded reaches back to the marker (else it is older
  // than the loaded page, and the jump to it loads it).
  const oldest = items.find((m) => !m.status);
  const reachesMark =
    unreadFrom !== null && timeline !== undefined && (!timeline.hasMore || (oldest !== undefined && compareIds(oldest.id, unreadFrom) <= 0));
  const firstUnread = reachesMark
    ? items.find((m) => !m.status && m.authorId !== myId && compareIds(m.id, unreadFrom!) > 0)?.id
    : undefined;
  const unreadBeyond = unreadFrom !== null && timeline !== undefined && !reachesMark;
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ firstId?: string; lastId?: string; height: number; atBottom: boolean; hadNewer: boolean }>({
    height: 0,
    atBottom: true,
    hadNewer: false,
  });
  const handledFocus = useRef<number | null>(null);
  // A jump to the first unread message waits for it to be loaded, then brings the divider into view.
  const wantDivider = useRef(false);
  const [away, setAway] = useState({ unreadAbove: false, farFromBottom: false });

  const isAtBottom = () => {
    const el = scroller.current;
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  const markReadIfSeen = useCallback(() => {
    if (document.visibilityState === "visible" && isAtBottom()) store.markRead(roomId);
  }, [store, roomId]);

  /** Whether the unread divider is above the view, and whether the view is far from the newest messages. */
  const measure = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const divider = el.querySelector<HTMLElement>(".unread-divider");
    const next = {
      unreadAbove: unreadBeyond || (divider !== null && divider.offsetTop < el.scrollTop),
      farFromBottom: el.scrollHeight - el.scrollTop - el.clientHeight > 2 * el.clientHeight,
    };
    setAway((now) => (now.unreadAbove === next.unreadAbove && now.farFromBottom === next.farFromBottom ? now : next));
  }, [unreadBeyond]);

  // Before the browser paints: show the message the room was opened at; keep
  // the reading position when older messages were prepended or newer ones
  // read forward; follow the bottom when new ones were appended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = anchor.current;
    const firstId = items[0]?.id;
    const last = items.at(-1);
    const focus = timeline?.focus;
    const prepended = prev.firstId && firstId !== prev.firstId && last?.id === prev.lastId;
    const replaced = prev.lastId !== undefined && firstId !== prev.firstId && last?.id !== prev.lastId;
    const target = focus && handledFocus.current !== focus.at ? el.querySelector(`[data-message-id="${CSS.escape(focus.messageId)}"]`) : null;
    const divider = wantDivider.current ? el.querySelector(".unread-divider") : null;
    if (divider) {
      wantDivider.current = false;
      handledFocus.current = focus?.at ?? null;
      divider.scrollIntoView({ block: "start" });
    } else if (focus && target) {
      handledFocus.current = focus.at;
      target.scrollIntoView({ block: "center" });
    } else if (prepended) {
      el.scrollTop += el.scrollHeight - prev.height;
    } else if (timeline?.hasNewer || (prev.hadNewer && firstId === prev.firstId)) {
      // In the past, or a newer page read forward: stay where the reader is.
    } else if (prev.atBottom || replaced || last?.authorId === myId) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { firstId, lastId: last?.id, height: el.scrollHeight, atBottom: isAtBottom(), hadNewer: timeline?.hasNewer ?? false };
    if (!timeline?.hasNewer) markReadIfSeen();
    measure();
  }, [items, timeline?.events, myId, markReadIfSeen, measure, timeline?.focus, timeline?.hasNewer]);

  useEffect(() => {
    anchor.current = { height: 0, atBottom: true, hadNewer: false };
  }, [roomId]);

  // A shorter view (a phone's keyboard opening, a smaller window, the composer
  // growing) keeps showing the newest message if it showed it before.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (anchor.current.atBottom && !anchor.current.hadNewer) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    document.addEventListener("visibilitychange", markReadIfSeen);
    return () => document.removeEventListener("visibilitychange", markReadIfSeen);
  }, [markReadIfSeen]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    anchor.current = { ...anchor.current, height: el.scrollHeight, atBottom: isAtBottom() };
    if (el.scrollTop < 200 && timeline?.hasMore && !timeline.loading) void store.loadOlder(roomId);
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 200 && timeline?.hasNewer && !timeline.loading) void store.loadNewer(roomId);
    if (!timeline?.hasNewer) markReadIfSeen();
    measure();
  };

  const jumpToUnread = async () => {
    const divider = scroller.current?.querySelector(".unread-divider");
    if (divider) return divider.scrollIntoView({ block: "start" });
    if (!unreadFrom) return;
    wantDivider.current = true;
    try {
      // Read up to the marker: the room opens there; nothing read yet: its beginning.
      if (unreadFrom !== "0") await store.jumpTo(roomId, unreadFrom, { quiet: true });
      else for (let page = 0; page < 20 && store.state.getState().timelines[roomId]?.hasMore; page++) await store.loadOlder(roomId);
    } catch {
      wantDivider.current = false;
    }
  };
  const jumpToPresent = () => {
    if (timeline?.hasNewer) void store.jumpToPresent(roomId).catch(() => {});
    else scroller.current?.scrollTo({ top: scroller.current.scrollHeight });
  };

  return (
    <ReaderName.Provider value={myName}>
      <div className="timeline-wrap">
        {away.unreadAbove && (firstUnread !== undefined || unreadBeyond) && (
          <button className="jump jump-unread primary" onClick={() => void jumpToUnread()}>
            ↑ Jump to first unread
          </button>
        )}
        <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages" tabIndex={0}>
          {timeline?.hasMore ? (
            <div className="history-edge">
              <button className="ghost" disabled={timeline.loading} onClick={() => void store.loadOlder(roomId)}>
                {timeline.loading ? "Loading…" : "Load older messages"}
              </button>
            </div>
          ) : timeline && items.length === 0 ? (
            <p className="history-edge hint">No messages yet. Write the first one below.</p>
          ) : timeline ? (
            <p className="history-edge hint">This is the beginning of the conversation.</p>
          ) : null}
          <ol className="message-items">
            {entries.map((entry, i) => {
              const before = entries[i - 1];
              const at = "message" in entry ? entry.message.createdAt : entry.events[0]!.at;
              const newDay = !before || dayKey("message" in before ? before.message.createdAt : before.events[0]!.at) !== dayKey(at);
              if ("events" in entry) {
                return (
                  <Fragment key={`events:${entry.events[0]!.id}`}>
                    {newDay && <DaySeparator at={at} />}
                    <RoomEventLines run={entry.events} />
                  </Fragment>
                );
              }
              const m = entry.message;
              const prev = before && "message" in before ? before.message : undefined;
              const grouped =
                !newDay &&
                m.id !== firstUnread &&
                prev !== undefined &&
                prev.authorId === m.authorId &&
                Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_GAP_MS;
              return (
                <Fragment key={m.status ? `pending:${m.clientMsgId}` : m.id}>
                  {newDay && <DaySeparator at={m.createdAt} />}
                  {m.id === firstUnread && (
                    <li className="unread-divider" role="separator" aria-label="New messages">
                      New messages
                    </li>
                  )}
                  <MessageItem
                    message={m}
                    grouped={grouped}
                    roomId={roomId}
                    mine={m.authorId === myId}
                    owner={owner}
                    muted={muted}
                    focused={m.id === timeline?.focus?.messageId && !timeline.focus.quiet}
                  />
                  {m.id === lastMine && <SeenBy roomId={roomId} messageId={m.id} />}
                </Fragment>
              );
            })}
          </ol>
          {timeline?.hasNewer && (
            <div className="history-edge">
              <button className="ghost" disabled={timeline.loading} onClick={() => void store.loadNewer(roomId)}>
                {timeline.loading ? "Loading…" : "Load newer messages"}
              </button>
            </div>
          )}
        </div>
        {(timeline?.hasNewer || away.farFromBottom) && (
          <button className="jump jump-present primary" onClick={jumpToPresent}>
            Jump to present ↓
          </button>
        )}
      </div>
    </ReaderName.Provider>
  );
});

function DaySeparator({ at }: { at: string }) {
  return (
    <li className="day-separator" role="separator">
      <span>{dayLabel(at)}</span>
    </li>
  );
}

/** A run of membership lines between two messages ("Ada joined", "Bob added Cy and Dee"). */
const RoomEventLines = memo(function RoomEventLines({ run }: { run: RoomEvent[] }) {
  return roomEventLines(run).map((line) => (
    <li key={line.at + line.text} className="room-event">
      <time dateTime={line.at} title={fullTime(line.at)}>
        {timeOf(line.at)}
      </time>
      <span>{line.text}</span>
    </li>
  ));
});

/**
 * One message. Memoized on its props (the message object, which the store
 * keeps until that message changes, and primitives): a new message, a typing
 * or a presence event renders no other message again, which matters when
 * each body is up to 4,000 characters to scan for links.
 *
 * Its actions (edit and delete my messages; delete any in a room I own) show
 * on hover, on keyboard focus, and on a tap on touch screens.
 */
const MessageItem = memo(function MessageItem({
  message: m,
  grouped,
  roomId,
  mine,
  owner,
  muted,
  focused,
}: {
  message: TimelineMessage;
  grouped: boolean;
  roomId: string;
  mine: boolean;
  owner: boolean;
  /** I am muted in the room: only reading (and deleting my own) is left. */
  muted: boolean;
  /** The message the room was opened at (a search result, a link). */
  focused: boolean;
}) {
  const store = useStore();
  const editing = useChat((s) => s.editing?.messageId === m.id);
  const [confirming, setConfirming] = useState(false);
  const [picking, setPicking] = useState(false);
  const [reactError, setReactError] = useState<string | null>(null);
  const [pinError, setPinError] = useState<string | null>(null);
  const me = useChat((s) => s.me);
  const myId = me.id;
  const live = !m.status && !m.deletedAt;
  // Someone I block: their message is folded away until I ask to see it.
  const blocked = useChat((s) => s.blocked[m.authorId] === true);
  const [unfolded, setUnfolded] = useState(false);
  if (blocked && !unfolded) {
    return (
      <li className="message folded" data-message-id={m.status ? undefined : m.id}>
        <span className="hint">A message from someone you blocked.</span>{" "}
        <button className="link" onClick={() => setUnfolded(true)}>
          Show
        </button>
      </li>
    );
  }
  /** Adds my reaction, or takes it back if I have it; a refusal shows under the message. */
  const react = (emoji: string) => {
    setReactError(null);
    rememberEmoji(emoji);
    store.react(roomId, m.id, emoji).catch((err: unknown) => setReactError(errorText(err)));
  };
  return (
    <li
      className={`message ${grouped ? "grouped" : ""} ${m.status ?? "stored"} ${m.deletedAt ? "deleted" : ""} ${focused ? "focused" : ""} ${m.pinned && !m.deletedAt ? "pinned" : ""} ${
        !mine && m.mentions && mentionsMe(m, me) ? "mentions-me" : ""
      }`}
      data-message-id={m.status ? undefined : m.id}
      aria-busy={m.status === "pending" || undefined}
      tabIndex={live ? -1 : undefined}
    >
      {!grouped && <Avatar person={m.author} size={36} />}
      {!grouped && (
        <div className="message-meta">
          <PersonName person={m.author} />
          <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
            {timeOf(m.createdAt)}
          </time>
        </div>
      )}
      {live && !editing && (
        <div className="message-actions" role="group" aria-label="Message actions">
          {!muted && (
            <button className="ghost" aria-label="Add reaction" title="Add reaction" onClick={() => setPicking(true)}>
              ☺︎+
            </button>
          )}
          {!m.threadId && (
            <button className="ghost" onClick={() => void store.openThread(roomId, m.id)}>
              {muted ? "Thread" : "Reply"}
            </button>
          )}
          <CopyLinkButton roomId={roomId} messageId={m.id} />
          {!muted && (
            <button
              className="ghost"
              title={m.pinned ? "Unpin from the room" : "Pin to the room: everyone finds it under Pinned"}
              onClick={() => {
                setPinError(null);
                (m.pinned ? store.unpin(roomId, m.id) : store.pin(roomId, m.id)).catch((err: unknown) => setPinError(errorText(err)));
              }}
            >
              {m.pinned ? "Unpin" : "Pin"}
            </button>
          )}
          {mine && !muted && (
            <button className="ghost" onClick={() => store.startEditing(roomId, m.id)}>
              Edit
            </button>
          )}
          {(mine || owner) && (
            <button className="ghost" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
      )}
      {m.pinned && !m.deletedAt && (
        <p className="pinned-note hint" title={`Pinned ${fullTime(m.pinned.at)}`}>
          <span aria-hidden="true">📌</span> Pinned{m.pinned.by ? ` by ${m.pinned.by.displayName}` : ""}
        </p>
      )}
      {pinError && (
        <p className="form-error" role="alert">
          {pinError}
        </p>
      )}
      {editing && !m.deletedAt ? <MessageEditor roomId={roomId} message={m} /> : (m.body !== "" || !m.attachments) && <MessageText message={m} />}
      {m.attachments && !m.deletedAt && <AttachmentList files={m.attachments} />}
      {m.alsoInRoom && m.threadId && (
        <button className="link thread-link hint" onClick={() => void store.openThread(roomId, m.threadId!)}>
          Replied in a thread
        </button>
      )}
      {m.thread && m.thread.replies > 0 && (
        <button className="link thread-link" onClick={() => void store.openThread(roomId, m.id)}>
          {m.thread.replies} {m.thread.replies === 1 ? "reply" : "replies"}
          <span className="hint">
            {" "}
            · last by {m.thread.lastReplier.displayName} {timeOf(m.thread.lastReplyAt)}
          </span>
        </button>
      )}
      {live && (m.reactions || reactError) && <ReactionBar roomId={roomId} message={m} onToggle={react} onAdd={() => setPicking(true)} error={reactError} />}
      {picking && (
        <EmojiPicker
          onClose={() => setPicking(false)}
          onPick={(emoji) => {
            setPicking(false);
            // Picking one I already have does not take it back.
            if (!m.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(myId))) react(emoji);
          }}
        />
      )}
      {confirming && <DeleteDialog roomId={roomId} message={m} mine={mine} onClose={() => setConfirming(false)} />}
      {m.status === "pending" && <span className="delivery hint">Sending…</span>}
      {m.status === "failed" && (
        <span className="delivery failed" role="alert">
          Not sent.{m.error ? ` ${m.error}` : ""}{" "}
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

/** Copies a link that opens the room at this message (for anyone who may read the room). */
function CopyLinkButton({ roomId, messageId }: { roomId: string; messageId: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = () => {
    const link = `${location.origin}${location.pathname}#${messageLink(roomId, messageId)}`;
    navigator.clipboard.writeText(link).then(
      () => setCopied("yes"),
      () => setCopied("no"),
    );
    setTimeout(() => setCopied(null), 2000);
  };
  return (
    <button className="ghost" title="Copy a link to this message" onClick={copy}>
      {copied === "yes" ? "Copied" : copied === "no" ? "Can’t copy" : "Link"}
    </button>
  );
}

/**
 * A message's reactions: each emoji with its count, pressed when it is mine
 * (a click takes it back, a click on another's adds mine), the names on
 * hover, and a button for another emoji.
 */
function ReactionBar(props: {
  roomId: string;
  message: TimelineMessage;
  onToggle: (emoji: string) => void;
  onAdd: () => void;
  error: string | null;
}) {
  const { roomId, message, onToggle, onAdd, error } = props;
  const myId = useChat((s) => s.me.id);
  const names = useChat((s) => s.names);
  const members = useChat((s) => s.members[roomId]);
  const nameOf = (id: string) =>
    id === myId ? "You" : (names[id] ?? members?.find((member) => member.user.id === id)?.user.displayName ?? "Someone");
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {message.reactions?.map((r) => {
        const mine = r.userIds.includes(myId);
        const who = r.userIds.map(nameOf);
        const others = r.count - r.userIds.length;
        const label = `${who.join(", ")}${others > 0 ? ` and ${others} more` : ""} reacted with ${r.emoji}`;
        return (
          <button key={r.emoji} type="button" className="reaction" aria-pressed={mine} title={label} aria-label={`${r.emoji} ${r.count}: ${label}`} onClick={() => onToggle(r.emoji)}>
            <span className="reaction-emoji">{r.emoji}</span> {r.count}
          </button>
        );
      })}
      <button type="button" className="reaction add-reaction" aria-label="Add reaction" title="Add reaction" onClick={onAdd}>
        ☺︎+
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Edits a message in place: Enter saves, Shift+Enter starts a new line, Escape cancels. */
function MessageEditor({ roomId, message }: { roomId: string; message: TimelineMessage }) {
  const store = useStore();
  const [text, setText] = useState(message.body);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const tooLong = text.length > MAX_BODY_LENGTH;

  const close = () => {
    store.stopEditing();
    document.getElementById("composer-input")?.focus();
  };
  async function save() {
    if (!text.trim() || tooLong || saving) return;
    setSaving(true);
    try {
      await store.edit(roomId, message.id, text);
      document.getElementById("composer-input")?.focus();
    } catch (err) {
      setError(errorText(err));
      setSaving(false);
    }
  }
  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (sendsMessage(event)) {
      event.preventDefault();
      void save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  }

  return (
    <div className="message-editor">
      <textarea
        aria-label="Edit message"
        value={text}
        rows={Math.min(8, text.split("\n").length)}
        autoFocus
        onFocus={(e) => e.currentTarget.setSelectionRange(e.currentTarget.value.length, e.currentTarget.value.length)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong || error !== null || undefined}
      />
      <div className="message-editor-actions">
        <span className="hint">Enter to save, Esc to cancel</span>
        <button className="ghost" onClick={close}>
          Cancel
        </button>
        <button className="primary" disabled={!text.trim() || tooLong || saving} onClick={() => void save()}>
          Save
        </button>
      </div>
      {(error || tooLong) && (
        <p className="form-error" role="alert">
          {tooLong ? overLimitText(text) : error}
        </p>
      )}
    </div>
  );
}

/** Asks before deleting: a deleted message cannot be brought back. */
function DeleteDialog({ roomId, message, mine, onClose }: { roomId: string; message: TimelineMessage; mine: boolean; onClose: () => void }) {
  const store = useStore();
  async function remove() {
    await store.deleteMessage(roomId, message.id);
    onClose();
  }
  return (
    <ConfirmDialog title="Delete message?" confirm="Delete" danger onConfirm={remove} onClose={onClose}>
      <p className="flush">
        {mine ? "Your message" : `${message.author.displayName}’s message`} will be deleted for everyone in the room. This can’t be undone.
      </p>
      <blockquote className="quoted" dir="auto">
        {message.body.length > 300 ? `${message.body.slice(0, 300)}…` : message.body}
      </blockquote>
    </ConfirmDialog>
  );
}

/**
 * Who has read my newest message: "Seen" in a DM once the other person has,
 * "Seen by N" in a group room (their names on hover). Built on the members'
 * read markers, which move live (`member:read`).
 */
function SeenBy({ roomId, messageId }: { roomId: string; messageId: string }) {
  const dm = useChat((s) => s.rooms.find((r) => r.id === roomId)?.kind === "dm");
  const readers = useChat(
    useShallow((s) =>
      (s.members[roomId] ?? [])
        .filter((m) => m.user.id !== s.me.id && m.lastReadMessageId !== null && compareIds(m.lastReadMessageId, messageId) >= 0)
        .map((m) => m.user.displayName),
    ),
  );
  if (readers.length === 0) return null;
  return (
    <li className="receipt hint" title={`Seen by ${readers.join(", ")}`}>
      {dm ? "Seen" : `Seen by ${readers.length}`}
    </li>
  );
}
