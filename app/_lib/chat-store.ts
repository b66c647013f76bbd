/**
 * The web UI's state and its one Socket.IO connection. Components read
 * snapshots through `useChat` (useSyncExternalStore) and call the methods
 * below; only this file talks to the socket, using the shared contract types.
 *
 * What it guarantees the person chatting:
 * - a sent message shows at once as pending (with a `clientMsgId`), becomes
 *   the stored message on its ack, is re-sent after a reconnect (the server
 *   deduplicates by `clientMsgId`), and shows a retry action if it failed;
 * - after a reconnect, every room on screen catches up from history, merged
 *   by message id: no gaps, no duplicates, order kept;
 * - every tab stays in step through the server's per-user events;
 * - a connection the server refuses for a while (database down, too many
 *   connections, rate limited) is tried again with backoff until it works.
 */
import { io, type Socket } from "socket.io-client";
import type { ErrorBody } from "../../shared/errors";
import type {
  Ack,
  ClientToServerEvents,
  Member,
  Message,
  PublicRoom,
  Room,
  RoomSummary,
  ServerToClientEvents,
  User,
} from "../../shared/protocol";
import { connectFailure, retryDelay } from "./reconnect";
import type { SessionEnd } from "./session-notice";

export type ConnectionStatus = "connecting" | "online" | "reconnecting";

export interface TimelineMessage extends Message {
  /** Absent once stored; "pending" while unacknowledged; "failed" with a retry action. */
  status?: "pending" | "failed";
  error?: string;
}

export interface Timeline {
  items: TimelineMessage[];
  hasMore: boolean;
  loading: boolean;
}

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
}

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends
  | ((res: Ack<infer T>) => void)
  | undefined
  ? T
  : never;

export class RequestError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}

const PAGE = 50;
const TYPING_TTL_MS = 6000;
/** How far back a reconnect catches up before it starts the room afresh at its newest page. */
const MAX_CATCH_UP_PAGES = 10;
/** The most members the members panel loads for one room. */
const MAX_MEMBERS_LOADED = 1000;

