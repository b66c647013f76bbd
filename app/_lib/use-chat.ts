"use client";

import { createContext, useContext } from "react";
import { useStore as useZustand } from "zustand";
import type { ChatState, ChatStore } from "./chat-store";

export { useShallow } from "zustand/react/shallow";

export const ChatContext = createContext<ChatStore | null>(null);

/** The chat store, for its methods (`send`, `openRoom`…). */
export function useStore(): ChatStore {
  const store = useContext(ChatContext);
  if (!store) throw new Error("useStore outside <ChatContext>");
  return store;
}

/**
 * The slice of the chat state a component shows; it re-renders only when
 * that slice changes, not on every presence or typing event.
 *
 * @example
 * const timeline = useChat((s) => s.timelines[roomId]);
 * const typists = useChat(useShallow((s) => Object.keys(s.typing[roomId] ?? {})));
 *
 * The store replaces every object it changes and keeps the others, so
 * selecting an object (a timeline, a room) by reference is enough. A selector
 * that builds a new value on each call (an array, a filtered list) goes
 * through `useShallow`, or returns a string, number or boolean.
 */
export function useChat<T>(select: (state: ChatState) => T): T {
  return useZustand(useStore().state, select);
}

/** How a room is called in the UI: its name, or the other person for a DM. */
export function roomTitle(room: { kind: string; name: string; peer?: { displayName: string } }): string {
  return room.kind === "dm" ? (room.peer?.displayName ?? "Direct message") : room.name;
}
