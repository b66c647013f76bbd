"use client";

import { memo } from "react";
import type { Member } from "../../shared/protocol";
import { useChat, useShallow } from "../_lib/use-chat";

const NO_MEMBERS: Member[] = [];

/** Who is in the active room, online first. */
export const MembersPanel = memo(function MembersPanel() {
  const activeRoomId = useChat((s) => s.activeRoomId);
  const list = useChat((s) => (activeRoomId ? s.members[activeRoomId] : undefined)) ?? NO_MEMBERS;
  // One flag per member: presence changes of people outside the room do not re-render the panel.
  const online = useChat(useShallow((s) => list.map((m) => s.online[m.user.id] === true)));
  if (!activeRoomId) return <aside className="members" />;
  const here = list.filter((_, i) => online[i]);
  const away = list.filter((_, i) => !online[i]);
  return (
    <aside className="members" aria-label="Members">
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
    </aside>
  );
});
