"use client";

import { memo, useState, type ReactNode } from "react";
import type { RoomSummary } from "../../shared/protocol";
import { UNREAD_CAP } from "../../shared/limits";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { Avatar } from "./Avatar";
import { BrowseDialog } from "./BrowseDialog";
import { DmDialog } from "./DmDialog";
import { NewRoomDialog } from "./NewRoomDialog";
import { ThreadsDialog } from "./ThreadsDialog";

export const Sidebar = memo(function Sidebar() {
  const rooms = useChat((s) => s.rooms);
  const [dialog, setDialog] = useState<"new" | "browse" | "dm" | "threads" | null>(null);
  const groups = rooms.filter((r) => r.kind === "group");
  const dms = rooms.filter((r) => r.kind === "dm");

  return (
    <nav className="sidebar" aria-label="Rooms and direct messages">
      <div className="sidebar-actions">
        <button className="primary" onClick={() => setDialog("new")}>
          New room
        </button>
        <button onClick={() => setDialog("browse")}>Browse rooms</button>
      </div>
      <NotificationPermission />
      <ThreadsLink onOpen={() => setDialog("threads")} />
      <RoomSection title="Rooms" rooms={groups} empty="No rooms yet: create one or browse." />
      <RoomSection
        title="Direct messages"
        rooms={dms}
        empty="No conversations yet."
        action={
          <button className="link" onClick={() => setDialog("dm")}>
            New message
          </button>
        }
      />
      {dialog === "new" && <NewRoomDialog onClose={() => setDialog(null)} />}
      {dialog === "browse" && <BrowseDialog onClose={() => setDialog(null)} />}
      {dialog === "dm" && <DmDialog onClose={() => setDialog(null)} />}
      {dialog === "threads" && <ThreadsDialog onClose={() => setDialog(null)} />}
    </nav>
  );
});

/** "Threads": the threads I take part in, with how many have replies I have not read. */
const ThreadsLink = memo(function ThreadsLink({ onOpen }: { onOpen: () => void }) {
  const unread = useChat((s) => Object.values(s.followed).filter((t) => t.unread > 0).length);
  return (
    <button className={`room-link threads-link ${unread > 0 ? "has-unread" : ""}`} onClick={onOpen}>
      <span className="room-icon" aria-hidden="true">
        ⤷
      </span>
      <span className="room-name">Threads</span>
      {unread > 0 && (
        <span className="badge" aria-label={`${unread} ${unread === 1 ? "thread" : "threads"} with unread replies`}>
          {unread}
        </span>
      )}
    </button>
  );
});

function RoomSection(props: { title: string; rooms: RoomSummary[]; empty: string; action?: ReactNode }) {
  return (
    <section className="room-section">
      <h2>
        {props.title}
        {props.action}
      </h2>
      {props.rooms.length === 0 ? (
        <p className="hint empty">{props.empty}</p>
      ) : (
        <ul>
          {props.rooms.map((room) => (
            <RoomLink key={room.id} room={room} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** One room in the list; re-renders when this room, its being open, or its peer's presence changes. */
const RoomLink = memo(function RoomLink({ room }: { room: RoomSummary }) {
  const store = useStore();
  const active = useChat((s) => s.activeRoomId === room.id);
  const peerOnline = useChat((s) => (room.peer ? s.online[room.peer.id] === true : false));
  return (
    <li>
      <button
        className={`room-link ${active ? "active" : ""} ${room.unread > 0 && room.notifications !== "none" ? "has-unread" : ""} ${
          room.notifications === "none" ? "muted" : ""
        }`}
        aria-current={active ? "page" : undefined}
        onClick={() => store.openRoom(room.id)}
      >
        {room.kind === "dm" && room.peer ? (
          <span className="peer" role="img" aria-label={peerOnline ? "online" : "offline"}>
            <Avatar person={room.peer} size={20} dot />
          </span>
        ) : room.kind === "dm" ? (
          <span className={`dot ${peerOnline ? "online" : ""}`} role="img" aria-label={peerOnline ? "online" : "offline"} />
        ) : (
          <span className="room-icon" aria-hidden="true">
            {room.visibility === "private" ? "🔒" : "#"}
          </span>
        )}
        <span className="room-name" title={roomTitle(room)}>
          {roomTitle(room)}
        </span>
        {room.mentions > 0 && (
          <span className="badge mention-badge" aria-label={`${room.mentions} ${room.mentions === 1 ? "mention" : "mentions"}`}>
            @{room.mentions >= UNREAD_CAP ? `${UNREAD_CAP - 1}+` : room.mentions}
          </span>
        )}
        {room.unread > 0 && (
          <span className={`badge ${room.notifications === "all" ? "" : "quiet"}`} aria-label={`${room.unread} unread`}>
            {room.unread >= UNREAD_CAP ? `${UNREAD_CAP - 1}+` : room.unread}
          </span>
        )}
      </button>
    </li>
  );
});

/**
 * Asks for permission to show notifications while the tab is hidden — from
 * a button the person presses, never on load (browsers block, and people
 * resent, a prompt nobody asked for). Gone once they answered.
 */
function NotificationPermission() {
  const [permission, setPermission] = useState<NotificationPermission | "unsupported">(() =>
    typeof Notification === "undefined" ? "unsupported" : Notification.permission,
  );
  if (permission !== "default") return null;
  return (
    <div className="notify-banner" role="region" aria-label="Notifications">
      <p className="flush">Get notified of new messages while Switchboard is in the background.</p>
      <button className="link" onClick={() => void Notification.requestPermission().then(setPermission)}>
        Turn on notifications
      </button>
    </div>
  );
}
