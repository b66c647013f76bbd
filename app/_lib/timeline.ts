/**
 * A room's timeline as the web UI shows it: stored messages in id order,
 * then the person's own messages not stored yet (pending, or failed with a
 * retry action). Pure functions: each takes a timeline and returns a new one,
 * leaving the old one as it was (the store relies on that to re-render only
 * what changed).
 */
import type { Message, Reaction, ReactionEvent, RoomEvent } from "../../shared/protocol";

export interface TimelineMessage extends Message {
  /** Absent once stored; "pending" while unacknowledged; "failed" with a retry action. */
  status?: "pending" | "failed";
  error?: string;
}

export interface Timeline {
  items: TimelineMessage[];
  /** Whether older messages can be loaded. */
  hasMore: boolean;
  loading: boolean;
  /**
   * The timeline shows the past (opened at a message): newer messages exist
   * that are not loaded. Live messages then wait (they would leave a gap);
   * reading forward, or jumping to the present, joins up with them.
   */
  hasNewer?: boolean;
  /** The message the timeline was opened at (each time anew: `at`), shown in view and, unless `quiet`, highlighted. */
  focus?: { messageId: string; at: number; quiet?: boolean };
  /** The room's membership lines ("Ada joined") in the span of the loaded messages, in order. */
  events?: RoomEvent[];
}

export const EMPTY_TIMELINE: Timeline = { items: [], hasMore: true, loading: false };

/** Compares message ids (decimal strings of any length). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

const isStored = (m: TimelineMessage) => !m.status;

export function oldestStored(tl: Timeline | undefined): TimelineMessage | undefined {
  return tl?.items.find(isStored);
}

export function newestStored(tl: Timeline | undefined): TimelineMessage | undefined {
  return tl?.items.findLast(isStored);
}

/**
 * Adds stored messages: by id, without duplicates, in id order. A pending or
 * failed copy of one of `myId`'s messages goes once the stored one (same
 * `clientMsgId`) is there.
 */
