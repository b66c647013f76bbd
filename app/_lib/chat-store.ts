/**
 * The web UI's state: one store (zustand) that components read slice by
 * slice through `useChat` and change through the methods below. It puts
 * together the parts that each do one thing: the connection (transport.ts),
 * the timelines (timeline.ts: merging, catching up) and the messages on their
 * way (outbox.ts); what it reads from the page (the room in the URL, whether
 * the tab is seen) comes through `Page`.
 *
 * What it guarantees the person chatting:
 * - a sent message shows at once as pending, becomes the stored message on
 *   its ack, is re-sent after a reconnect, and shows a retry action if it
 *   failed (outbox.ts);
 * - after a reconnect, every room on screen catches up from history, merged
 *   by message id: no gaps, no duplicates, order kept;
 * - every tab stays in step through the server's per-user events;
 * - a refused connection is tried again with backoff until it works.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { ROOM_MENTION } from "../../shared/mentions";
import type {
  Attachment,
  FollowedThread,
  Member,
  Message,
  NotifyLevel,
  Pin,
  PublicRoom,
  ReactionEvent,
  Room,
  RoomBanEntry,
  RoomEvent,
  RoomSummary,
  SearchHit,
  User,
} from "../../shared/protocol";
import type { MessageSearchInput } from "../../shared/schemas";
import { newClientMsgId, Outbox } from "./outbox";
import type { SessionEnd } from "./session-notice";
import { errorText, RequestError, uploadErrorText } from "./errors";
import type { ErrorBody } from "../../shared/errors";
import { fileSize, typeAllowed, type Uploader, type UploadLimits, xhrUploader } from "./upload";
import { clip, summary } from "./format";
import {
  appendUnsent,
  applyReaction,
  changedMessage,
  changeMessage,
  compareIds,
  countReply,
  withReply,
  EMPTY_TIMELINE,
  fetchMissed,
  findUnsent,
  mergeEvents,
  mergeMessages,
  newestStored,
  oldestStored,
  removeUnsent,
  restartAt,
  type Timeline,
  unsentMessages,
  updateUnsent,
} from "./timeline";
import { ChatTransport, type ConnectionStatus, type TransportOptions } from "./transport";

export type { ConnectionStatus } from "./transport";
export type { Timeline, TimelineMessage } from "./timeline";

export interface ChatState {
  me: User;
  status: ConnectionStatus;
  rooms: RoomSummary[];
  activeRoomId: string | null;
  timelines: Record<string, Timeline>;
  members: Record<string, Member[]>;
  online: Record<string, boolean>;
  /** roomId → userId → when the indicator expires (ms since epoch). */
  typing: Record<string, Record<string, number>>;
  /** userId → display name, from every message, member and search seen. */
  names: Record<string, string>;
  /** userId → their picture's URL, or null: none (initials) — from the latest profile, member, room or message seen. */
  avatars: Record<string, string | null>;
  /** The people I block (userId → true): their messages are collapsed, our DM is closed. */
  blocked: Record<string, true>;
  /** The message being edited in place, if any. */
  editing: { roomId: string; messageId: string } | null;
  /**
   * Per room, the read marker it had when opened with unread messages ("0":
   * nothing read yet), or null: where the "New messages" divider goes. It
   * stays while the room is open, as the marker itself moves on.
   */
  unreadFrom: Record<string, string | null>;
  /** The thread shown beside the room, if any. */
  openThread: { roomId: string; rootId: string } | null;
  /** Threads loaded so far, by their first message's id: it, and its replies as a timeline. */
  threads: Record<string, ThreadView>;
  /** The threads I take part in (the latest ones, as `thread:list` gave them and replies since), by their first message's id. */
  followed: Record<string, FollowedThread>;
  /** Per room, the files chosen for the next message: uploading, uploaded, or refused. */
  uploads: Record<string, Upload[]>;
  /** Per room, its pinned messages (newest pin first), once the Pinned list was opened; kept in step live. */
  pins: Record<string, Message[]>;
}

/** A file on its way into a room, shown above the message box until the message is sent. */
export interface Upload {
  /** This upload in this tab. */
  key: string;
  name: string;
  size: number;
  /** Share sent so far, 0–1. */
  progress: number;
  status: "uploading" | "done" | "failed";
  error?: string;
  /** Once uploaded. */
  attachment?: Attachment;
}

export interface ThreadView {
  root: Message;
  replies: Timeline;
  /** Whether the loading of the thread failed (it shows why). */
  error?: string;
}

/** What the store reads from and writes to the page. */
export interface Page {
  /** The room the URL names (`#room=<id>`), or "". */
  roomInUrl(): string;
  /** The message the URL names (`#room=<id>&message=<id>`: a link to it), or "". */
  messageInUrl(): string;
  /** Names the open room (and the message it was opened at) in the URL, so a reload comes back to it. */
  showRoom(roomId: string, messageId?: string): void;
  /** Whether the person can see the tab (a message arriving then is read). */
  visible(): boolean;
  /** Shows a notification outside the page (if the person allowed them); `onOpen` runs when it is clicked. */
  notify(notice: { title: string; body: string; tag: string }, onOpen: () => void): void;
}

