"use client";

import { useEffect, useState } from "react";
import type { User } from "../../shared/protocol";
import { ROOM_MENTION } from "../../shared/mentions";
import { useChat, useStore } from "../_lib/use-chat";

/** The `@word` being typed just before the caret, or null. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|[^\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]{0,32})$/u.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[1]!.length - 1, query: match[1]! };
}

export interface MentionOption {
  /** What goes in the text after "@": a username, or "room". */
  insert: string;
  label: string;
  detail: string;
}

const MAX_OPTIONS = 8;

/**
 * Who `@query` may mean: the room's members first (by username or display
 * name), then other people (user search), and `@room` in a group room.
 */
export function useMentionOptions(roomId: string, query: string | null): MentionOption[] {
  const store = useStore();
  const members = useChat((s) => s.members[roomId]);
  const group = useChat((s) => s.rooms.find((r) => r.id === roomId)?.kind === "group");
  const myId = useChat((s) => s.me.id);
  const [others, setOthers] = useState<User[]>([]);
  const q = query?.toLowerCase() ?? null;

  useEffect(() => {
    setOthers([]);
    if (!q) return;
    let stale = false;
    const timer = setTimeout(() => {
      store.searchUsers(q).then(
        (users) => !stale && setOthers(users),
        () => {},
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [q, store]);

  if (q === null) return [];
  const matches = (u: User) => u.username.toLowerCase().startsWith(q) || u.displayName.toLowerCase().startsWith(q);
  const fromMembers = (members ?? []).map((m) => m.user).filter((u) => u.id !== myId && matches(u) && !u.username.includes("@"));
  const seen = new Set(fromMembers.map((u) => u.id));
  const fromSearch = others.filter((u) => !seen.has(u.id) && u.id !== myId && !u.username.includes("@"));
  const options: MentionOption[] = [...fromMembers, ...fromSearch].map((u) => ({
    insert: u.username,
    label: u.displayName,
    detail: `@${u.username}${seen.has(u.id) ? "" : " · not in this room"}`,
  }));
  if (group && "room".startsWith(q)) options.push({ insert: "room", label: ROOM_MENTION, detail: "everyone in this room" });
  return options.slice(0, MAX_OPTIONS);
}

/** The suggestions under the caret's `@word`; the composer moves through them with the keyboard. */
export function MentionList(props: { options: MentionOption[]; active: number; onPick: (option: MentionOption) => void }) {
  return (
    <ul className="mention-list" role="listbox" id="mention-list" aria-label="Mention someone">
      {props.options.map((option, i) => (
        <li
          key={option.insert}
          id={`mention-option-${i}`}
          role="option"
          aria-selected={i === props.active}
          // mousedown, not click: the message box keeps its focus and caret.
          onMouseDown={(e) => {
            e.preventDefault();
            props.onPick(option);
          }}
        >
          <span className="mention-label">{option.label}</span> <span className="hint">{option.detail}</span>
        </li>
      ))}
    </ul>
  );
}
