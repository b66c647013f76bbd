"use client";

import { memo } from "react";
import type { Member } from "../../shared/protocol";
import { useChat, useShallow } from "../_lib/use-chat";
import { Dialog } from "./Dialog";

const NO_MEMBERS: Member[] = [];

/** Who is in the active room, online first: beside the room on wide screens. */
export const MembersPanel = memo(function MembersPanel() {
  const activeRoomId = useChat((s) => s.activeRoomId);
  if (!activeRoomId) return <aside className="members" />;
  return (
    <aside className="members" aria-label="Members">
      <MembersList roomId={activeRoomId} />
    </aside>
  );
});

/** The same list in a dialog, for screens too narrow for the panel (a phone). */
export function MembersDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  return (
    <Dialog title="Members" onClose={onClose}>
      <div className="members-dialog">
        <MembersList roomId={roomId} />
      </div>
    </Dialog>
  );
}

function MembersList({ roomId }: { roomId: string }) {
  const list = useChat((s) => s.members[roomId]) ?? NO_MEMBERS;
  // One flag per member: presence changes of people outside the room do not re-render the list.
  const online = useChat(useShallow((s) => list.map((m) => s.online[m.user.id] === true)));
  const here = list.filter((_, i) => online[i]);
  const away = list.filter((_, i) => !online[i]);
  return (
    <>
      <h2>Online — {here.length}</h2>
      <ul aria-label="Online members">
        {here.map((m) => (
          <li key={m.user.id}>
            <span className="dot online" aria-hidden="true" />
            <span className="member-name" title={m.user.displayName}>
              {m.user.displayName}
            </span>
            {m.role === "owner" && <span className="hint"> · owner</span>}
          </li>
        ))}
      </ul>
      {away.length > 0 && (
        <>
          <h2>Offline — {away.length}</h2>
          <ul aria-label="Offline members">
            {away.map((m) => (
              <li key={m.user.id} className="away">
                <span className="dot" aria-hidden="true" />
                <span className="member-name" title={m.user.displayName}>
                  {m.user.displayName}
                </span>
                {m.role === "owner" && <span className="hint"> · owner</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