/** `#room=<id>&message=<id>` as a record. */
function hashParams(): URLSearchParams {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

export const browserPage: Page = {
  roomInUrl: () => hashParams().get("room") ?? "",
  messageInUrl: () => hashParams().get("message") ?? "",
  showRoom: (roomId, messageId) => history.replaceState(null, "", `#${messageLink(roomId, messageId)}`),
  visible: () => document.visibilityState === "visible",
  notify: ({ title, body, tag }, onOpen) => {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const shown = new Notification(title, { body, tag });
    shown.onclick = () => {
      window.focus();
      shown.close();
      onOpen();
    };
  },
};

/** Whether a message mentions this person: by username, or everyone with @room. */
export function mentionsMe(message: Message, me: User): boolean {
  const mentions = message.mentions ?? [];
  return mentions.includes(ROOM_MENTION) || mentions.includes(me.username.toLowerCase());
}

/** The URL fragment that opens a room, or a room at a message (a link to share). */
export function messageLink(roomId: string, messageId?: string): string {
  return new URLSearchParams({ room: roomId, ...(messageId ? { message: messageId } : {}) }).toString();
}

export interface ChatStoreOptions {
  /** Runs once the session is over (the connection is closed by then); only a new sign-in helps. */
  onSessionEnded(reason: SessionEnd): void;
  page?: Page;
  /** Where and how to connect (the page's origin and cookie by default). */
  connection?: Pick<TransportOptions, "url" | "socket">;
  /** How files are uploaded (XMLHttpRequest to the page's origin by default). */
  uploader?: Uploader;
  /** HTTP requests to the server's API (the page's `fetch`, with its cookie, by default). */
  http?: (path: string, init?: RequestInit) => Promise<Response>;
}

const PAGE = 50;
/** How many of the threads I take part in are loaded (the latest). */
const FOLLOWED_PAGE = 50;
const TYPING_TTL_MS = 6000;
/** How far back a reconnect catches up before it starts the room afresh at its newest page. */
const MAX_CATCH_UP_PAGES = 10;
/** The most members the members panel loads for one room. */
const MAX_MEMBERS_LOADED = 1000;

export class ChatStore {
  /** The state, for `useChat` (and tests): `getState()`, `subscribe()`. */
  readonly state: StoreApi<ChatState>;
  private readonly transport: ChatTransport;
  private readonly outbox: Outbox;
  private readonly page: Page;
  private readonly typingTimer: ReturnType<typeof setInterval>;
  private typingSent: { roomId: string; at: number } | null = null;
  /** A reading of the room list in flight, started by a message for a room the list lacks. */
  private listing: Promise<void> | null = null;
  private readonly uploader: Uploader;
  private readonly uploadLimits: () => Promise<UploadLimits>;
  private readonly http: (path: string, init?: RequestInit) => Promise<Response>;
  /** Cancels each upload in flight, by its key. */
  private readonly cancels = new Map<string, () => void>();
  private uploadCount = 0;

  constructor(me: User, options: ChatStoreOptions) {
    this.page = options.page ?? browserPage;
    this.uploader = options.uploader ?? xhrUploader;
    let limits: Promise<UploadLimits> | null = null;
    this.http = options.http ?? ((path, init) => fetch(path, init));
    const askLimits = () => this.http("/api/upload-limits").then((r) => r.json() as Promise<UploadLimits>);
    // Asked once; a failed answer is asked again next time.
    this.uploadLimits = () => (limits ??= askLimits().catch((err: unknown) => ((limits = null), Promise.reject(err))));
    this.state = createStore<ChatState>()(() => ({
      me,
      status: "connecting",
      rooms: [],
      activeRoomId: null,
      timelines: {},
      members: {},
      online: { [me.id]: true },
      typing: {},
      names: { [me.id]: me.displayName },
      avatars: { [me.id]: me.avatar ?? null },
      blocked: {},
      editing: null,
      unreadFrom: {},
      openThread: null,
      threads: {},
      followed: {},
      uploads: {},
      pins: {},
    }));
    this.transport = new ChatTransport({
      ...options.connection,
      onStatus: (status) => this.set({ status }),
      onConnect: (first) => void this.onConnect(first),
      onSessionEnded: (reason) => {
        this.close();
        options.onSessionEnded(reason);
      },
    });
    this.outbox = new Outbox({
      connected: () => this.transport.connected,
      send: async (input) => (await this.transport.request("message:send", input)).message,
      stored: (message) => this.merge(message.roomId, [message]),
      failed: (roomId, clientMsgId, error) => this.updateTimeline(roomId, (tl) => updateUnsent(tl, clientMsgId, { status: "failed", error })),
    });
    const on = this.transport.on.bind(this.transport);
    on("message:new", (m) => this.onMessage(m));
    // An edit or a deletion replaces the message where it is shown (a room not loaded reads it later).
    on("message:updated", (m) => this.changed(m));
    on("message:deleted", (m) => this.changed(m));
    on("message:pinned", ({ roomId, messageId, pinned }) => this.onPin(roomId, messageId, pinned));
    on("message:unpinned", ({ roomId, messageId }) => this.onPin(roomId, messageId, null));
    on("member:muted", ({ roomId, userId, muted }) => this.onMemberMuted(roomId, userId, muted));
    on("reaction:added", (change) => this.onReaction(change, true));
    on("reaction:removed", (change) => this.onReaction(change, false));
    on("member:joined", ({ roomId, member }) => this.onMemberJoined(roomId, member));
    on("member:left", ({ roomId, userId }) => this.onMemberLeft(roomId, userId));
    on("room:event", (event) => this.onRoomEvent(event));
    on("member:read", ({ roomId, userId, messageId }) => this.onMemberRead(roomId, userId, messageId));
    on("member:role", ({ roomId, userId, role }) => this.onMemberRole(roomId, userId, role));
    on("room:updated", (room) => this.onRoomUpdated(room));
    on("user:updated", (user) => this.onUserUpdated(user));
    on("user:blocked", ({ userId, blocked }) => this.onBlocked(userId, blocked));
    on("room:joined", (room) => this.onRoomJoined(room));
    on("room:left", ({ roomId }) => this.onRoomLeft(roomId));
    on("room:hidden", ({ roomId }) => this.dropRoom(roomId));
    on("room:read", ({ roomId, messageId }) => this.onRead(roomId, messageId));
    on("room:notifications", ({ roomId, level }) => this.onNotifications(roomId, level));
    on("thread:reply", (reply) => this.onFollowedReply(reply));
    on("thread:read", ({ threadId, messageId }) => this.onThreadRead(threadId, messageId));
    on("presence", ({ userId, online }) => this.set({ online: { ...this.get().online, [userId]: online } }));
    on("typing", ({ roomId, userId, typing }) => this.onTyping(roomId, userId, typing));
    this.typingTimer = setInterval(() => this.expireTyping(), 1000);
  }

  private get(): ChatState {
    return this.state.getState();
  }

  private set(patch: Partial<ChatState>): void {
    this.state.setState(patch);
  }

  close(): void {
    clearInterval(this.typingTimer);
    this.transport.close();
  }

  // ---- connection -------------------------------------------------------------

  private async onConnect(first: boolean): Promise<void> {
    // What each room on screen showed when the connection came back, read
    // before anything is awaited: messages arriving live from now on are
    // newer than the gap, and must not hide it.
    const shown = first ? [] : Object.entries(this.get().timelines).map(([roomId, tl]) => [roomId, newestStored(tl)?.id] as const);
    // Threads may have missed replies meanwhile: read again when shown.
    const thread = this.get().openThread;
    if (!first) this.set({ threads: {} });
    if (!first && thread) void this.openThread(thread.roomId, thread.rootId);
    try {
      await this.refreshRooms();
      void this.loadFollowed().catch(() => {});
      void this.loadBlocked().catch(() => {});
      // Catch up every room on screen, then resend what was pending.
      await Promise.all(shown.map(([roomId, shownId]) => this.catchUp(roomId, shownId)));
      this.outbox.resend(Object.values(this.get().timelines).flatMap((tl) => unsentMessages(tl)));
      const active = this.get().activeRoomId;
      if (active) void this.loadMembers(active);
    } catch {
      // A failed request here shows as missing data; the next reconnect retries.
    }
  }

  private async refreshRooms(): Promise<void> {
    // The list comes in pages; the sidebar shows every room.
    const rooms: RoomSummary[] = [];
    let after: string | undefined;
    do {
      const page = await this.transport.request("room:list", { limit: 500, ...(after ? { after } : {}) });
      rooms.push(...page.rooms);
      after = page.nextCursor;
    } while (after);
    this.set({ rooms, ...this.learn(rooms.flatMap((r) => (r.peer ? [r.peer] : []))) });
    const peers = rooms.flatMap((r) => (r.peer ? [r.peer.id] : []));
    if (peers.length > 0) {
      const { online } = await this.transport.request("presence:query", { userIds: peers.slice(0, 500) });
      const next = { ...this.get().online };
      for (const id of peers) next[id] = online.includes(id);
      this.set({ online: next });
    }
    const active = this.get().activeRoomId;
    if (!active || !rooms.some((r) => r.id === active)) {
      const inUrl = this.page.roomInUrl();
      const pick = rooms.find((r) => r.id === inUrl) ?? rooms[0];
      const at = pick?.id === inUrl ? this.page.messageInUrl() : "";
      if (pick && at) void this.jumpTo(pick.id, at).catch(() => this.openRoom(pick.id));
      else if (pick) this.openRoom(pick.id);
      else this.set({ activeRoomId: null });
    }
  }

  // ---- rooms --------------------------------------------------------------------

  openRoom(roomId: string): void {
    this.set({ activeRoomId: roomId, unreadFrom: { ...this.get().unreadFrom, [roomId]: this.readMarkOf(roomId) } });
    this.page.showRoom(roomId);
    if (!this.get().timelines[roomId]) void this.loadOlder(roomId);
    void this.loadMembers(roomId);
  }

  /** Where a room's unread messages begin, if it has any. */
  private readMarkOf(roomId: string): string | null {
    const room = this.get().rooms.find((r) => r.id === roomId);
    return room && room.unread > 0 ? (room.lastReadMessageId ?? "0") : null;
  }

  async createRoom(name: string, visibility: "public" | "private", memberIds: string[]): Promise<Room> {
    const { room } = await this.transport.request("room:create", { name, visibility, memberIds });
    this.onRoomJoined(room);
    this.openRoom(room.id);
    return room;
  }

  async joinRoom(roomId: string): Promise<void> {
    const { room } = await this.transport.request("room:join", { roomId });
    this.onRoomJoined(room);
    this.openRoom(room.id);
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.transport.request("room:leave", { roomId });
    this.onRoomLeft(roomId);
  }

  async inviteToRoom(roomId: string, userIds: string[]): Promise<void> {
    await this.transport.request("room:invite", { roomId, userIds });
    void this.loadMembers(roomId);
  }

  async openDm(user: User): Promise<void> {
    this.set(this.learn([user]));
    const { room } = await this.transport.request("dm:open", { userId: user.id });
    if (!this.get().rooms.some((r) => r.id === room.id)) await this.refreshRooms();
    this.openRoom(room.id);
  }

  async browseRooms(query: string): Promise<PublicRoom[]> {
    return (await this.transport.request("room:browse", { query })).rooms;
  }

  async searchUsers(query: string): Promise<User[]> {
    return (await this.transport.request("user:search", { query })).users;
  }

  private async loadMembers(roomId: string): Promise<void> {
    try {
      // Pages of members, up to a panel's worth: a room of thousands is not listed in full.
      const members: Member[] = [];
      let after: string | undefined;
      do {
        const page = await this.transport.request("room:members", { roomId, limit: 500, ...(after ? { after } : {}) });
        members.push(...page.members);
        after = page.nextCursor;
      } while (after && members.length < MAX_MEMBERS_LOADED);
      const nextOnline = { ...this.get().online };
      for (const m of members) nextOnline[m.user.id] = m.online;
      this.set({ members: { ...this.get().members, [roomId]: members }, online: nextOnline, ...this.learn(members.map((m) => m.user)) });
    } catch {
      // Not readable (left meanwhile): nothing to show.
    }
  }

  /** Someone joined a room whose members are shown: they appear at the end, as in the server's order. */
  private onMemberJoined(roomId: string, member: Member): void {
    const id = member.user.id;
    this.updateMembers(roomId, (list) => (list.some((m) => m.user.id === id) ? list : [...list, member]));
    this.set({ online: { ...this.get().online, [id]: member.online }, ...this.learn([member.user]) });
  }

  /** A member read further (their receipts move); markers only go forward. */
  private onMemberRead(roomId: string, userId: string, messageId: string): void {
    this.updateMembers(roomId, (list) =>
      list.map((m) =>
        m.user.id === userId && (!m.lastReadMessageId || compareIds(m.lastReadMessageId, messageId) < 0) ? { ...m, lastReadMessageId: messageId } : m,
      ),
    );
  }

  private onMemberLeft(roomId: string, userId: string): void {
    this.updateMembers(roomId, (list) => list.filter((m) => m.user.id !== userId));
  }

  /** A membership line for a loaded timeline that shows the present (one in the past reads forward to it). */
  private onRoomEvent(event: RoomEvent): void {
    const tl = this.get().timelines[event.roomId];
    if (tl && !tl.hasNewer) this.setTimeline(event.roomId, { ...tl, events: mergeEvents(tl.events, [event]) });
  }

  /** Changes the members shown for a room, if they are loaded (other rooms' load when opened). */
  private updateMembers(roomId: string, change: (list: Member[]) => Member[]): void {
    const list = this.get().members[roomId];
    if (!list) return;
    const next = change(list);
    // Kept as it was when nothing changed: the members panel then does not render again.
    if (next.length !== list.length || next.some((m, i) => m !== list[i])) this.set({ members: { ...this.get().members, [roomId]: next } });
  }

  private onRoomJoined(room: Room): void {
    if (this.get().rooms.some((r) => r.id === room.id)) return;
    const summary: RoomSummary = { ...room, unread: 0, mentions: 0, notifications: "all", lastReadMessageId: null };
    this.set({ rooms: [...this.get().rooms, summary] });
    // DMs need their peer: the list has it.
    if (room.kind === "dm") void this.refreshRooms().catch(() => {});
  }

  /** Renames a group room and/or sets its topic (its owner and admins; throws a RequestError when refused). */
  async updateRoom(roomId: string, settings: { name?: string; topic?: string }): Promise<void> {
    const { room } = await this.transport.request("room:update", { roomId, ...settings });
    this.onRoomUpdated(room);
  }

  /** The owner or an admin removes someone from a group room (throws a RequestError when refused; member:left updates the list). */
  async removeMember(roomId: string, userId: string, ban = false): Promise<void> {
    await this.transport.request("room:remove", { roomId, userId, ...(ban ? { ban } : {}) });
  }

  /** Who is banned from a room (its owner and admins may ask; throws a RequestError otherwise). */
  async bans(roomId: string): Promise<RoomBanEntry[]> {
    return (await this.transport.request("room:bans", { roomId })).bans;
  }

  /** Lifts a ban (throws a RequestError when refused). */
  async unban(roomId: string, userId: string): Promise<void> {
    await this.transport.request("room:unban", { roomId, userId });
  }

  /** The owner makes a member an admin, or a member again (throws a RequestError when refused). */
  async setRole(roomId: string, userId: string, role: "admin" | "member"): Promise<void> {
    await this.transport.request("room:role", { roomId, userId, role });
    this.onMemberRole(roomId, userId, role);
  }

  /** The owner or an admin mutes a member (read-only in the room) or lets them write again (throws a RequestError when refused). */
  async setMuted(roomId: string, userId: string, muted: boolean): Promise<void> {
    await this.transport.request("room:mute", { roomId, userId, muted });
    this.onMemberMuted(roomId, userId, muted);
  }

  /** Someone was muted or may write again: the members list says so, and my composer follows when it is me. */
  private onMemberMuted(roomId: string, userId: string, muted: boolean): void {
    this.updateMembers(roomId, (list) =>
      list.map((m) => {
        if (m.user.id !== userId || (m.muted === true) === muted) return m;
        const { muted: _was, ...rest } = m;
        return muted ? { ...rest, muted: true as const } : rest;
      }),
    );
    if (userId !== this.get().me.id) return;
    this.set({
      rooms: this.get().rooms.map((r) => {
        if (r.id !== roomId || (r.muted === true) === muted) return r;
        const { muted: _was, ...rest } = r;
        return muted ? { ...rest, muted: true as const } : rest;
      }),
    });
  }

  // ---- pins -------------------------------------------------------------------------

  /** Reads a room's pinned messages, newest pin first (throws a RequestError when refused). */
  async loadPins(roomId: string): Promise<void> {
    const { pins } = await this.transport.request("room:pins", { roomId });
    this.set({ pins: { ...this.get().pins, [roomId]: pins } });
  }

  /** Pins a message for everyone in the room (throws a RequestError when refused: muted, too many pins). */
  async pin(roomId: string, messageId: string): Promise<void> {
    await this.transport.request("message:pin", { roomId, messageId });
    // The event that follows says who and when; shown at once until then.
    const shown = this.get().timelines[roomId]?.items.find((m) => !m.status && m.id === messageId);
    if (shown && !shown.pinned) this.onPin(roomId, messageId, { by: { id: this.get().me.id, displayName: this.get().me.displayName }, at: new Date().toISOString() });
  }

  /** Unpins it (throws a RequestError when refused). */
  async unpin(roomId: string, messageId: string): Promise<void> {
    await this.transport.request("message:unpin", { roomId, messageId });
    this.onPin(roomId, messageId, null);
  }

  /** A message pinned (`pinned`) or unpinned (null): where it is shown, and in the room's Pinned list if that is loaded. */
  private onPin(roomId: string, messageId: string, pinned: Pin | null): void {
    const repin = <M extends Message>(m: M): M => {
      if (m.id !== messageId) return m;
      const { pinned: _was, ...rest } = m;
      return (pinned ? { ...rest, pinned } : rest) as M;
    };
    this.updateTimeline(roomId, (tl) => (tl.items.some((m) => !m.status && m.id === messageId) ? { ...tl, items: tl.items.map((m) => (m.status ? m : repin(m))) } : tl));
    const list = this.get().pins[roomId];
    if (!list) return;
    if (!pinned) {
      if (list.some((m) => m.id === messageId)) this.set({ pins: { ...this.get().pins, [roomId]: list.filter((m) => m.id !== messageId) } });
      return;
    }
    const shown = list.find((m) => m.id === messageId) ?? this.get().timelines[roomId]?.items.find((m) => !m.status && m.id === messageId);
    // A message this tab has not loaded: the list is read again.
    if (!shown) return void this.loadPins(roomId).catch(() => {});
    this.set({ pins: { ...this.get().pins, [roomId]: [repin(shown), ...list.filter((m) => m.id !== messageId)] } });
  }

  /** A room's new name or topic (a topic absent is cleared). */
  /**
   * Someone's name or picture changed: every place that shows them (names,
   * pictures, members, DM peers, me) shows them as they are now.
   */
  private onUserUpdated(user: User): void {
    const { me, members, rooms } = this.get();
    const forMembers = Object.fromEntries(
      Object.entries(members).map(([roomId, list]) => [roomId, list.some((m) => m.user.id === user.id) ? list.map((m) => (m.user.id === user.id ? { ...m, user } : m)) : list]),
    );
    this.set({
      ...this.learn([user]),
      members: forMembers,
      rooms: rooms.some((r) => r.peer?.id === user.id) ? rooms.map((r) => (r.peer?.id === user.id ? { ...r, peer: user } : r)) : rooms,
      ...(user.id === me.id ? { me: user } : {}),
    });
  }

  /** Changes my display name (throws a RequestError when refused); every tab and everyone who sees me is told. */
  async updateProfile(displayName: string): Promise<void> {
    const { user } = await this.transport.request("user:update", { displayName });
    this.onUserUpdated(user);
  }

  /**
   * Makes a picture mine: the square `crop` of it, in the upright picture's
   * pixels (none: its middle). Throws a RequestError when refused.
   */
  async setAvatar(file: Blob, crop: { x: number; y: number; size: number } | null): Promise<void> {
    const query = crop ? `?x=${Math.round(crop.x)}&y=${Math.round(crop.y)}&size=${Math.round(crop.size)}` : "";
    this.onUserUpdated(await this.profileRequest(`/api/me/avatar${query}`, { method: "PUT", headers: { "content-type": file.type || "application/octet-stream" }, body: file }));
  }

  /** Back to initials. */
  async clearAvatar(): Promise<void> {
    this.onUserUpdated(await this.profileRequest("/api/me/avatar", { method: "DELETE" }));
  }

  private async profileRequest(path: string, init: RequestInit): Promise<User> {
    const res = await this.http(path, init);
    const body = (await res.json().catch(() => null)) as { user?: User; error?: ErrorBody } | null;
    if (!res.ok || !body?.user) throw new RequestError(body?.error ?? { code: "internal", message: `the server answered ${res.status}` });
    return body.user;
  }

  private async loadBlocked(): Promise<void> {
    const { users } = await this.transport.request("user:blocks", {});
    this.set({ blocked: Object.fromEntries(users.map((u) => [u.id, true as const])), ...this.learn(users) });
  }

  private onBlocked(userId: string, blocked: boolean): void {
    const next = { ...this.get().blocked };
    if (blocked) next[userId] = true;
    else delete next[userId];
    this.set({ blocked: next });
  }

  /** Blocks someone, or stops (throws a RequestError when refused); every tab of mine follows. */
  async setBlocked(userId: string, blocked: boolean): Promise<void> {
    await this.transport.request("user:block", { userId, blocked });
    this.onBlocked(userId, blocked);
  }

  /** Archives a group room (read-only for everyone) or brings it back: its owner and admins. */
  async archiveRoom(roomId: string, archived: boolean): Promise<void> {
    const { room } = await this.transport.request("room:archive", { roomId, archived });
    this.onRoomUpdated(room);
  }

  /** One person as a card shows them, and whether they are online. */
  async getUser(userId: string): Promise<{ user: User; online: boolean }> {
    const found = await this.transport.request("user:get", { userId });
    this.set({ ...this.learn([found.user]), online: { ...this.get().online, [userId]: found.online } });
    return found;
  }

  private onRoomUpdated(room: Room): void {
    this.set({
      rooms: this.get().rooms.map((r) => {
        if (r.id !== room.id || (r.name === room.name && r.topic === room.topic && r.archived === room.archived)) return r;
        // Fields the room no longer has (a cleared topic, no longer archived) go.
        const { topic: _topic, archived: _archived, ...rest } = r;
        return { ...rest, ...room };
      }),
    });
  }

  private onMemberRole(roomId: string, userId: string, role: Member["role"]): void {
    this.updateMembers(roomId, (list) => list.map((m) => (m.user.id === userId && m.role !== role ? { ...m, role } : m)));
  }

  /** Hides a DM from my list until a newer message arrives or I open it again (all my tabs follow). */
  /** The owner deletes a group room (throws a RequestError when refused); every member's tabs drop it. */
  async deleteRoom(roomId: string): Promise<void> {
    await this.transport.request("room:delete", { roomId });
    this.onRoomLeft(roomId);
  }

  async hideDm(roomId: string): Promise<void> {
    await this.transport.request("dm:hide", { roomId });
    this.dropRoom(roomId);
  }

  private onRoomLeft(roomId: string): void {
    this.dropRoom(roomId);
    this.set({ followed: Object.fromEntries(Object.entries(this.get().followed).filter(([, t]) => t.root.roomId !== roomId)) });
  }

  /** A room off the list (left, or a DM hidden): its timeline goes, and another room opens if it was the open one. */
  private dropRoom(roomId: string): void {
    if (!this.get().rooms.some((r) => r.id === roomId)) return;
    if (this.get().openThread?.roomId === roomId) this.closeThread();
    const rooms = this.get().rooms.filter((r) => r.id !== roomId);
    const { [roomId]: _gone, ...timelines } = this.get().timelines;
    this.set({ rooms, timelines });
    if (this.get().activeRoomId === roomId) {
      const next = rooms[0];
      if (next) this.openRoom(next.id);
      else this.set({ activeRoomId: null });
    }
  }

  // ---- messages -----------------------------------------------------------------

  /** Loads the page before the oldest message shown (or the newest page). */
  async loadOlder(roomId: string): Promise<void> {
    const tl = this.get().timelines[roomId];
    if (tl?.loading || (tl && !tl.hasMore)) return;
    const oldest = oldestStored(tl);
    this.setTimeline(roomId, { ...(tl ?? EMPTY_TIMELINE), loading: true });
    try {
      const page = await this.transport.request("message:history", { roomId, limit: PAGE, ...(oldest ? { before: oldest.id } : {}) });
      this.merge(roomId, page.messages, { hasMore: page.hasMore }, page.events);
    } finally {
      this.updateTimeline(roomId, (now) => ({ ...now, loading: false }));
    }
  }

  /** After a reconnect: fetch newer pages until they meet what was shown (`shownId`, the newest stored message then). */
  private async catchUp(roomId: string, shownId: string | undefined): Promise<void> {
    // A timeline in the past has nothing to catch up: reading forward reaches the present.
    if (this.get().timelines[roomId]?.hasNewer) return;
    if (!shownId) return this.loadOlder(roomId);
    const missed = await fetchMissed(
      shownId,
      (before) => this.transport.request("message:history", { roomId, limit: PAGE, ...(before ? { before } : {}) }),
      MAX_CATCH_UP_PAGES,
    );
    if (missed.complete) this.merge(roomId, missed.messages, {}, missed.events);
    // Too much was missed to stitch: start the room afresh at its newest messages.
    else this.setTimeline(roomId, restartAt(this.get().timelines[roomId], missed.messages, missed.events));
  }

  /**
   * Opens a room at a message (a search result, a link): the messages around
   * it, it in view and highlighted (`quiet`: not highlighted). Throws a RequestError when it cannot be
   * read (the room is left as it was).
   */
  async jumpTo(roomId: string, messageId: string, options: { quiet?: boolean } = {}): Promise<void> {
    const page = await this.transport.request("message:around", { roomId, messageId, limit: PAGE });
    const unsent = unsentMessages(this.get().timelines[roomId]);
    const opening = this.get().activeRoomId !== roomId;
    this.set({ activeRoomId: roomId, ...(opening ? { unreadFrom: { ...this.get().unreadFrom, [roomId]: this.readMarkOf(roomId) } } : {}) });
    this.page.showRoom(roomId, messageId);
    this.setTimeline(roomId, { items: [...page.messages, ...unsent], hasMore: page.hasMore, hasNewer: page.hasNewer, loading: false, focus: { messageId, at: Date.now(), ...options }, events: page.events });
    void this.loadMembers(roomId);
  }

  /** Reads forward in a timeline opened in the past, a page at a time, until it reaches the present. */
  async loadNewer(roomId: string): Promise<void> {
    const tl = this.get().timelines[roomId];
    const newest = newestStored(tl);
    if (!tl?.hasNewer || tl.loading || !newest) return;
    this.setTimeline(roomId, { ...tl, loading: true });
    try {
      const page = await this.transport.request("message:newer", { roomId, after: newest.id, limit: PAGE });
      this.merge(roomId, page.messages, { hasNewer: page.hasNewer }, page.events);
    } finally {
      this.updateTimeline(roomId, (now) => ({ ...now, loading: false }));
    }
  }

  /** Back to the newest messages from wherever the timeline is. */
  async jumpToPresent(roomId: string): Promise<void> {
    const page = await this.transport.request("message:history", { roomId, limit: PAGE });
    this.page.showRoom(roomId);
    this.setTimeline(roomId, { ...restartAt(this.get().timelines[roomId], page.messages, page.events), hasMore: page.hasMore });
  }

  /** Full-text search over every message I may read (throws a RequestError when refused). */
  async search(input: MessageSearchInput): Promise<{ hits: SearchHit[]; terms: string[]; nextCursor?: string }> {
    const found = await this.transport.request("message:search", input);
    this.set(this.learn(found.hits.map((hit) => hit.message.author)));
    return found;
  }

  /**
   * Sends a message with the files uploaded for it (those still uploading or
   * refused stay behind); the files leave the tray.
   */
  send(roomId: string, body: string): void {
    // Writing while reading the past: the message goes where it will be, at the present.
    if (this.get().timelines[roomId]?.hasNewer) void this.jumpToPresent(roomId).catch(() => {});
    const uploads = this.get().uploads[roomId] ?? [];
    const files = uploads.flatMap((u) => (u.status === "done" && u.attachment ? [u.attachment] : []));
    const pending = this.outbox.compose(roomId, body, this.get().me, files);
    this.setTimeline(roomId, appendUnsent(this.get().timelines[roomId], pending));
    if (files.length > 0) this.set({ uploads: { ...this.get().uploads, [roomId]: uploads.filter((u) => u.status !== "done") } });
    this.setTyping(roomId, false);
  }

  /**
   * Starts uploading files for the next message in a room (from the button,
   * a drop or a paste); each shows its progress, and one the server would
   * refuse (too large, a type it does not take) says so without being sent.
   */
  attach(roomId: string, files: File[]): void {
    for (const file of files) {
      const key = `upload-${++this.uploadCount}`;
      this.setUploads(roomId, (list) => [...list, { key, name: file.name || "file", size: file.size, progress: 0, status: "uploading" }]);
      void this.upload(roomId, key, file);
    }
  }

  private async upload(roomId: string, key: string, file: File): Promise<void> {
    const update = (patch: Partial<Upload>) => this.setUploads(roomId, (list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));
    try {
      const limits = await this.uploadLimits().catch(() => null);
      if (limits && file.size > limits.maxBytes) throw new Error(`Files may be at most ${fileSize(limits.maxBytes)}.`);
      if (limits && !typeAllowed(file.type, limits.allowedTypes)) throw new Error(`Files of this type are not accepted here.`);
      if (!this.get().uploads[roomId]?.some((u) => u.key === key)) return; // cancelled meanwhile
      const task = this.uploader(roomId, file, (progress) => update({ progress }));
      this.cancels.set(key, task.abort);
      const attachment = await task.done;
      update({ status: "done", progress: 1, attachment });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      update({ status: "failed", error: uploadErrorText(err) });
    } finally {
      this.cancels.delete(key);
    }
  }

  /** Takes a file out of the next message: stops its upload if it is still going. */
  removeUpload(roomId: string, key: string): void {
    this.cancels.get(key)?.();
    this.setUploads(roomId, (list) => list.filter((u) => u.key !== key));
  }

  private setUploads(roomId: string, change: (list: Upload[]) => Upload[]): void {
    const uploads = this.get().uploads;
    this.set({ uploads: { ...uploads, [roomId]: change(uploads[roomId] ?? []) } });
  }

  retry(roomId: string, clientMsgId: string): void {
    const failed = findUnsent(this.get().timelines[roomId], clientMsgId);
    if (failed?.status !== "failed") return;
    this.updateTimeline(roomId, (tl) => updateUnsent(tl, clientMsgId, { status: "pending", error: undefined }));
    this.outbox.deliver({ ...failed, status: "pending" });
  }

  discard(roomId: string, clientMsgId: string): void {
    this.updateTimeline(roomId, (tl) => removeUnsent(tl, clientMsgId));
  }

  /** Opens the editor on one of my messages. */
  startEditing(roomId: string, messageId: string): void {
    this.set({ editing: { roomId, messageId } });
  }

  stopEditing(): void {
    this.set({ editing: null });
  }

  /** Up-arrow in an empty composer: edits my newest message there; false if there is none. */
  editLast(roomId: string): boolean {
    const { me, timelines } = this.get();
    const mine = timelines[roomId]?.items.findLast((m) => !m.status && !m.deletedAt && m.authorId === me.id);
    if (mine) this.startEditing(roomId, mine.id);
    return mine !== undefined;
  }

  /** Saves an edit (throws a RequestError when refused: the editor says why). */
  async edit(roomId: string, messageId: string, body: string): Promise<void> {
    const { message } = await this.transport.request("message:edit", { roomId, messageId, body });
    this.changed(message);
    if (this.get().editing?.messageId === messageId) this.stopEditing();
  }

  /** Deletes a message (mine, or anyone's in a room I own); shown as deleted at once. */
  async deleteMessage(roomId: string, messageId: string): Promise<void> {
    await this.transport.request("message:delete", { roomId, messageId });
    const shown = this.get().timelines[roomId]?.items.find((m) => m.id === messageId);
    if (shown && !shown.deletedAt) this.changed({ ...shown, body: "", deletedAt: new Date().toISOString() });
  }

  /**
   * Toggles my reaction on a message: takes it back if I have it, adds it
   * otherwise (throws a RequestError when refused). Shown at once from the
   * answer; the event that follows changes nothing more.
   */
  async react(roomId: string, messageId: string, emoji: string): Promise<void> {
    const { me, timelines } = this.get();
    const message = timelines[roomId]?.items.find((m) => !m.status && m.id === messageId);
    const mine = message?.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(me.id)) ?? false;
    await this.transport.request(mine ? "reaction:remove" : "reaction:add", { roomId, messageId, emoji });
    this.onReaction({ roomId, messageId, emoji, userId: me.id }, !mine);
  }

  private changed(message: Message): void {
    const myId = this.get().me.id;
    this.updateTimeline(message.roomId, (tl) => changeMessage(tl, message, myId));
    // The Pinned list shows the edit; a deleted message is unpinned.
    const pins = this.get().pins[message.roomId];
    if (pins?.some((m) => m.id === message.id)) {
      const next = message.deletedAt ? pins.filter((m) => m.id !== message.id) : pins.map((m) => (m.id === message.id ? changedMessage(m, message) : m));
      this.set({ pins: { ...this.get().pins, [message.roomId]: next } });
    }
    const followed = this.get().followed[message.id];
    if (followed) this.setFollowed({ ...followed, root: changedMessage(followed.root, message) });
    // A reply, or a thread's first message, changes in the thread too.
    const threadId = message.threadId ?? message.id;
    const view = this.get().threads[threadId];
    if (!view) return;
    if (message.threadId) this.setThread(threadId, { ...view, replies: changeMessage(view.replies, message, myId) });
    else this.setThread(threadId, { ...view, root: changedMessage(view.root, message) });
  }

  /** A reaction changed on a message that may also be shown in a thread. */
  private onReaction(change: ReactionEvent, added: boolean): void {
    this.updateTimeline(change.roomId, (tl) => applyReaction(tl, change, added));
    for (const [rootId, view] of Object.entries(this.get().threads)) {
      if (view.root.roomId !== change.roomId) continue;
      const replies = applyReaction(view.replies, change, added);
      const root = view.root.id === change.messageId ? applyReaction({ ...EMPTY_TIMELINE, items: [view.root] }, change, added).items[0]! : view.root;
      if (replies !== view.replies || root !== view.root) this.setThread(rootId, { ...view, root, replies });
    }
  }

  private onMessage(message: Message): void {
    // A message in a DM I hid brings it back to the list (one reading of the list for a burst of them).
    if (!this.get().rooms.some((r) => r.id === message.roomId)) {
      this.listing ??= this.refreshRooms()
        .catch(() => {})
        .finally(() => (this.listing = null));
    }
    const { me, activeRoomId, timelines, typing } = this.get();
    const tl = timelines[message.roomId];
    const known = tl?.items.some((m) => m.id === message.id);
    // A reply belongs to its thread; the room shows it only if it was also sent there.
    const inRoom = !message.threadId || message.alsoInRoom === true;
    const newReply = message.threadId !== undefined && this.addReply(message);
    // A message delivered again (a resend) keeps the reactions it has here; a
    // timeline showing the past does not take new ones (reading forward will).
    if (known) this.changed(message);
    else if (inRoom && tl && !tl.hasNewer) this.merge(message.roomId, [message]);
    if (known || (message.threadId && !newReply) || message.authorId === me.id) return;
    const seen = message.roomId === activeRoomId && this.page.visible();
    const typists = typing[message.roomId];
    const { rooms } = this.get();
    const mentioned = mentionsMe(message, me);
    this.set({
      ...this.learn([message.author]),
      rooms: seen
        ? rooms
        : rooms.map((r) =>
            r.id === message.roomId ? { ...r, unread: r.unread + (inRoom ? 1 : 0), mentions: r.mentions + (mentioned ? 1 : 0) } : r,
          ),
      typing: typists?.[message.authorId] ? { ...typing, [message.roomId]: without(typists, message.authorId) } : typing,
    });
    const room = rooms.find((r) => r.id === message.roomId);
    // Everything in the room, or only what mentions me (replies in threads I take part in come as thread:reply).
    const wanted = room?.notifications === "all" ? inRoom || mentioned : room?.notifications === "mentions" && mentioned;
    if (wanted) this.notifyOf(message);
  }

  /** Message ids notified of lately: a reply that mentions me comes both as message:new and thread:reply. */
  private readonly notified = new Set<string>();

  /** Shows a notification of a message, once, while the tab is hidden; clicking it opens the message. */
  private notifyOf(message: Message): void {
    const room = this.get().rooms.find((r) => r.id === message.roomId);
    // Nobody is notified of what someone they block says.
    if (!room || this.page.visible() || this.notified.has(message.id) || this.get().blocked[message.authorId]) return;
    this.notified.add(message.id);
    if (this.notified.size > 200) this.notified.delete(this.notified.values().next().value!);
    this.page.notify(
      {
        title: room.kind === "dm" ? message.author.displayName : `${message.author.displayName} in #${room.name}`,
        body: clip(summary(message), 200),
        tag: message.roomId,
      },
      () => void this.openMessage(message).catch(() => this.openRoom(message.roomId)),
    );
  }

  /** Opens a room at a message; a reply that lives in its thread opens at the thread's first message, the thread beside it. */
  async openMessage(message: Pick<Message, "roomId" | "id" | "threadId" | "alsoInRoom">): Promise<void> {
    const { roomId, id, threadId, alsoInRoom } = message;
    await this.jumpTo(roomId, threadId && !alsoInRoom ? threadId : id);
    if (threadId) await this.openThread(roomId, threadId);
  }

  // ---- threads ---------------------------------------------------------------------

  /** Shows a thread beside its room, loading its first message and latest replies. */
  async openThread(roomId: string, rootId: string): Promise<void> {
    this.set({ openThread: { roomId, rootId } });
    if (this.get().threads[rootId]) return;
    try {
      const page = await this.transport.request("message:thread", { roomId, threadId: rootId, limit: PAGE });
      this.setThread(rootId, { root: page.root, replies: mergeMessages(undefined, page.replies, this.get().me.id, { hasMore: page.hasMore }) });
    } catch (err) {
      const shown = this.get().timelines[roomId]?.items.find((m) => m.id === rootId);
      if (shown) this.setThread(rootId, { root: shown, replies: { ...EMPTY_TIMELINE, hasMore: false }, error: errorText(err) });
    }
  }

  closeThread(): void {
    this.set({ openThread: null });
  }

  /** Loads the page of replies before the oldest shown. */
  async loadOlderReplies(rootId: string): Promise<void> {
    const view = this.get().threads[rootId];
    if (!view || view.replies.loading || !view.replies.hasMore) return;
    const oldest = oldestStored(view.replies);
    this.setThread(rootId, { ...view, replies: { ...view.replies, loading: true } });
    try {
      const page = await this.transport.request("message:thread", {
        roomId: view.root.roomId,
        threadId: rootId,
        limit: PAGE,
        ...(oldest ? { before: oldest.id } : {}),
      });
      const now = this.get().threads[rootId]!;
      this.setThread(rootId, { ...now, replies: mergeMessages(now.replies, page.replies, this.get().me.id, { hasMore: page.hasMore }) });
    } finally {
      const now = this.get().threads[rootId];
      if (now) this.setThread(rootId, { ...now, replies: { ...now.replies, loading: false } });
    }
  }

  /** Replies in a thread (throws a RequestError when refused: the thread's composer says why). */
  async reply(roomId: string, rootId: string, body: string, alsoToRoom: boolean): Promise<void> {
    const { message } = await this.transport.request("message:send", {
      roomId,
      body,
      threadId: rootId,
      clientMsgId: newClientMsgId(),
      ...(alsoToRoom ? { alsoToRoom } : {}),
    });
    this.addReply(message);
    const tl = this.get().timelines[roomId];
    if (alsoToRoom && tl && !tl.hasNewer) this.merge(roomId, [message]);
    // My reply reads the thread up to it; a thread I just began to follow is listed afresh.
    const followed = this.get().followed[rootId];
    if (followed) this.setFollowed({ ...followed, root: withReply(followed.root, message), unread: 0, lastReadMessageId: message.id });
    else void this.loadFollowed().catch(() => {});
  }

  // ---- threads I take part in ------------------------------------------------------

  /** Reads the latest threads I take part in, with their unread replies (on connect, and when one is new here). */
  async loadFollowed(): Promise<void> {
    const { threads } = await this.transport.request("thread:list", { limit: FOLLOWED_PAGE });
    this.set({ followed: Object.fromEntries(threads.map((t) => [t.root.id, t])) });
  }

  /** A reply by someone else in a thread I take part in: counted unread, and notified as the room's level says. */
  private onFollowedReply(reply: Message): void {
    const followed = this.get().followed[reply.threadId!];
    if (!followed) void this.loadFollowed().catch(() => {});
    else if (compareIds(reply.id, followed.lastReadMessageId ?? "0") > 0) {
      this.setFollowed({ ...followed, root: withReply(followed.root, reply), unread: followed.unread + 1 });
    }
    const room = this.get().rooms.find((r) => r.id === reply.roomId);
    if (room?.notifications === "all") this.notifyOf(reply);
  }

  /** Marks a thread I take part in read up to its newest reply shown (when it is shown with unread replies). */
  markThreadRead(rootId: string): void {
    const followed = this.get().followed[rootId];
    const newest = newestStored(this.get().threads[rootId]?.replies);
    if (!followed || followed.unread === 0 || !newest || !this.page.visible()) return;
    this.onThreadRead(rootId, newest.id);
    this.transport.request("thread:read", { roomId: followed.root.roomId, threadId: rootId, messageId: newest.id }).catch(() => {});
  }

  private onThreadRead(rootId: string, messageId: string): void {
    const followed = this.get().followed[rootId];
    if (!followed || compareIds(messageId, followed.lastReadMessageId ?? "0") <= 0) return;
    this.setFollowed({ ...followed, unread: 0, lastReadMessageId: messageId });
  }

  private setFollowed(thread: FollowedThread): void {
    this.set({ followed: { ...this.get().followed, [thread.root.id]: thread } });
  }

  /**
   * A reply, from its ack or its event (whichever comes first): into its
   * thread's list if that is loaded, and counted on its first message.
   * Returns whether it was new here.
   */
  private addReply(reply: Message): boolean {
    const rootId = reply.threadId!;
    const view = this.get().threads[rootId];
    if (view?.replies.items.some((m) => m.id === reply.id)) return false;
    if (view) this.setThread(rootId, { ...view, root: withReply(view.root, reply), replies: mergeMessages(view.replies, [reply], this.get().me.id) });
    this.updateTimeline(reply.roomId, (tl) => countReply(tl, reply));
    return true;
  }

  private setThread(rootId: string, view: ThreadView): void {
    this.set({ threads: { ...this.get().threads, [rootId]: view } });
  }

  /** What I am notified of in a room (all my tabs follow). */
  async setNotifications(roomId: string, level: NotifyLevel): Promise<void> {
    await this.transport.request("room:notifications", { roomId, level });
    this.onNotifications(roomId, level);
  }

  private onNotifications(roomId: string, level: NotifyLevel): void {
    this.set({ rooms: this.get().rooms.map((r) => (r.id === roomId && r.notifications !== level ? { ...r, notifications: level } : r)) });
  }

  /** Adds stored messages (and membership lines) to a room's timeline (timeline.ts) and learns their authors' names. */
  private merge(roomId: string, messages: Message[], patch: Partial<Timeline> = {}, events: RoomEvent[] = []): void {
    const { me, timelines } = this.get();
    this.set({ ...this.learn(messages.map((m) => m.author)), timelines: { ...timelines, [roomId]: mergeMessages(timelines[roomId], messages, me.id, patch, events) } });
  }

  /** The state's names and pictures with these people's (the latest seen wins). */
  private learn(people: Array<{ id: string; displayName: string; avatar?: string }>): Pick<ChatState, "names" | "avatars"> {
    const names = { ...this.get().names };
    const avatars = { ...this.get().avatars };
    for (const p of people) {
      names[p.id] = p.displayName;
      avatars[p.id] = p.avatar ?? null;
    }
    return { names, avatars };
  }

  private setTimeline(roomId: string, timeline: Timeline): void {
    this.set({ timelines: { ...this.get().timelines, [roomId]: timeline } });
  }

  /** Changes a room's timeline, if it is loaded. */
  private updateTimeline(roomId: string, change: (tl: Timeline) => Timeline): void {
    const tl = this.get().timelines[roomId];
    if (tl) this.setTimeline(roomId, change(tl));
  }

  // ---- read state -----------------------------------------------------------------

  /** Marks the room read up to its newest stored message (all tabs follow). */
  markRead(roomId: string): void {
    const room = this.get().rooms.find((r) => r.id === roomId);
    const newest = newestStored(this.get().timelines[roomId]);
    if (!room || !newest) return;
    if (room.unread === 0 && room.lastReadMessageId && compareIds(room.lastReadMessageId, newest.id) >= 0) return;
    this.onRead(roomId, newest.id);
    this.transport.request("room:read", { roomId, messageId: newest.id }).catch(() => {});
  }

  private onRead(roomId: string, messageId: string): void {
    const tl = this.get().timelines[roomId];
    const newest = newestStored(tl);
    const caughtUp = !tl?.hasNewer && (!newest || compareIds(messageId, newest.id) >= 0);
    this.set({
      rooms: this.get().rooms.map((r) =>
        r.id === roomId
          ? {
              ...r,
              lastReadMessageId: r.lastReadMessageId && compareIds(r.lastReadMessageId, messageId) > 0 ? r.lastReadMessageId : messageId,
              unread: caughtUp ? 0 : r.unread,
              mentions: caughtUp ? 0 : r.mentions,
            }
          : r,
      ),
    });
    if (!caughtUp) void this.refreshRooms().catch(() => {});
  }

  // ---- typing -----------------------------------------------------------------------

  /** Call on every keystroke (true) and when the draft is sent or cleared (false). */
  setTyping(roomId: string, typing: boolean): void {
    const now = Date.now();
    if (typing) {
      if (this.typingSent?.roomId === roomId && now - this.typingSent.at < 3000) return;
      this.typingSent = { roomId, at: now };
    } else {
      if (this.typingSent?.roomId !== roomId) return;
      this.typingSent = null;
    }
    this.transport.typing(roomId, typing);
  }

  private onTyping(roomId: string, userId: string, typing: boolean): void {
    if (userId === this.get().me.id) return;
    const all = this.get().typing;
    const room = all[roomId] ?? {};
    this.set({ typing: { ...all, [roomId]: typing ? { ...room, [userId]: Date.now() + TYPING_TTL_MS } : without(room, userId) } });
  }

  private expireTyping(): void {
    const now = Date.now();
    let changed = false;
    const next: ChatState["typing"] = {};
    for (const [roomId, users] of Object.entries(this.get().typing)) {
      const kept = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now));
      if (Object.keys(kept).length !== Object.keys(users).length) changed = true;
      next[roomId] = kept;
    }
    if (changed) this.set({ typing: next });
  }
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}
