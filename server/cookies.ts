/**
 * The web UI's token cookie: set by the HTTP routes (server/http/app.ts),
 * read by the Socket.IO handshake (server/realtime/auth.ts).
 */
/** The HttpOnly cookie carrying the web UI's token. */
export const TOKEN_COOKIE = "sb_token";

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
