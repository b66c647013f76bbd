"use client";

import type { SignOutAction } from "../_lib/auth";
import { ConfirmDialog } from "./Dialog";

/** Asks before signing out every session of the account, this one included; says so if it did not work. */
export function SignOutEverywhereDialog({ onSignOut, onClose }: { onSignOut: SignOutAction; onClose: () => void }) {
  async function signOutEverywhere() {
    // On success the page goes to sign-in; only a failure comes back here.
    const failure = await onSignOut(true);
    if (failure) throw new Error(failure.message);
  }
  return (
    <ConfirmDialog title="Sign out everywhere?" confirm="Sign out everywhere" onConfirm={signOutEverywhere} onClose={onClose}>
      <p className="flush">This signs you out on every device and browser where you are signed in, this one included.</p>
    </ConfirmDialog>
  );
}
