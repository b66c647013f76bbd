"use client";

import { memo, useState } from "react";
import { typingText } from "../_lib/format";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { Composer, MutedNotice, ReadOnlyNotice } from "./Composer";
import type { NotifyLevel } from "../../shared/protocol";
import { ConfirmDialog, errorText } from "./Dialog";
import { InviteDialog } from "./InviteDialog";
import { MembersDialog } from "./MembersPanel";
import { MessageList } from "./MessageList";
import { PinsDialog } from "./PinsDialog";
import { RoomSettingsDialog } from "./RoomSettingsDialog";

export const RoomView = memo(function RoomView() {
  // The open room's summary: the same object until this room itself changes.
  const room = useChat((s) => s.rooms.find((r) => r.id === s.activeRoomId));
  const store = useStore();
  const [inviting, setInviting] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const [showingMembers, setShowingMembers] = useState(false);
  const [showingPins, setShowingPins] = useState(false);
  const [editing, setEditing] = useState(false);
  const [dropping, setDropping] = useState(false);
  const peerBlocked = useChat((s) => {
    const peer = s.rooms.find((r) => r.id === s.activeRoomId)?.peer;
    return peer ? s.blocked[peer.id] === true : false;
  });
  // The owner and admins change the room.
  const manages = useChat((s) => s.members[s.activeRoomId ?? ""]?.some((m) => m.user.id === s.me.id && m.role !== "member") ?? false);
  const owner = useChat((s) => s.members[s.activeRoomId ?? ""]?.some((m) => m.user.id === s.me.id && m.role === "owner") ?? false);

  if (!room) {
    return (
      <main className="room empty-room">
        <div>
          <h1>Welcome to Switchboard</h1>
          <p className="hint">Create a room, browse public rooms, or start a direct message from the sidebar.</p>
        </div>
      </main>
    );
  }

  return (
    <main
      className={dropping ? "room dropping" : "room"}
      aria-labelledby="room-title"
      // Files dropped anywhere on the room go with the next message.
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={(e) => {
        setDropping(false);
        if (e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        store.attach(room.id, [...e.dataTransfer.files]);
      }}
    >
      <header className="room-header">
        <h1 id="room-title">
          {room.kind === "group" && (
            <span className="room-icon" aria-hidden="true">
              {room.visibility === "private" ? "🔒" : "#"}
            </span>
          )}
          <span className="room-title" title={roomTitle(room)}>
            {roomTitle(room)}
          </span>
          {room.archived && <span className="archived-tag">Archived</span>}
          {room.topic && (
            <span className="room-topic" title={room.topic}>
              {room.topic}
            </span>
          )}
        </h1>
        <div className="row">
          <button className="ghost" title="The messages pinned in this room" onClick={() => setShowingPins(true)}>
            📌 Pinned
          </button>
          <button className="ghost members-toggle" onClick={() => setShowingMembers(true)}>
            Members
          </button>
          <NotifyLevelPicker roomId={room.id} level={room.notifications} />
          {room.kind === "dm" && (
            <button className="ghost" title="Hide this conversation until a new message arrives" onClick={() => void store.hideDm(room.id).catch(() => {})}>
              Hide
            </button>
          )}
          {room.kind === "group" && (
            <>
              {manages && (
                <button className="ghost" onClick={() => setEditing(true)}>
                  Settings
                </button>
              )}
              <button onClick={() => setInviting(true)}>Invite</button>
              <button className="ghost" onClick={() => setLeaving(true)}>
                Leave
              </button>
            </>
          )}
        </div>
      </header>
      <MessageList roomId={room.id} />
      <TypingIndicator roomId={room.id} />
      {room.archived ? (
        <ReadOnlyNotice>This room is archived: it is read-only.</ReadOnlyNotice>
      ) : peerBlocked ? (
        <ReadOnlyNotice>
          You blocked {roomTitle(room)}.{" "}
          <button className="link" onClick={() => void store.setBlocked(room.peer!.id, false).catch(() => {})}>
            Unblock
          </button>{" "}
          to write to them.
        </ReadOnlyNotice>
      ) : room.muted ? (
        <MutedNotice />
      ) : (
        <Composer roomId={room.id} placeholder={`Message ${room.kind === "dm" ? roomTitle(room) : `#${room.name}`}`} />
      )}
      {showingPins && <PinsDialog roomId={room.id} onClose={() => setShowingPins(false)} />}
      {showingMembers && <MembersDialog roomId={room.id} onClose={() => setShowingMembers(false)} />}
      {inviting && <InviteDialog roomId={room.id} onClose={() => setInviting(false)} />}
      {editing && <RoomSettingsDialog room={room} owner={owner} onClose={() => setEditing(false)} />}
      {leaving && <LeaveDialog roomId={room.id} name={room.name} privateRoom={room.visibility === "private"} onClose={() => setLeaving(false)} />}
    </main>
  );
});

/** What I am notified of in this room: every message, mentions only, or nothing (muted). */
function NotifyLevelPicker({ roomId, level }: { roomId: string; level: NotifyLevel }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <select
        className="notify-level"
        aria-label="Notifications"
        title={error ?? "What you are notified of in this room"}
        aria-invalid={error !== null || undefined}
        value={level}
        onChange={(e) => {
          setError(null);
          store.setNotifications(roomId, e.target.value as NotifyLevel).catch((err: unknown) => setError(errorText(err)));
        }}
      >
        <option value="all">All messages</option>
        <option value="mentions">Mentions only</option>
        <option value="none">Nothing (muted)</option>
      </select>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** "Ada is typing…": the only part of the room that typing events re-render. */
function TypingIndicator({ roomId }: { roomId: string }) {
  const text = useChat((s) => typingText(Object.keys(s.typing[roomId] ?? {}).map((id) => s.names[id] ?? "Someone")));
  return (
    <p className="typing" aria-live="polite">
      {text}
    </p>
  );
}

/** Asks before leaving: a private room can only be re-entered by invitation. */
function LeaveDialog(props: { roomId: string; name: string; privateRoom: boolean; onClose: () => void }) {
  const store = useStore();
  async function leave() {
    await store.leaveRoom(props.roomId);
    props.onClose();
  }
  return (
    <ConfirmDialog title={`Leave #${props.name}?`} confirm="Leave" onConfirm={leave} onClose={props.onClose}>
      <p className="flush">
        {props.privateRoom
          ? "This room is private: you can only come back if a member invites you again."
          : "You can join again any time from Browse rooms."}
      </p>
    </ConfirmDialog>
  );
}
