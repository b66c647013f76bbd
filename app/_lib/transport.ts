/**
 * The web UI's one Socket.IO connection, typed by the shared contract:
 * requests with acks (a refusal rejects with its code), the server's events,
 * and staying connected. A connection the server refuses for a while
 * (database down, too many connections, rate limited) or closes on purpose
 * is tried again with backoff until it works (reconnect.ts); one refused as
 * `unauthorized`, or a `session:ended`, closes it for good and says why.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { Ack, ClientToServerEvents, ServerToClientEvents } from "../../shared/protocol";
import { RequestError } from "./errors";
import { connectFailure, retryDelay } from "./reconnect";
import type { SessionEnd } from "./session-notice";

export type ConnectionStatus = "connecting" | "online" | "reconnecting";

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
/** What a successful ack of event E carries besides `ok: true`. */
export type AckOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends
  | ((res: Ack<infer T>) => void)
  | undefined
  ? T
  : never;

/** How long a request waits for its ack. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface TransportOptions {
  /** The server; the page's own origin when absent (the HttpOnly cookie then authenticates). */
  url?: string;
  /** More Socket.IO client options (a token in `auth`, say, where there is no cookie). */
  socket?: Partial<ManagerOptions & SocketOptions>;
  onStatus(status: ConnectionStatus): void;
  /** Connected: the first time, or again after a drop (`first: false`: whatever was shown may be behind). */
  onConnect(first: boolean): void;
  /** The session is over and the connection closed: the server's reason, or `unauthorized` when a reconnect was refused. */
  onSessionEnded(reason: SessionEnd): void;
}

export class ChatTransport {
  private readonly socket: ChatSocket;
  private connectedOnce = false;
  /** Attempts refused (or closed by the server) since the last successful connect: the backoff's exponent. */
  private refusedAttempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: TransportOptions) {
    // Polling first, then an upgrade to WebSocket where the network allows
    // it. socket.io-client's own reconnects back off from 1 s to 10 s with
    // ±50% jitter, so a restart does not bring every client back at once.
    const socketOptions = { withCredentials: true, reconnectionDelay: 1000, reconnectionDelayMax: 10_000, randomizationFactor: 0.5, ...options.socket };
    this.socket = options.url === undefined ? io(socketOptions) : io(options.url, socketOptions);
    this.socket.on("connect", () => {
      this.refusedAttempts = 0;
      const first = !this.connectedOnce;
      this.connectedOnce = true;
      options.onStatus("online");
      options.onConnect(first);
    });
    this.socket.on("disconnect", (reason) => {
      options.onStatus("reconnecting");
      // The server closed us on purpose (shutting down, say): socket.io-client
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
      options.onStatus("reconnecting");
      if (failure.action === "retry") this.retryLater(failure.retryAfterSeconds);
    });
    // Signed out elsewhere, password changed or token expired: the server
    // closes the connection next, and only a new sign-in brings it back.
    this.socket.on("session:ended", ({ reason }) => {
      this.close();
      options.onSessionEnded(reason);
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Listens to one of the server's events. */
  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): void {
    (this.socket.on as (event: E, listener: ServerToClientEvents[E]) => void)(event, listener);
  }

  /** Sends an event and waits for its ack: resolves with what it carries, rejects with a RequestError for a refusal. */
  async request<E extends keyof ClientToServerEvents>(event: E, payload: Payload<E>): Promise<AckOf<E>> {
    // The typed emitWithAck cannot express "ack with a timeout" generically; the shapes come from the contract.
    const withTimeout = this.socket.timeout(REQUEST_TIMEOUT_MS) as unknown as {
      emitWithAck(event: E, payload: Payload<E>): Promise<Ack<object>>;
    };
    const res = await withTimeout.emitWithAck(event, payload);
    if (!res.ok) throw new RequestError(res.error);
    return res as unknown as AckOf<E>;
  }

  /** Sends `typing` without waiting for anything, if connected (a stale indicator is worth nothing later). */
  typing(roomId: string, typing: boolean): void {
    if (this.socket.connected) this.socket.emit("typing", { roomId, typing });
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.socket.close();
  }

  /** Connects again after the backoff (reconnect.ts); the status stays "reconnecting" meanwhile. */
  private retryLater(retryAfterSeconds?: number): void {
    clearTimeout(this.retryTimer);
    const delay = retryDelay(this.refusedAttempts++, retryAfterSeconds);
    this.retryTimer = setTimeout(() => this.socket.connect(), delay);
  }
}
