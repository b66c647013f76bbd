import type { IncomingHttpHeaders } from "node:http";
import type { Core } from "../core";
import { AppError, toAppError } from "../core/errors";
import { readCookie, TOKEN_COOKIE } from "../http/cookies";
import type { Logger } from "../logger";
import type { IoSocket } from "./types";

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
  return async (socket: IoSocket, next: (err?: Error) => void): Promise<void> => {
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
      socket.data.user = token === undefined && options.anonymous ? null : await core.accounts.authenticate(token);
      next();
    } catch (err) {
      const { error, isBug } = toAppError(err);
      if (isBug || error.code === "unavailable") log.error({ err }, "connection authentication failed");
      const refusal = new Error(error.code === "unavailable" ? "unavailable" : "unauthorized") as Error & {
        data?: unknown;
      };
      refusal.data = { code: error.code, message: error.message };
      next(refusal);
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
