"use client";

import { useState } from "react";
import { useStore } from "../_lib/use-chat";
import { Dialog, errorText, focusComposer } from "./Dialog";
import { UserPicker } from "./UserPicker";

/** Finds people by name to start (or reopen) a direct conversation. */
export function DmDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);

  return (
    <Dialog title="New message" onClose={onClose}>
      <UserPicker
        autoFocus
        error={error}
        action={(user) => (
          <button
            className="primary"
            onClick={async () => {
              try {
                await store.openDm(user);
                onClose();
                focusComposer();
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            Message
          </button>
        )}
      />
    </Dialog>
  );
}
