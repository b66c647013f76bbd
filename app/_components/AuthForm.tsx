"use client";

import Link from "next/link";
import { useEffect, useState, type FormEvent } from "react";
import { authenticate } from "../_lib/auth";
import { SESSION_PARAM, sessionNotice } from "../_lib/session-notice";
import { useCountdown } from "../_lib/use-countdown";
import { TooManyAttempts } from "./TooManyAttempts";

/**
 * Sign-in and sign-up form: labelled fields, inline errors, then into the
 * chat. After too many attempts it says how long to wait and keeps the button
 * disabled until then; after a session ended, the sign-in page says why.
 */
export function AuthForm({ mode }: { mode: "login" | "register" }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [wait, startWait] = useCountdown();
  const [notice, setNotice] = useState<string | null>(null);
  const signUp = mode === "register";

  // Read on the client only (the page itself is static); the reason is then
  // taken out of the address, so that a reload does not say it again.
  useEffect(() => {
    if (signUp) return;
    setNotice(sessionNotice(location.search));
    const url = new URL(location.href);
    if (url.searchParams.has(SESSION_PARAM)) {
      url.searchParams.delete(SESSION_PARAM);
      history.replaceState(history.state, "", url);
    }
  }, [signUp]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username") ?? "").trim();
    const password = String(form.get("password") ?? "");
    const displayName = String(form.get("displayName") ?? "").trim();
    if (signUp && password.length < 8) {
      setError("Use at least 8 characters for the password.");
      return;
    }
    setBusy(true);
    setError(null);
    setNotice(null);
    const result = await authenticate(mode, { username, password, ...(signUp && displayName ? { displayName } : {}) });
    if (result.ok) {
      location.assign("/");
      return;
    }
    setBusy(false);
    // A known wait shows as a countdown, and the form is usable again when it ends.
    if (result.retryAfter) startWait(result.retryAfter);
    setError(result.retryAfter ? null : result.message);
  }

  const waiting = wait > 0;

  return (
    <main className="auth">
      <form className="auth-card" onSubmit={onSubmit} noValidate aria-describedby={error || waiting ? "auth-error" : undefined}>
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          Switchboard
        </h1>
        <h2>{signUp ? "Create your account" : "Sign in"}</h2>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9_.\-]+"
            autoFocus
          />
        </label>
        {signUp && (
          <label>
            Display name <span className="hint">(optional)</span>
            <input name="displayName" autoComplete="name" maxLength={64} />
          </label>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={signUp ? "new-password" : "current-password"}
            required
            minLength={signUp ? 8 : 1}
          />
        </label>
        {waiting ? (
          <TooManyAttempts id="auth-error" seconds={wait} />
        ) : (
          error && (
            <p id="auth-error" className="form-error" role="alert">
              {error}
            </p>
          )
        )}
        <button type="submit" className="primary" disabled={busy || waiting}>
          {signUp ? "Sign up" : "Sign in"}
        </button>
        <p className="switch">
          {signUp ? (
            <>
              Already have an account? <Link href="/login">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link href="/signup">Create an account</Link>
            </>
          )}
        </p>
        <p className="switch hint">
          Old browser? Use the <a href="/legacy">basic version</a>.
        </p>
      </form>
    </main>
  );
}
