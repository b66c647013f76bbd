/** Small helpers around the real HTTP API and the real socket.io-client. */
import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import type { Ack, ClientToServerEvents, ServerToClientEvents, User } from "../../shared/protocol";

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function uniqueName(prefix = "user"): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

export async function api(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function register(
  baseUrl: string,
  username = uniqueName(),
  displayName?: string,
): Promise<{ user: User; token: string }> {
  const res = await api(baseUrl, "POST", "/api/auth/register", {
    username,
    password: "correct horse battery",
    ...(displayName ? { displayName } : {}),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The socket's event methods without the event-map typing, for generic helpers. */
interface Untyped {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

const open: ChatSocket[] = [];

/** Connects and waits for `connect`; rejects with the `connect_error`. */
export function connect(
  baseUrl: string,
  token: string | undefined,
  options: { transports?: ("websocket" | "polling")[]; extraHeaders?: Record<string, string> } = {},
): Promise<ChatSocket> {
  const socket: ChatSocket = io(baseUrl, {
    auth: token === undefined ? {} : { token },
    transports: options.transports ?? ["websocket"],
    reconnection: false,
    forceNew: true,
    ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
  });
  open.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Closes every socket opened by {@link connect} (call in afterEach/afterAll). */
export function closeAll(): void {
  for (const s of open.splice(0)) s.close();
}

/** Emits an event and resolves with its acknowledgement. */
export function request<T extends object = Record<string, never>>(
  socket: ChatSocket,
  event: string,
  payload?: unknown,
): Promise<Ack<T>> {
  const s = socket as unknown as Socket;
  return s.timeout(10_000).emitWithAck(event, ...(payload === undefined ? [] : [payload]));
}

/** Like {@link request} but throws unless the ack is `ok`. */
export async function call<T extends object>(socket: ChatSocket, event: string, payload?: unknown): Promise<T> {
  const res = await request<T>(socket, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${res.error.code} ${res.error.message}`);
  return res as T;
}

/** Resolves with the next `event` matching `filter`, or rejects after `ms`. */
export function next<E extends keyof ServerToClientEvents>(
  socket: ChatSocket,
  event: E,
  filter: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  ms = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const s = socket as unknown as Untyped;
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const listener = (...args: any[]) => {
      if (!(filter as (...a: any[]) => boolean)(...args)) return;
      clearTimeout(timer);
      s.off(event, listener);
      resolve(args[0]);
    };
    s.on(event, listener);
  });
}

/** Collects every `event` the socket receives from now on. */
export function collect<E extends keyof ServerToClientEvents>(
  socket: ChatSocket,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  (socket as unknown as Untyped).on(event, (arg: any) => void seen.push(arg));
  return seen;
}

/** Waits for in-flight events to arrive: a round trip to the server and back. */
export async function settle(socket: ChatSocket): Promise<void> {
  await request(socket, "room:list", {});
}
