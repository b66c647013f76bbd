"use client";

import { memo, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MAX_BODY_LENGTH } from "../../shared/limits";
import { useStore } from "../_lib/use-chat";

/** Enter sends, Shift+Enter starts a new line; drafts are kept per room. A quiet line below says how to format. */
export const Composer = memo(function Composer({ roomId, placeholder }: { roomId: string; placeholder: string }) {
  const store = useStore();
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const text = drafts[roomId] ?? "";
  const input = useRef<HTMLTextAreaElement>(null);
  const tooLong = text.length > MAX_BODY_LENGTH;

  useEffect(() => input.current?.focus(), [roomId]);

  function send(event?: FormEvent) {
    event?.preventDefault();
    if (!text.trim() || tooLong) return;
    store.send(roomId, text);
    setDrafts((d) => ({ ...d, [roomId]: "" }));
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "ArrowUp" && text === "" && store.editLast(roomId)) {
      // As in Slack: Up in an empty composer edits your last message.
      event.preventDefault();
    }
  }

  return (
    <form className="composer" onSubmit={send}>
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={1}
        value={text}
        placeholder={placeholder}
        aria-invalid={tooLong || undefined}
        aria-describedby={tooLong ? "composer-error" : undefined}
        onChange={(e) => {
          setDrafts((d) => ({ ...d, [roomId]: e.target.value }));
          store.setTyping(roomId, e.target.value.length > 0);
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="primary" disabled={!text.trim() || tooLong}>
        Send
      </button>
      {tooLong && (
        <p id="composer-error" className="form-error">
          {text.length - MAX_BODY_LENGTH} characters over the {MAX_BODY_LENGTH.toLocaleString()} limit.
        </p>
      )}
      {/* The formatting messages show (app/_lib/markdown.ts), as it is typed. */}
      <p className="composer-hint hint">**bold** _italic_ ~~strike~~ `code` · Shift+Enter for a new line</p>
    </form>
  );
});