export function mergeMessages(
  tl: Timeline | undefined,
  messages: Message[],
  myId: string,
  patch: Partial<Timeline> = {},
  events: RoomEvent[] = [],
): Timeline {
  const base = tl ?? EMPTY_TIMELINE;
  const byId = new Map<string, TimelineMessage>();
  for (const m of base.items) if (isStored(m)) byId.set(m.id, m);
  for (const m of messages) byId.set(m.id, m);
  const stored = [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
  const sent = new Set(stored.flatMap((m) => (m.authorId === myId && m.clientMsgId ? [m.clientMsgId] : [])));
  const unsent = base.items.filter((m) => !isStored(m) && !sent.has(m.clientMsgId ?? ""));
  return { ...base, ...patch, items: [...stored, ...unsent], ...(events.length > 0 ? { events: mergeEvents(base.events, events) } : {}) };
}

/** Adds membership lines: by id (their order of happening), without duplicates. */
export function mergeEvents(shown: RoomEvent[] = [], events: RoomEvent[]): RoomEvent[] {
  const byId = new Map(shown.map((e) => [e.id, e]));
  for (const e of events) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** What a timeline shows, in order: a message, or a run of membership lines between two messages. */
export type TimelineEntry = { message: TimelineMessage } | { events: RoomEvent[] };

/**
 * The messages with the membership lines among them: each line before the
 * first message sent after it, consecutive lines as one run. Unsent messages
 * come last, after every line.
 */
export function interleave(items: TimelineMessage[], events: RoomEvent[] = []): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  let next = 0;
  const linesUntil = (time: number) => {
    const run: RoomEvent[] = [];
    while (next < events.length && Date.parse(events[next]!.at) < time) run.push(events[next++]!);
    if (run.length > 0) entries.push({ events: run });
  };
  for (const message of items) {
    linesUntil(isStored(message) ? Date.parse(message.createdAt) : Infinity);
    entries.push({ message });
  }
  linesUntil(Infinity);
  return entries;
}

/**
 * A message as changed (edited or deleted) over the copy shown. An edit
 * carries neither reactions nor the thread's summary, so the shown ones stay;
 * a deletion drops the reactions with the body (its thread lives on).
 */
export function changedMessage<M extends Message>(shown: M | undefined, message: Message): Message {
  if (!shown) return message;
  return {
    ...message,
    ...(shown.reactions && !message.deletedAt && !message.reactions ? { reactions: shown.reactions } : {}),
    ...(shown.thread && !message.thread ? { thread: shown.thread } : {}),
    ...(shown.pinned && !message.deletedAt && !message.pinned ? { pinned: shown.pinned } : {}),
  };
}

/** A message changed where it is shown (see {@link changedMessage}). */
export function changeMessage(tl: Timeline, message: Message, myId: string): Timeline {
  const shown = tl.items.find((m) => isStored(m) && m.id === message.id);
  return mergeMessages(tl, [changedMessage(shown, message)], myId);
}

/**
 * One person's reaction added or removed on a shown message. Applying a
 * change twice is the same as once (the person is already, or no longer,
 * listed); changes by different people commute. The timeline comes back
 * unchanged (the same object) when nothing moved.
 */
export function applyReaction(tl: Timeline, change: ReactionEvent, added: boolean): Timeline {
  const index = tl.items.findIndex((m) => isStored(m) && m.id === change.messageId);
  const message = tl.items[index];
  if (!message) return tl;
  const reactions = reactionsAfter(message.reactions ?? [], change, added);
  if (reactions === message.reactions) return tl;
  const items = tl.items.slice();
  items[index] = { ...message, reactions: reactions.length > 0 ? reactions : undefined };
  return { ...tl, items };
}

function reactionsAfter(reactions: Reaction[], { emoji, userId }: ReactionEvent, added: boolean): Reaction[] {
  const at = reactions.findIndex((r) => r.emoji === emoji);
  const current = reactions[at];
  const listed = current?.userIds.includes(userId) ?? false;
  if (added) {
    if (listed) return reactions;
    if (!current) return [...reactions, { emoji, count: 1, userIds: [userId] }];
    return reactions.with(at, { emoji, count: current.count + 1, userIds: [...current.userIds, userId] });
  }
  // A removal of someone not listed counts down only while some reactors go unlisted (history lists 50).
  if (!current || (!listed && current.count <= current.userIds.length)) return reactions;
  if (current.count <= 1) return reactions.toSpliced(at, 1);
  return reactions.with(at, { emoji, count: current.count - 1, userIds: current.userIds.filter((id) => id !== userId) });
}

/**
 * A reply arrived in the thread of a shown message: its summary counts it
 * and names the latest replier. The caller makes sure each reply is counted
 * once (the thread's own list knows which it has).
 */
export function countReply(tl: Timeline, reply: Message): Timeline {
  const index = tl.items.findIndex((m) => isStored(m) && m.id === reply.threadId);
  const root = tl.items[index];
  if (!root) return tl;
  const items = tl.items.slice();
  items[index] = withReply(root, reply);
  return { ...tl, items };
}

/** A thread's first message with one more reply in its summary. */
export function withReply<M extends Message>(root: M, reply: Message): M {
  return {
    ...root,
    thread: { replies: (root.thread?.replies ?? 0) + 1, lastReplyAt: reply.createdAt, lastReplier: { ...reply.author } },
  };
}

/**
 * After a reconnect that missed more than could be fetched: the newest
 * messages alone (older ones load on scrolling up), the unsent kept.
 */
export function restartAt(tl: Timeline | undefined, newest: Message[], events: RoomEvent[] = []): Timeline {
  const unsent = (tl ?? EMPTY_TIMELINE).items.filter((m) => !isStored(m));
  return { items: [...newest, ...unsent], hasMore: true, loading: false, events };
}

export function appendUnsent(tl: Timeline | undefined, message: TimelineMessage): Timeline {
  const base = tl ?? EMPTY_TIMELINE;
  return { ...base, items: [...base.items, message] };
}

/** Changes an unsent message (pending ↔ failed). */
export function updateUnsent(tl: Timeline, clientMsgId: string, patch: Partial<TimelineMessage>): Timeline {
  return { ...tl, items: tl.items.map((m) => (!isStored(m) && m.clientMsgId === clientMsgId ? { ...m, ...patch } : m)) };
}

export function removeUnsent(tl: Timeline, clientMsgId: string): Timeline {
  return { ...tl, items: tl.items.filter((m) => isStored(m) || m.clientMsgId !== clientMsgId) };
}

export function findUnsent(tl: Timeline | undefined, clientMsgId: string): TimelineMessage | undefined {
  return tl?.items.find((m) => !isStored(m) && m.clientMsgId === clientMsgId);
}

export function unsentMessages(tl: Timeline | undefined): TimelineMessage[] {
  return (tl?.items ?? []).filter((m) => !isStored(m));
}

/** A page of history, oldest first, whether there is more before it, and its membership lines. */
export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
  events?: RoomEvent[];
}

/**
 * What a timeline missed while offline: pages back from the newest until
 * they reach `shownId` (the newest stored message shown), at most `maxPages`.
 * `complete` says whether they reached it: if not, there is a gap, and the
 * timeline should restart at these messages rather than show it.
 */
export async function fetchMissed(
  shownId: string,
  fetchPage: (before: string | undefined) => Promise<HistoryPage>,
  maxPages: number,
): Promise<{ messages: Message[]; events: RoomEvent[]; complete: boolean }> {
  const fetched: Message[] = [];
  const events: RoomEvent[] = [];
  let before: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(before);
    fetched.unshift(...page.messages);
    events.unshift(...(page.events ?? []));
    const first = page.messages[0];
    if (!page.hasMore || !first || compareIds(first.id, shownId) <= 0) return { messages: fetched, events, complete: true };
    before = first.id;
  }
  return { messages: fetched, events, complete: false };
}
