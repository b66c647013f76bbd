"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { User } from "../../shared/protocol";
import { currentUser, signOut, type SignOutAction } from "../_lib/auth";
import { ChatStore } from "../_lib/chat-store";
import { signInUrl, type SessionEnd } from "../_lib/session-notice";
import { ChatContext, roomTitle, useChat } from "../_lib/use-chat";
import { AccountMenu } from "./AccountMenu";
import { MembersPanel } from "./MembersPanel";
import { RoomView } from "./RoomView";
import { QuickSwitcher } from "./QuickSwitcher";
import { SearchDialog } from "./SearchDialog";
import { ThreadPanel } from "./ThreadPanel";
import { Sidebar } from "./Sidebar";

/** Loads the signed-in user, opens the connection, and lays out the chat. */
export function ChatApp() {
  const [store, setStore] = useState<ChatStore | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  // While this person signs out, the server ends this session too: that
  // `session:ended` is expected, not news for the sign-in page.
  const leaving = useRef<{ endedMeanwhile?: SessionEnd } | null>(null);

  useEffect(() => {
    let created: ChatStore | undefined;
    let cancelled = false;
    currentUser().then(
      (user: User | null) => {
        if (cancelled) return;
        if (!user) return location.replace("/login");
        created = new ChatStore(user, {
          onSessionEnded: (reason) => {
            if (leaving.current) leaving.current.endedMeanwhile = reason;
            else location.replace(signInUrl(reason));
          },
        });
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

  const leave: SignOutAction = useCallback(
    async (everywhere) => {
      leaving.current = {};
      const result = await signOut({ everywhere });
      const ended = leaving.current.endedMeanwhile;
      // Signing out of this browser alone goes to sign-in even if the server
      // was not reached (as before); "everywhere" must not pretend it worked.
      if (!result.ok && everywhere && !ended) {
        leaving.current = null;
        return result;
      }
      store?.close();
      location.assign(everywhere ? signInUrl(result.ok ? "signed_out_everywhere" : ended) : "/login");
      return null;
    },
    [store],
  );

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
      <ChatLayout onSignOut={leave} />
    </ChatContext.Provider>
  );
}

function ChatLayout({ onSignOut }: { onSignOut: SignOutAction }) {
  const me = useChat((s) => s.me);
  const status = useChat((s) => s.status);
  const activeRoomId = useChat((s) => s.activeRoomId);
  const openThread = useChat((s) => s.openThread);
  const [menuOpen, setMenuOpen] = useState(false);
  const [searching, setSearching] = useState(false);
  const [switching, setSwitching] = useState(false);

  // Ctrl+K (⌘K on a Mac) jumps to a conversation, as in Slack.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setSwitching(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const title = useChat((s) => {
    const room = s.rooms.find((r) => r.id === s.activeRoomId);
    const unread = s.rooms.reduce((sum, r) => sum + r.unread, 0);
    const name = room ? (room.kind === "dm" ? roomTitle(room) : `#${room.name}`) : null;
    return `${unread > 0 ? `(${unread}) ` : ""}${name ? `${name} — ` : ""}Switchboard`;
  });

  // The browser tab says where you are and how much is unread.
  useEffect(() => {
    document.title = title;
  }, [title]);

  // On a phone the sidebar is a drawer; picking a room closes it.
  useEffect(() => setMenuOpen(false), [activeRoomId]);

  return (
    <div
      className={`chat ${menuOpen || !activeRoomId ? "menu-open" : ""} ${openThread && openThread.roomId === activeRoomId ? "thread-open" : ""}`}
      data-status={status}
    >
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
        <button className="topbar-search" aria-label="Search messages" onClick={() => setSearching(true)}>
          <span aria-hidden="true">⌕</span>
          <span className="topbar-search-label" aria-hidden="true">
            Search messages
          </span>
        </button>
        <AccountMenu me={me} onSignOut={onSignOut} />
      </header>
      {searching && <SearchDialog onClose={() => setSearching(false)} />}
      {switching && <QuickSwitcher onClose={() => setSwitching(false)} />}
      <Sidebar />
      <RoomView />
      {openThread && openThread.roomId === activeRoomId ? <ThreadPanel roomId={openThread.roomId} rootId={openThread.rootId} /> : <MembersPanel />}
    </div>
  );
}
