"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { authenticate } from "../_lib/auth";

/** Sign-in and sign-up form: labelled fields, inline errors, then into the chat. */
export function AuthForm({ mode }: { mode: "login" | "register" }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signUp = mode === "register";

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
    const result = await authenticate(mode, { username, password, ...(signUp && displayName ? { displayName } : {}) });
    if (result.ok) {
      location.assign("/");
      return;
    }
    setBusy(false);
    setError(result.message);
  }

  return (
    <main className="auth">
      <form className="auth-card" onSubmit={onSubmit} noValidate aria-describedby={error ? "auth-error" : undefined}>
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          Switchboard
        </h1>
        <h2>{signUp ? "Create your account" : "Sign in"}</h2>
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
        {error && (
          <p id="auth-error" className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
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
