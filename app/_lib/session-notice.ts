/**
 * Why the sign-in page is shown, when a session ended rather than never
 * began: the chat store sends people to `signInUrl(reason)`, and the sign-in
 * page reads the reason back with `sessionNotice`. Pure, so that both ends
 * agree on one short list.
 */
import type { SessionEndReason } from "../../shared/protocol";

/**
 * Why a session ended: the server's `session:ended` reasons; `unauthorized`
 * when a reconnect was refused (the token no longer works, whatever the
 * cause); `signed_out_everywhere` when this person chose "Sign out everywhere".
 */
export type SessionEnd = SessionEndReason | "unauthorized" | "signed_out_everywhere";

/** The query parameter of /login that carries the reason. */
export const SESSION_PARAM = "session";

const NOTICES: Record<SessionEnd, string> = {
  signed_out: "You were signed out in another tab or on another device.",
  password_changed: "Your password was changed on another device. Sign in with the new password.",
  expired: "Your session expired. Sign in again.",
  unauthorized: "Your session has ended. Sign in again.",
  signed_out_everywhere: "You signed out on every device.",
};

/** Where to send someone whose session ended: the sign-in page, with the reason. */
export function signInUrl(reason?: SessionEnd): string {
  return reason ? `/login?${SESSION_PARAM}=${encodeURIComponent(reason)}` : "/login";
}

/** The notice for the sign-in page's query string (`location.search`), or null for none or an unknown reason. */
export function sessionNotice(search: string): string | null {
  const reason = new URLSearchParams(search).get(SESSION_PARAM);
  return reason !== null && Object.hasOwn(NOTICES, reason) ? NOTICES[reason as SessionEnd] : null;
}
