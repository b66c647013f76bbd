"use client";

import { Avatar, PersonName } from "./Avatar";
import { memo, useState } from "react";
import type { Member } from "../../shared/protocol";
import { useChat, useShallow, useStore } from "../_lib/use-chat";
import { ConfirmDialog, Dialog, errorText } from "./Dialog";

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

/**
 * One member: online or not, their role, whether muted and, for who may:
 * making them an admin or a member again (the owner), muting and removing
 * them (the owner anyone, an admin members).
 */
function MemberRow({ roomId, member: m, online, myRole }: { roomId: string; member: Member; online: boolean; myRole: Member["role"] | null }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const [ban, setBan] = useState(false);
  const roomName = useChat((s) => s.rooms.find((r) => r.id === roomId)?.name ?? "");
  const isMe = useChat((s) => s.me.id === m.user.id);
  const next = m.role === "admin" ? "member" : "admin";
  const mayRemove = !isMe && (myRole === "owner" ? m.role !== "owner" : myRole === "admin" && m.role === "member");
  return (
    <li className={online ? undefined : "away"}>
      <Avatar person={m.user} size={24} dot />
      <PersonName person={m.user} className="member-name" />
      {m.role !== "member" && <span className="hint"> · {m.role}</span>}
      {m.muted && <span className="hint muted-tag"> · muted</span>}
      {(mayRemove || (myRole === "owner" && m.role !== "owner")) && (
        <span className="member-action" title={error ?? undefined}>
          {myRole === "owner" && m.role !== "owner" && (
            <button className="link" onClick={() => store.setRole(roomId, m.user.id, next).catch((err: unknown) => setError(errorText(err)))}>
              {next === "admin" ? "Make admin" : "Remove admin"}
            </button>
          )}
          {mayRemove && (
            <button
              className="link"
              title={m.muted ? "Let them write in this room again" : "Make the room read-only for them: they still read it"}
              onClick={() => store.setMuted(roomId, m.user.id, !m.muted).catch((err: unknown) => setError(errorText(err)))}
            >
              {m.muted ? "Unmute" : "Mute"}
            </button>
          )}
          {mayRemove && (
            <button className="link" onClick={() => setRemoving(true)}>
              Remove
            </button>
          )}
        </span>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${m.user.displayName} from #${roomName}?`}
          confirm="Remove"
          danger
          onConfirm={async () => {
            await store.removeMember(roomId, m.user.id, ban);
            setRemoving(false);
          }}
          onClose={() => setRemoving(false)}
        >
          <p className="flush">They stop seeing the room, and its timeline says you removed them.</p>
          <label className="inline">
            <input type="checkbox" checked={ban} onChange={(e) => setBan(e.target.checked)} /> Also ban them: they cannot join or be invited
            again until unbanned (in the room's Settings)
          </label>
        </ConfirmDialog>
      )}
    </li>
  );
}

function MembersList({ roomId }: { roomId: string }) {
  const list = useChat((s) => s.members[roomId]) ?? NO_MEMBERS;
  // One flag per member: presence changes of people outside the room do not re-render the list.
  const online = useChat(useShallow((s) => list.map((m) => s.online[m.user.id] === true)));
  const myRole = useChat((s) => list.find((m) => m.user.id === s.me.id)?.role ?? null);
  const here = list.filter((_, i) => online[i]);
  const away = list.filter((_, i) => !online[i]);
  return (
    <>
      <h2>Online — {here.length}</h2>
      <ul aria-label="Online members">
        {here.map((m) => (
          <MemberRow key={m.user.id} roomId={roomId} member={m} online myRole={myRole} />
        ))}
      </ul>
      {away.length > 0 && (
        <>
          <h2>Offline — {away.length}</h2>
          <ul aria-label="Offline members">
            {away.map((m) => (
              <MemberRow key={m.user.id} roomId={roomId} member={m} online={false} myRole={myRole} />
            ))}
          </ul>
        </>
      )}
    </>
  );
}
