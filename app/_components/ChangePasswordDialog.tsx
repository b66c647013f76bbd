"use client";

import { useRef, useState, type FormEvent } from "react";
import type { User } from "../../shared/protocol";
import { changePassword } from "../_lib/auth";
import { useCountdown } from "../_lib/use-countdown";
import { Dialog } from "./Dialog";
import { TooManyAttempts } from "./TooManyAttempts";

type Field = "current" | "next" | "confirm";
type Errors = Partial<Record<Field | "form", string>>;

/** The server's bounds for a password (shared/schemas.ts `passwordSchema`). */
const MIN_LENGTH = 8;
const MAX_LENGTH = 256;

/**
 * Current password, new password twice. Each mistake shows under its field
 * (and focus goes to the first one); too many wrong current passwords show
 * the wait. On success the server has signed out every other session, and
 * the dialog says so.
 */
export function ChangePasswordDialog({ me, onClose }: { me: User; onClose: () => void }) {
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [wait, startWait] = useCountdown();
  const fields = { current: useRef<HTMLInputElement>(null), next: useRef<HTMLInputElement>(null), confirm: useRef<HTMLInputElement>(null) };

  function show(found: Errors) {
    setErrors(found);
    const first = (["current", "next", "confirm"] as const).find((f) => found[f]);
    if (first) fields[first].current?.focus();
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const current = String(form.get("currentPassword") ?? "");
    const next = String(form.get("newPassword") ?? "");
    const confirm = String(form.get("confirmPassword") ?? "");
    const found: Errors = {};
    if (!current) found.current = "Enter your current password.";
    if (next.length < MIN_LENGTH) found.next = `Use at least ${MIN_LENGTH} characters.`;
    else if (next.length > MAX_LENGTH) found.next = `Use at most ${MAX_LENGTH} characters.`;
    else if (confirm !== next) found.confirm = "This does not match the new password.";
    if (Object.keys(found).length > 0) return show(found);

    setBusy(true);
    setErrors({});
    const result = await changePassword(current, next);
    setBusy(false);
    if (result.ok) return setDone(true);
    switch (result.code) {
      case "invalid_credentials":
        fields.current.current?.select();
        return show({ current: "That is not your current password." });
      case "invalid_payload":
        return show({ next: `Use ${MIN_LENGTH} to ${MAX_LENGTH} characters.` });
      case "unauthorized":
        return show({ form: "Your session has ended. Sign in again." });
      case "rate_limited":
        if (result.retryAfter) return startWait(result.retryAfter);
        return show({ form: result.message });
      default:
        return show({ form: result.message });
    }
  }

  /** Props tying an input to its error message, if it has one. */
  const described = (field: Field, hint?: string) => {
    const ids = [hint, errors[field] ? `password-${field}-error` : undefined].filter(Boolean).join(" ");
    return { "aria-invalid": errors[field] ? true : undefined, "aria-describedby": ids || undefined };
  };
  const fieldError = (field: Field) =>
    errors[field] && (
      <span id={`password-${field}-error`} className="field-error" role="alert">
        {errors[field]}
      </span>
    );

  return (
    <Dialog title="Change password" onClose={onClose}>
      {/* Always present, so that the confirmation is announced when it fills in. */}
      <div role="status">
        {done && (
          <p className="success">
            <strong>Password changed.</strong> Every other device and browser where you were signed in has been signed out and
            needs the new password. You stay signed in here.
          </p>
        )}
      </div>
      {done ? (
        <div className="row end">
          <button className="primary" onClick={onClose} autoFocus>
            Done
          </button>
        </div>
      ) : (
        <form onSubmit={onSubmit} className="stack" noValidate>
          {/* For password managers: which account this password belongs to. */}
          <input type="text" name="username" autoComplete="username" value={me.username} readOnly hidden />
          <div className="field">
            <label>
              Current password
              <input
                ref={fields.current}
                name="currentPassword"
                type="password"
                autoComplete="current-password"
                required
                data-autofocus
                {...described("current")}
              />
            </label>
            {fieldError("current")}
          </div>
          <div className="field">
            <label>
              New password
              <input
                ref={fields.next}
                name="newPassword"
                type="password"
                autoComplete="new-password"
                required
                {...described("next", "password-next-hint")}
              />
            </label>
            <span id="password-next-hint" className="hint">
              At least {MIN_LENGTH} characters.
            </span>
            {fieldError("next")}
          </div>
          <div className="field">
            <label>
              Confirm new password
              <input
                ref={fields.confirm}
                name="confirmPassword"
                type="password"
                autoComplete="new-password"
                required
                {...described("confirm")}
              />
            </label>
            {fieldError("confirm")}
          </div>
          <p className="hint flush">Changing it signs you out on every other device and browser.</p>
          {wait > 0 ? (
            <TooManyAttempts seconds={wait} />
          ) : (
            errors.form && (
              <p className="form-error" role="alert">
                {errors.form}
              </p>
            )
          )}
          <div className="row end">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy || wait > 0}>
              Change password
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
