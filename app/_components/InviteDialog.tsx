"use client";

import { useState } from "react";
import { useChat, useStore } from "../_lib/use-chat";
import { Dialog, errorText } from "./Dialog";
import { UserPicker } from "./UserPicker";

export function InviteDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const store = useStore();
  const members = useChat((s) => s.members[roomId]);
  const [error, setError] = useState<string | null>(null);
  const memberIds = new Set((members ?? []).map((m) => m.user.id));

  return (
    <Dialog title="Invite people" onClose={onClose}>
      <UserPicker
        autoFocus
        error={error}
        action={(user) =>
          memberIds.has(user.id) ? (
            <span className="hint">Member</span>
          ) : (
            <button
              className="primary"
              onClick={async () => {
                try {
                  await store.inviteToRoom(roomId, [user.id]);
                } catch (err) {
                  setError(errorText(err));
                }
              }}
            >
              Invite
            </button>
          )
        }
      />
    </Dialog>
  );
}
