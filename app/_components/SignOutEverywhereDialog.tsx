"use client";

import { useState } from "react";
import type { SignOutAction } from "../_lib/auth";
import { Dialog } from "./Dialog";

/** Asks before signing out every session of the account, this one included; says so if it did not work. */
export function SignOutEverywhereDialog({ onSignOut, onClose }: { onSignOut: SignOutAction; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function confirm() {
    setBusy(true);
    setError(null);
    // On success the page goes to sign-in; only a failure comes back here.
    const failure = await onSignOut(true);
    if (!failure) return;
    setBusy(false);
    setError(failure.message);
  }

  return (
    <Dialog title="Sign out everywhere?" onClose={onClose}>
      <div className="stack">
        <p className="flush">This signs you out on every device and browser where you are signed in, this one included.</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="row end">
          <button type="button" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy} onClick={() => void confirm()}>
            Sign out everywhere
          </button>
        </div>
      </div>
    </Dialog>
  );
}
