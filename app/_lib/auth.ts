/** The auth calls of the web UI (the server sets the HttpOnly token cookie). */
import type { User } from "../../shared/protocol";
import { retryAfterSeconds, tooManyAttempts } from "./wait";

/**
 * A call that did not succeed. `code` is the server's error code, or
 * `unreachable` (no answer) or `unexpected` (an answer without an error body);
 * `message` is ready to show; `retryAfter` (seconds) comes with `rate_limited`
 * when the server says how long to wait.
 */
export interface AuthFailure {
  ok: false;
  code: string;
  message: string;
  retryAfter?: number;
}

/** Signs out here, or with `everywhere` on every device; resolves with the failure if it did not happen. */
export type SignOutAction = (everywhere: boolean) => Promise<AuthFailure | null>;
export type AuthResult = { ok: true; user: User } | AuthFailure;
export type Done = { ok: true } | AuthFailure;

const MESSAGES: Record<string, string> = {
  username_taken: "That username is taken. Try another one.",
  invalid_credentials: "Wrong username or password.",
};

export function authenticate(
  mode: "login" | "register",
  body: { username: string; password: string; displayName?: string },
): Promise<AuthResult> {
  return post<{ user?: User }>(`/api/auth/${mode}`, body).then((res) =>
    !res.ok ? res : res.json?.user ? { ok: true, user: res.json.user } : unexpected(res.status),
  );
}

/**
 * Changes the password; the server signs out every other session of the
 * account (this one stays). A wrong current password is `invalid_credentials`
 * and counts as a failed sign-in, so it can also end in `rate_limited`.
 */
export function changePassword(currentPassword: string, newPassword: string): Promise<Done> {
  return post("/api/auth/password", { currentPassword, newPassword }).then((res) => (res.ok ? { ok: true } : res));
}

/** Signs out this session, or with `everywhere` every session of the account (all devices). */
export function signOut(options: { everywhere?: boolean } = {}): Promise<Done> {
  return post("/api/auth/logout", options.everywhere ? { everywhere: true } : {}).then((res) => (res.ok ? { ok: true } : res));
}

/** The signed-in user, `null` when signed out, or throws when the server is unreachable. */
export async function currentUser(): Promise<User | null> {
  const res = await fetch("/api/auth/me", { credentials: "same-origin" });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`server answered ${res.status}`);
  return ((await res.json()) as { user: User }).user;
}

/** POSTs JSON, as every /api/auth route requires (a form from another site cannot send it). */
async function post<T>(path: string, body: unknown): Promise<{ ok: true; status: number; json: T | null } | AuthFailure> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, code: "unreachable", message: "Can’t reach the server. Check your connection and try again." };
  }
  const json = res.status === 204 ? null : ((await res.json().catch(() => null)) as (T & { error?: { code: string; message: string } }) | null);
  if (res.ok) return { ok: true, status: res.status, json };
  const error = json?.error;
  if (error?.code === "rate_limited" || res.status === 429) {
    const retryAfter = retryAfterSeconds(json, res.headers.get("retry-after"));
    return { ok: false, code: "rate_limited", message: tooManyAttempts(retryAfter), ...(retryAfter ? { retryAfter } : {}) };
  }
  if (!error) return unexpected(res.status);
  return { ok: false, code: error.code, message: MESSAGES[error.code] ?? capitalize(error.message) };
}

function unexpected(status: number): AuthFailure {
  return { ok: false, code: "unexpected", message: `The server answered ${status}. Try again in a moment.` };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
