"use client";

import { useChat } from "../_lib/use-chat";

/** Who is in the active room, online first. */
export function MembersPanel() {
  const { activeRoomId, members, online } = useChat();
  const list = activeRoomId ? (members[activeRoomId] ?? []) : [];
  if (!activeRoomId) return <aside className="members" />;
  const here = list.filter((m) => online[m.user.id]);
  const away = list.filter((m) => !online[m.user.id]);
  return (
    <aside className="members" aria-label="Members">
      <h2>Online — {here.length}</h2>
      <ul aria-label="Online members">
        {here.map((m) => (
          <li key={m.user.id}>
            <span className="dot online" aria-hidden="true" /> {m.user.displayName}
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
                <span className="dot" aria-hidden="true" /> {m.user.displayName}
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
