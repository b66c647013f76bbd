"use client";

import { createContext, useContext, useRef, useSyncExternalStore } from "react";
import type { ChatState, ChatStore } from "./chat-store";

export const ChatContext = createContext<ChatStore | null>(null);

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
 * const timeline = useChatSelector((s) => s.timelines[roomId]);
 * const typists = useChatSelector((s) => Object.keys(s.typing[roomId] ?? {}), shallowEqual);
 *
 * The store replaces every object it changes and keeps the others, so
 * selecting an object (a timeline, a room) by reference is enough. A selector
 * that builds a new value on each call (an array, a filtered list) must pass
 * `shallowEqual`, or return a string, number or boolean.
 */
export function useChatSelector<T>(select: (state: ChatState) => T, isEqual: (a: T, b: T) => boolean = Object.is): T {
  const store = useStore();
  // The last selection and what it was computed from. useSyncExternalStore
  // re-renders whenever the snapshot is a different value (Object.is), so an
  // equal selection must come back as the very same value. A new `select`
  // (an inline closure on each render) recomputes, but an equal result still
  // returns the old value.
  const last = useRef<{ state: ChatState; select: (state: ChatState) => T; value: T } | null>(null);
  const snapshot = (): T => {
    const state = store.getState();
    const prev = last.current;
    if (prev && prev.state === state && prev.select === select) return prev.value;
    const next = select(state);
    const value = prev && isEqual(prev.value, next) ? prev.value : next;
    last.current = { state, select, value };
    return value;
  };
  return useSyncExternalStore(store.subscribe, snapshot, snapshot);
}

/** Equal arrays (same items in order) or plain objects (same keys and values), compared one level deep. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every(
    (k) => Object.prototype.hasOwnProperty.call(b, k) && Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** How a room is called in the UI: its name, or the other person for a DM. */
export function roomTitle(room: { kind: string; name: string; peer?: { displayName: string } }): string {
  return room.kind === "dm" ? (room.peer?.displayName ?? "Direct message") : room.name;
}