/** Compares message ids (decimal strings of any length). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function newClientMsgId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly socket: ChatSocket;
  private connectedOnce = false;
  private typingTimer: ReturnType<typeof setInterval> | undefined;
  /** Attempts refused (or closed by the server) since the last successful connect: the backoff's exponent. */
  private refusedAttempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `onSessionEnded` runs once the session is over (the connection is closed
   * by then): with the server's reason after `session:ended`, or
   * `unauthorized` when a reconnect was refused; only a new sign-in helps.
   */
  constructor(me: User, options: { onSessionEnded: (reason: SessionEnd) => void }) {
    this.state = {
      me,
      status: "connecting",
      rooms: [],
      activeRoomId: null,
      timelines: {},
      members: {},
      online: { [me.id]: true },
      typing: {},
      names: { [me.id]: me.displayName },
    };
    // Same-origin: the HttpOnly cookie authenticates. Polling first, then an
    // upgrade to WebSocket where the network allows it. Reconnects back off
    // from 1 s to 10 s with ±50% jitter so a restart does not bring every
    // client back at the same instant.
    this.socket = io({
      withCredentials: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
    });
    this.socket.on("connect", () => {
      this.refusedAttempts = 0;
      void this.onConnect();
    });
    this.socket.on("disconnect", (reason) => {
      this.set({ status: "reconnecting" });
      // The server closed us on purpose (e.g. shutting down): socket.io-client
      // does not come back by itself then, so try again, with the same backoff
      // as after a refusal in case the server keeps closing us.
      if (reason === "io server disconnect") this.retryLater();
    });
    this.socket.on("connect_error", (err) => {
      const failure = connectFailure(err as Error & { data?: unknown }, this.socket.active);
      if (failure.action === "sign-in") {
        this.close();
        options.onSessionEnded("unauthorized");
        return;
      }
      this.set({ status: "reconnecting" });
      if (failure.action === "retry") this.retryLater(failure.retryAfterSeconds);
    });
    // Signed out elsewhere, password changed or token expired: the server closes
    // the connection next, and only a new sign-in brings it back.
    this.socket.on("session:ended", ({ reason }) => {
      this.close();
      options.onSessionEnded(reason);
    });
    this.socket.on("message:new", (m) => this.onMessage(m));
    this.socket.on("room:joined", (room) => this.onRoomJoined(room));
    this.socket.on("room:left", ({ roomId }) => this.onRoomLeft(roomId));
    this.socket.on("room:read", ({ roomId, messageId }) => this.onRead(roomId, messageId));
    this.socket.on("presence", ({ userId, online }) => this.set({ online: { ...this.state.online, [userId]: online } }));
    this.socket.on("typing", ({ roomId, userId, typing }) => this.onTyping(roomId, userId, typing));
    this.typingTimer = setInterval(() => this.expireTyping(), 1000);
  }

  // ---- store plumbing -------------------------------------------------------

  getState = (): ChatState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  close(): void {
    clearInterval(this.typingTimer);
    clearTimeout(this.retryTimer);
    this.socket.close();
  }

  /** Connects again after the backoff (see reconnect.ts); the status stays "reconnecting" meanwhile. */
  private retryLater(retryAfterSeconds?: number): void {
    clearTimeout(this.retryTimer);
    const delay = retryDelay(this.refusedAttempts++, retryAfterSeconds);
    this.retryTimer = setTimeout(() => this.socket.connect(), delay);
  }

  private async request<E extends keyof ClientToServerEvents>(event: E, payload: Payload<E>): Promise<AckOf<E>> {
    // The typed emitWithAck cannot express "ack with a timeout" generically; the shapes come from the contract.
    const withTimeout = this.socket.timeout(15_000) as unknown as {
      emitWithAck(event: E, payload: Payload<E>): Promise<Ack<object>>;
    };
    const res = await withTimeout.emitWithAck(event, payload);
    if (!res.ok) throw new RequestError(res.error);
    return res as unknown as AckOf<E>;
  }

  // ---- connection -------------------------------------------------------------

  private async onConnect(): Promise<void> {
    const first = !this.connectedOnce;
    this.connectedOnce = true;
    this.set({ status: "online" });
    try {
      await this.refreshRooms();
      if (!first) {
        // Catch up every room we have on screen, then resend what was pending.
        await Promise.all(Object.keys(this.state.timelines).map((id) => this.catchUp(id)));
      }
      this.resendPending();
      if (this.state.activeRoomId) void this.loadMembers(this.state.activeRoomId);
    } catch {
      // A failed request here shows as missing data; the next reconnect retries.
    }
  }

  private async refreshRooms(): Promise<void> {
    // The list comes in pages; the sidebar shows every room.
    const rooms: RoomSummary[] = [];
    let after: string | undefined;
    do {
      const page = await this.request("room:list", { limit: 500, ...(after ? { after } : {}) });
      rooms.push(...page.rooms);
      after = page.nextCursor;
    } while (after);
    const names = { ...this.state.names };
    for (const r of rooms) if (r.peer) names[r.peer.id] = r.peer.displayName;
    this.set({ rooms, names });
    const peers = rooms.flatMap((r) => (r.peer ? [r.peer.id] : []));
    if (peers.length > 0) {
      const { online } = await this.request("presence:query", { userIds: peers.slice(0, 500) });
      const next = { ...this.state.online };
      for (const id of peers) next[id] = online.includes(id);
      this.set({ online: next });
    }
    const active = this.state.activeRoomId;
    if (!active || !rooms.some((r) => r.id === active)) {
      const fromHash = typeof location !== "undefined" ? decodeURIComponent(location.hash.replace(/^#room=/, "")) : "";
      const pick = rooms.find((r) => r.id === fromHash) ?? rooms[0];
      if (pick) this.openRoom(pick.id);
      else this.set({ activeRoomId: null });
    }
  }

  // ---- rooms --------------------------------------------------------------------

  openRoom(roomId: string): void {
    this.set({ activeRoomId: roomId });
    if (typeof history !== "undefined") history.replaceState(null, "", `#room=${encodeURIComponent(roomId)}`);
    if (!this.state.timelines[roomId]) void this.loadOlder(roomId);
    void this.loadMembers(roomId);
  }

  async createRoom(name: string, visibility: "public" | "private", memberIds: string[]): Promise<Room> {
    const { room } = await this.request("room:create", { name, visibility, memberIds });
    this.onRoomJoined(room);
    this.openRoom(room.id);
    return room;
  }

  async joinRoom(roomId: string): Promise<void> {
    const { room } = await this.request("room:join", { roomId });
    this.onRoomJoined(room);
    this.openRoom(room.id);
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.request("room:leave", { roomId });
    this.onRoomLeft(roomId);
  }

  async inviteToRoom(roomId: string, userIds: string[]): Promise<void> {
    await this.request("room:invite", { roomId, userIds });
    void this.loadMembers(roomId);
  }

  async openDm(user: User): Promise<void> {
    this.set({ names: { ...this.state.names, [user.id]: user.displayName } });
    const { room } = await this.request("dm:open", { userId: user.id });
    if (!this.state.rooms.some((r) => r.id === room.id)) await this.refreshRooms();
    this.openRoom(room.id);
  }

  browseRooms(query: string): Promise<PublicRoom[]> {
    return this.request("room:browse", { query }).then((r) => r.rooms);
  }

  async searchUsers(query: string): Promise<User[]> {
    const { users } = await this.request("user:search", { query });
    return users;
  }

  private async loadMembers(roomId: string): Promise<void> {
    try {
      // Pages of members, up to a panel's worth: a room of thousands is not listed in full.
      const members: Member[] = [];
      let after: string | undefined;
      do {
        const page = await this.request("room:members", { roomId, limit: 500, ...(after ? { after } : {}) });
        members.push(...page.members);
        after = page.nextCursor;
      } while (after && members.length < MAX_MEMBERS_LOADED);
      const online = { ...this.state.online };
      const names = { ...this.state.names };
      for (const m of members) {
        online[m.user.id] = m.online;
        names[m.user.id] = m.user.displayName;
      }
      this.set({ members: { ...this.state.members, [roomId]: members }, online, names });
    } catch {
      // Not readable (left meanwhile): nothing to show.
    }
  }

  private onRoomJoined(room: Room): void {
    if (this.state.rooms.some((r) => r.id === room.id)) return;
    const summary: RoomSummary = { ...room, unread: 0, lastReadMessageId: null };
    this.set({ rooms: [...this.state.rooms, summary] });
    // DMs need their peer: the list has it.
    if (room.kind === "dm") void this.refreshRooms().catch(() => {});
  }

  private onRoomLeft(roomId: string): void {
    const rooms = this.state.rooms.filter((r) => r.id !== roomId);
    const { [roomId]: _gone, ...timelines } = this.state.timelines;
    this.set({ rooms, timelines });
    if (this.state.activeRoomId === roomId) {
      const next = rooms[0];
      if (next) this.openRoom(next.id);
      else this.set({ activeRoomId: null });
    }
  }

  // ---- messages -----------------------------------------------------------------

  /** Loads the page before the oldest message shown (or the newest page). */
  async loadOlder(roomId: string): Promise<void> {
    const tl = this.state.timelines[roomId];
    if (tl?.loading || (tl && !tl.hasMore)) return;
    const oldest = tl?.items.find((m) => !m.status);
    this.setTimeline(roomId, { items: tl?.items ?? [], hasMore: tl?.hasMore ?? true, loading: true });
    try {
      const page = await this.request("message:history", {
        roomId,
        limit: PAGE,
        ...(oldest ? { before: oldest.id } : {}),
      });
      this.merge(roomId, page.messages, { hasMore: page.hasMore });
    } finally {
      const now = this.state.timelines[roomId];
      if (now) this.setTimeline(roomId, { ...now, loading: false });
    }
  }

  /** After a reconnect: fetch newer pages until they meet what is shown. */
  private async catchUp(roomId: string): Promise<void> {
    const tl = this.state.timelines[roomId];
    const newest = tl?.items.filter((m) => !m.status).at(-1);
    if (!tl || !newest) {
      await this.loadOlder(roomId);
      return;
    }
    const fetched: Message[] = [];
    let before: string | undefined;
    for (let i = 0; i < MAX_CATCH_UP_PAGES; i++) {
      const page = await this.request("message:history", { roomId, limit: PAGE, ...(before ? { before } : {}) });
      fetched.unshift(...page.messages);
      const first = page.messages[0];
      if (!page.hasMore || !first || compareIds(first.id, newest.id) <= 0) {
        this.merge(roomId, fetched);
        return;
      }
      before = first.id;
    }
    // Too much was missed to stitch: start the room afresh at its newest messages.
    const pending = tl.items.filter((m) => m.status);
    this.setTimeline(roomId, { items: [...fetched, ...pending], hasMore: true, loading: false });
  }

  send(roomId: string, body: string): void {
    const clientMsgId = newClientMsgId();
    const { me } = this.state;
    const pending: TimelineMessage = {
      id: `pending:${clientMsgId}`,
      roomId,
      authorId: me.id,
      author: { id: me.id, displayName: me.displayName },
      body,
      createdAt: new Date().toISOString(),
      clientMsgId,
      status: "pending",
    };
    const tl = this.state.timelines[roomId] ?? { items: [], hasMore: true, loading: false };
    this.setTimeline(roomId, { ...tl, items: [...tl.items, pending] });
    this.setTyping(roomId, false);
    this.deliver(pending);
  }

  retry(roomId: string, clientMsgId: string): void {
    const m = this.state.timelines[roomId]?.items.find((i) => i.clientMsgId === clientMsgId && i.status === "failed");
    if (!m) return;
    this.updatePending(roomId, clientMsgId, { status: "pending", error: undefined });
    this.deliver({ ...m, status: "pending" });
  }

  discard(roomId: string, clientMsgId: string): void {
    const tl = this.state.timelines[roomId];
    if (!tl) return;
    this.setTimeline(roomId, { ...tl, items: tl.items.filter((m) => !(m.status && m.clientMsgId === clientMsgId)) });
  }

  private deliver(m: TimelineMessage): void {
    // While offline it stays pending; onConnect resends it.
    if (!this.socket.connected || !m.clientMsgId) return;
    const clientMsgId = m.clientMsgId;
    this.request("message:send", { roomId: m.roomId, body: m.body, clientMsgId }).then(
      ({ message }) => this.merge(m.roomId, [message]),
      (err: unknown) => {
        // A timeout while the connection dropped is not a failure: it is resent on reconnect.
        if (!(err instanceof RequestError) && !this.socket.connected) return;
        const error = err instanceof RequestError ? err.body.message : "no answer from the server";
        this.updatePending(m.roomId, clientMsgId, { status: "failed", error });
      },
    );
  }

  private resendPending(): void {
    for (const tl of Object.values(this.state.timelines)) {
      for (const m of tl.items) if (m.status === "pending") this.deliver(m);
    }
  }

  private updatePending(roomId: string, clientMsgId: string, patch: Partial<TimelineMessage>): void {
    const tl = this.state.timelines[roomId];
    if (!tl) return;
    this.setTimeline(roomId, {
      ...tl,
      items: tl.items.map((m) => (m.status && m.clientMsgId === clientMsgId ? { ...m, ...patch } : m)),
    });
  }

  private onMessage(message: Message): void {
    const { me, activeRoomId } = this.state;
    const tl = this.state.timelines[message.roomId];
    const known = tl?.items.some((m) => m.id === message.id);
    if (tl) this.merge(message.roomId, [message]);
    if (known || message.authorId === me.id) return;
    const names = { ...this.state.names, [message.authorId]: message.author.displayName };
    const typing = this.state.typing[message.roomId];
    const seen = message.roomId === activeRoomId && typeof document !== "undefined" && document.visibilityState === "visible";
    this.set({
      names,
      rooms: seen ? this.state.rooms : this.state.rooms.map((r) => (r.id === message.roomId ? { ...r, unread: r.unread + 1 } : r)),
      typing: typing?.[message.authorId]
        ? { ...this.state.typing, [message.roomId]: without(typing, message.authorId) }
        : this.state.typing,
    });
  }

  /** Adds stored messages to a room's timeline: by id, no duplicates, pending copies replaced. */
  private merge(roomId: string, messages: Message[], patch: Partial<Timeline> = {}): void {
    const tl = this.state.timelines[roomId] ?? { items: [], hasMore: true, loading: false };
    const byId = new Map<string, TimelineMessage>();
    for (const m of tl.items) if (!m.status) byId.set(m.id, m);
    for (const m of messages) byId.set(m.id, m);
    const stored = [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
    const storedClientIds = new Set(stored.flatMap((m) => (m.authorId === this.state.me.id && m.clientMsgId ? [m.clientMsgId] : [])));
    const pending = tl.items.filter((m) => m.status && !storedClientIds.has(m.clientMsgId ?? ""));
    const names = { ...this.state.names };
    for (const m of messages) names[m.authorId] = m.author.displayName;
    this.state = { ...this.state, names };
    this.setTimeline(roomId, { ...tl, ...patch, items: [...stored, ...pending] });
  }

  private setTimeline(roomId: string, timeline: Timeline): void {
    this.set({ timelines: { ...this.state.timelines, [roomId]: timeline } });
  }

  // ---- read state -----------------------------------------------------------------

  /** Marks the room read up to its newest stored message (all tabs follow). */
  markRead(roomId: string): void {
    const room = this.state.rooms.find((r) => r.id === roomId);
    const newest = this.state.timelines[roomId]?.items.filter((m) => !m.status).at(-1);
    if (!room || !newest) return;
    if (room.unread === 0 && room.lastReadMessageId && compareIds(room.lastReadMessageId, newest.id) >= 0) return;
    this.onRead(roomId, newest.id);
    this.request("room:read", { roomId, messageId: newest.id }).catch(() => {});
  }

  private onRead(roomId: string, messageId: string): void {
    const newest = this.state.timelines[roomId]?.items.filter((m) => !m.status).at(-1);
    const caughtUp = !newest || compareIds(messageId, newest.id) >= 0;
    this.set({
      rooms: this.state.rooms.map((r) =>
        r.id === roomId
          ? {
              ...r,
              lastReadMessageId: r.lastReadMessageId && compareIds(r.lastReadMessageId, messageId) > 0 ? r.lastReadMessageId : messageId,
              unread: caughtUp ? 0 : r.unread,
            }
          : r,
      ),
    });
    if (!caughtUp) void this.refreshRooms().catch(() => {});
  }

  // ---- typing -----------------------------------------------------------------------

  private typingSent: { roomId: string; at: number } | null = null;

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
    if (this.socket.connected) this.socket.emit("typing", { roomId, typing });
  }

  private onTyping(roomId: string, userId: string, typing: boolean): void {
    if (userId === this.state.me.id) return;
    const room = this.state.typing[roomId] ?? {};
    this.set({
      typing: {
        ...this.state.typing,
        [roomId]: typing ? { ...room, [userId]: Date.now() + TYPING_TTL_MS } : without(room, userId),
      },
    });
  }

  private expireTyping(): void {
    const now = Date.now();
    let changed = false;
    const next: ChatState["typing"] = {};
    for (const [roomId, users] of Object.entries(this.state.typing)) {
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
