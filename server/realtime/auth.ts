import type { IncomingHttpHeaders } from "node:http";
import type { Core } from "../core";
import { AppError, toAppError } from "../core/errors";
import { readCookie, TOKEN_COOKIE } from "../cookies";
import type { Logger } from "../logger";
import { connectRefusal } from "./admission";
import { socketRooms } from "./socket-rooms";
import type { AnySocket } from "./types";

/**
 * Socket.IO middleware: a connection needs `auth: {token}` (Switchboard's or a
 * host application's), or, from the web UI, the HttpOnly token cookie. The
 * cookie is only honoured from a page of an allowed origin, so another site
 * cannot open a connection in the user's name. Failures reach the client as
 * `connect_error` with message "unauthorized". Namespaces configured as
 * anonymous also accept connections without a token.
 */
export function authMiddleware(
  core: Core,
  allowedOrigins: string[],
  log: Logger,
  options: { anonymous: boolean } = { anonymous: false },
) {
  return async (socket: AnySocket, next: (err?: Error) => void): Promise<void> => {
    try {
      const auth: unknown = socket.handshake.auth;
      const fromAuth = typeof auth === "object" && auth !== null ? (auth as { token?: unknown }).token : undefined;
      let token: unknown = fromAuth;
      if (token === undefined) {
        const cookie = readCookie(socket.handshake.headers.cookie, TOKEN_COOKIE);
        if (cookie !== undefined) {
          if (!isSameOrigin(socket.handshake.headers, allowedOrigins)) {
            throw new AppError("unauthorized", "cookie sent from a foreign origin");
          }
          token = cookie;
        }
      }
      // An anonymous namespace lets connections without any token in; a token
      // that is present must still be valid.
      if (token === undefined && options.anonymous) {
        socket.data.user = null;
      } else {
        const identity = await core.accounts.identify(token);
        socket.data.user = identity.user;
        socket.data.sessionId = identity.sessionId;
        socket.data.expiresAt = identity.expiresAt.getTime();
      }
      next();
    } catch (err) {
      const { error, isBug } = toAppError(err);
      if (isBug || error.code === "unavailable") log.error({ err }, "connection authentication failed");
      // An outage or a bug is said as it is (the client retries later); anything
      // else means the connection may not go on with this token.
      const passOn = error.code === "unavailable" || error.code === "internal";
      next(connectRefusal(passOn ? error : new AppError("unauthorized", error.message)));
    }
  };
}

function isSameOrigin(headers: IncomingHttpHeaders, allowedOrigins: string[]): boolean {
  const origin = headers.origin;
  // Browsers always send Origin on WebSocket and cross-origin requests; no
  // Origin means a same-origin GET (polling) or a non-browser client.
  if (!origin) return true;
  if (allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

/** Node's timers hold at most 2^31-1 ms (~24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * For an authenticated connection: joins its session's room, so signing that
 * session out closes it on whichever instance it is, and closes it when its
 * token expires. Call once the connection is established (a refused
 * handshake never gets a timer). A sign-out that landed while the connection
 * was being admitted missed it (closing reaches established connections
 * only): the session is looked up again once the room is joined.
 */
export function watchSession(socket: AnySocket, core: Core, log: Logger): void {
  const { sessionId, expiresAt } = socket.data;
  if (sessionId) {
    socket.join(socketRooms.session(sessionId));
    core.accounts.liveSessions([sessionId]).then(
      (live) => {
        if (live.has(sessionId)) return;
        socket.emit("session:ended", { reason: "signed_out" });
        socket.disconnect(true);
      },
      (err: unknown) => log.warn({ err }, "could not check the session of a new connection"),
    );
  }
  if (expiresAt === undefined) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left > MAX_TIMER_MS) {
      timer = setTimeout(arm, MAX_TIMER_MS);
      return;
    }
    timer = setTimeout(() => {
      socket.emit("session:ended", { reason: "expired" });
      socket.disconnect(true);
    }, Math.max(0, left));
  };
  arm();
  socket.once("disconnect", () => clearTimeout(timer));
}
