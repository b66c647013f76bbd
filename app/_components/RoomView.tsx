"use client";

import { useState } from "react";
import { roomTitle, useChat, useStore } from "../_lib/use-chat";
import { Composer } from "./Composer";
import { InviteDialog } from "./InviteDialog";
import { MessageList } from "./MessageList";

export function RoomView() {
  const { rooms, activeRoomId, typing, names } = useChat();
  const store = useStore();
  const [inviting, setInviting] = useState(false);
  const room = rooms.find((r) => r.id === activeRoomId);

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

  const typists = Object.keys(typing[room.id] ?? {}).map((id) => names[id] ?? "Someone");
  return (
    <main className="room" aria-labelledby="room-title">
      <header className="room-header">
        <h1 id="room-title">
          {room.kind === "group" && (
            <span className="room-icon" aria-hidden="true">
              {room.visibility === "private" ? "🔒" : "#"}
            </span>
          )}
          {roomTitle(room)}
        </h1>
        {room.kind === "group" && (
          <div className="row">
            <button onClick={() => setInviting(true)}>Invite</button>
            <button className="ghost" onClick={() => void store.leaveRoom(room.id)}>
              Leave
            </button>
          </div>
        )}
      </header>
      <MessageList roomId={room.id} />
      <p className="typing" aria-live="polite">
        {typists.length === 1
          ? `${typists[0]} is typing…`
          : typists.length === 2
            ? `${typists[0]} and ${typists[1]} are typing…`
            : typists.length > 2
              ? "Several people are typing…"
              : ""}
      </p>
      <Composer roomId={room.id} placeholder={`Message ${room.kind === "dm" ? roomTitle(room) : `#${room.name}`}`} />
      {inviting && <InviteDialog roomId={room.id} onClose={() => setInviting(false)} />}
    </main>
  );
}
