/**
 * Who may open a connection, besides having a valid token: limits on new
 * connections per address and on open connections per user. Each is a
 * Socket.IO middleware; a refusal reaches the client as `connect_error` whose
 * `message` is the error code and whose `data` is `{code, message,
 * retryAfter?}`.
 */
import type { Core } from "../core";
import { AppError, toAppError } from "../core/errors";
import { clientAddress } from "../limits/client-address";
import type { Throttles } from "../limits/throttles";
import type { Logger } from "../logger";
import type { IoSocket } from "./types";

type Middleware = (socket: IoSocket, next: (err?: Error) => void) => void;

/** The error a middleware passes to `next` to refuse a connection. */
export function connectRefusal(error: AppError): Error {
  return Object.assign(new Error(error.code), { data: error.toBody() });
}

/** The connecting client's address, as limits count it (see limits/client-address.ts). */
export function socketAddress(socket: IoSocket, trustProxy: number): string {
  return clientAddress(socket.handshake.address, socket.handshake.headers["x-forwarded-for"], trustProxy);
}

/** Runs an async admission check as a middleware: refuses with its coded error, logs the unexpected. */
export function admission(log: Logger, check: (socket: IoSocket) => Promise<void>): Middleware {
  return (socket, next) => {
    check(socket).then(
      () => next(),
      (err: unknown) => {
        const { error, isBug } = toAppError(err);
        if (isBug || error.code === "unavailable") log.warn({ err }, "connection refused");
        next(connectRefusal(error));
      },
    );
  };
}

/** New connections per client address per minute, counted before any token is checked. */
export function throttleConnections(throttles: Throttles, trustProxy: number, log: Logger): Middleware {
  return admission(log, (socket) => throttles.connect(socketAddress(socket, trustProxy)));
}

/**
 * At most `max` open connections per user in the chat namespace, counted over
 * every instance by the presence store. Checked before the connection
 * counts, so a burst of simultaneous connects may pass it by a few.
 */
export function limitUserConnections(core: Core, max: number, log: Logger): Middleware {
  return admission(log, async (socket) => {
    const user = socket.data.user;
    if (!user) return;
    if ((await core.presence.connectionCount(user.id)) >= max) {
      throw new AppError("too_many_connections", `at most ${max} connections per user: close another tab or device first`);
    }
  });
}
