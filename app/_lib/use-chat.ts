"use client";

import { createContext, useContext, useSyncExternalStore } from "react";
import type { ChatState, ChatStore } from "./chat-store";

export const ChatContext = createContext<ChatStore | null>(null);

export function useStore(): ChatStore {
  const store = useContext(ChatContext);
  if (!store) throw new Error("useStore outside <ChatContext>");
  return store;
}

/** The current chat state; re-renders when it changes. */
export function useChat(): ChatState {
  const store = useStore();
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}

/** How a room is called in the UI: its name, or the other person for a DM. */
export function roomTitle(room: { kind: string; name: string; peer?: { displayName: string } }): string {
  return room.kind === "dm" ? (room.peer?.displayName ?? "Direct message") : room.name;
}
