/** The auth calls of the web UI (the server sets the HttpOnly token cookie). */
import type { User } from "../../shared/protocol";

export type AuthResult = { ok: true; user: User } | { ok: false; message: string };

const MESSAGES: Record<string, string> = {
  username_taken: "That username is taken. Try another one.",
  invalid_credentials: "Wrong username or password.",
  rate_limited: "Too many attempts. Wait a moment and try again.",
};

export async function authenticate(
  mode: "login" | "register",
  body: { username: string; password: string; displayName?: string },
): Promise<AuthResult> {
  let res: Response;
  try {
    res = await fetch(`/api/auth/${mode}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, message: "Can’t reach the server. Check your connection and try again." };
  }
  const json = (await res.json().catch(() => null)) as { user?: User; error?: { code: string; message: string } } | null;
  if (res.ok && json?.user) return { ok: true, user: json.user };
  if (!json?.error) return { ok: false, message: `The server answered ${res.status}. Try again in a moment.` };
  return { ok: false, message: MESSAGES[json.error.code] ?? capitalize(json.error.message) };
}

/** The signed-in user, `null` when signed out, or throws when the server is unreachable. */
export async function currentUser(): Promise<User | null> {
  const res = await fetch("/api/auth/me", { credentials: "same-origin" });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`server answered ${res.status}`);
  return ((await res.json()) as { user: User }).user;
}

export async function signOut(): Promise<void> {
  // JSON, as every sign-in route requires (a form from another site cannot send it).
  await fetch("/api/auth/logout", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    credentials: "same-origin",
  }).catch(() => {});
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
