"use client";

import { useEffect, useState } from "react";
import type { User } from "../../shared/protocol";
import { currentUser, signOut } from "../_lib/auth";
import { ChatStore } from "../_lib/chat-store";
import { ChatContext, useChatSelector } from "../_lib/use-chat";
import { MembersPanel } from "./MembersPanel";
import { RoomView } from "./RoomView";
import { Sidebar } from "./Sidebar";

/** Loads the signed-in user, opens the connection, and lays out the chat. */
export function ChatApp() {
  const [store, setStore] = useState<ChatStore | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    let created: ChatStore | undefined;
    let cancelled = false;
    currentUser().then(
      (user: User | null) => {
        if (cancelled) return;
        if (!user) return location.replace("/login");
        created = new ChatStore(user, { onUnauthorized: () => location.replace("/login") });
        setStore(created);
      },
      () => setFailure("Can’t reach the server. Check your connection, then reload the page."),
    );
    (window as { __switchboardMounted?: boolean }).__switchboardMounted = true;
    return () => {
      cancelled = true;
      created?.close();
    };
  }, []);

  if (failure) {
    return (
      <main className="centered" role="alert">
        <p>{failure}</p>
        <button className="primary" onClick={() => location.reload()}>
          Reload
        </button>
      </main>
    );
  }
  if (!store) {
    return (
      <main className="centered" aria-busy="true">
        <p className="hint">Loading…</p>
      </main>
    );
  }
  return (
    <ChatContext.Provider value={store}>
      <ChatLayout />
    </ChatContext.Provider>
  );
}

function ChatLayout() {
  const me = useChatSelector((s) => s.me);
  const status = useChatSelector((s) => s.status);
  const activeRoomId = useChatSelector((s) => s.activeRoomId);
  const [menuOpen, setMenuOpen] = useState(false);

  // On a phone the sidebar is a drawer; picking a room closes it.
  useEffect(() => setMenuOpen(false), [activeRoomId]);

  return (
    <div className={`chat ${menuOpen || !activeRoomId ? "menu-open" : ""}`} data-status={status}>
      <header className="topbar">
        <button
          className="icon menu-toggle"
          aria-label="Rooms"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((o) => !o)}
        >
          ☰
        </button>
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          Switchboard
        </span>
        <span className={`status status-${status}`} role="status">
          {status === "online" ? "" : status === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
        <span className="me" title={`Signed in as ${me.username}`}>
          {me.displayName}
        </span>
        <button
          className="ghost"
          onClick={async () => {
            await signOut();
            location.assign("/login");
          }}
        >
          Sign out
        </button>
      </header>
      <Sidebar />
      <RoomView />
      <MembersPanel />
    </div>
  );
}
