"use client";

import { memo, useEffect, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { MAX_BODY_LENGTH } from "../../shared/limits";
import { overLimitText } from "../_lib/errors";
import { sendsMessage } from "../_lib/keys";
import { useChat, useStore } from "../_lib/use-chat";
import { UploadTray } from "./Attachments";
import { mentionAt, MentionList, type MentionOption, useMentionOptions } from "./MentionPicker";

/**
 * Enter sends, Shift+Enter starts a new line; drafts are kept per room. A
 * quiet line below says how to format. Typing `@` offers people to mention
 * (↑/↓ to choose, Enter or Tab to take, Esc to dismiss). Files come by the
 * Attach button, by pasting, or by dropping them on the room (RoomView); they
 * upload at once and go with the next message, whose text is then their caption.
 */
export const Composer = memo(function Composer({ roomId, placeholder }: { roomId: string; placeholder: string }) {
  const store = useStore();
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const text = drafts[roomId] ?? "";
  const input = useRef<HTMLTextAreaElement>(null);
  const tooLong = text.length > MAX_BODY_LENGTH;
  const [caret, setCaret] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const typed = mentionAt(text, caret);
  const mention = typed && typed.start !== dismissed ? typed : null;
  const options = useMentionOptions(roomId, mention?.query ?? null);
  const suggesting = mention !== null && options.length > 0;
  const uploads = useChat((s) => s.uploads[roomId]);
  const filePicker = useRef<HTMLInputElement>(null);
  const uploading = uploads?.some((u) => u.status === "uploading") ?? false;
  const files = uploads?.some((u) => u.status === "done") ?? false;
  // Files alone may go without a caption; none go while one is still uploading.
  const canSend = (text.trim() !== "" || files) && !tooLong && !uploading;

  useEffect(() => input.current?.focus(), [roomId]);
  useEffect(() => setActive(0), [mention?.query]);

  function pick(option: MentionOption) {
    if (!mention) return;
    const next = `${text.slice(0, mention.start)}@${option.insert} ${text.slice(caret)}`;
    const at = mention.start + option.insert.length + 2;
    setDrafts((d) => ({ ...d, [roomId]: next }));
    setCaret(at);
    requestAnimationFrame(() => input.current?.setSelectionRange(at, at));
  }

  function send(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    store.send(roomId, text);
    setDrafts((d) => ({ ...d, [roomId]: "" }));
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (suggesting && ["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(event.key) && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (event.key === "ArrowDown") setActive((i) => (i + 1) % options.length);
      else if (event.key === "ArrowUp") setActive((i) => (i - 1 + options.length) % options.length);
      else if (event.key === "Escape") setDismissed(mention.start);
      else pick(options[Math.min(active, options.length - 1)]!);
      return;
    }
    if (sendsMessage(event)) {
      event.preventDefault();
      send();
    } else if (event.key === "ArrowUp" && text === "" && store.editLast(roomId)) {
      // As in Slack: Up in an empty composer edits your last message.
      event.preventDefault();
    }
  }

  /** Pasted files (a screenshot, files copied in a file manager) are attached; pasted text is typed as usual. */
  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = [...event.clipboardData.files];
    if (pasted.length === 0) return;
    event.preventDefault();
    store.attach(roomId, pasted);
  }

  return (
    <form className="composer" onSubmit={send}>
      <UploadTray roomId={roomId} />
      <input
        ref={filePicker}
        type="file"
        multiple
        hidden
        aria-hidden="true"
        tabIndex={-1}
        data-testid="file-input"
        onChange={(e) => {
          store.attach(roomId, [...(e.target.files ?? [])]);
          e.target.value = "";
        }}
      />
      <button type="button" className="ghost attach" aria-label="Attach files" title="Attach files (or paste, or drop them here)" onClick={() => filePicker.current?.click()}>
        📎
      </button>
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
        aria-autocomplete="list"
        aria-controls={suggesting ? "mention-list" : undefined}
        aria-expanded={suggesting}
        aria-activedescendant={suggesting ? `mention-option-${active}` : undefined}
        onChange={(e) => {
          setDrafts((d) => ({ ...d, [roomId]: e.target.value }));
          setCaret(e.target.selectionStart);
          store.setTyping(roomId, e.target.value.length > 0);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      {suggesting && <MentionList options={options} active={active} onPick={pick} />}
      <button type="submit" className="primary" disabled={!canSend}>
        Send
      </button>
      {tooLong && (
        <p id="composer-error" className="form-error">
          {overLimitText(text)}
        </p>
      )}
      {/* The formatting messages show (app/_lib/markdown.ts), as it is typed. */}
      <p className="composer-hint hint">**bold** _italic_ ~~strike~~ `code` · Shift+Enter for a new line</p>
    </form>
  );
});

/** In place of the message box for a member an admin muted: they still read the room. */
export function MutedNotice() {
  return <ReadOnlyNotice>You can’t send messages here: an admin muted you.</ReadOnlyNotice>;
}

/** In place of the message box where nobody may write: an archived room, a DM with someone blocked. */
export function ReadOnlyNotice({ children }: { children: ReactNode }) {
  return (
    <p className="composer muted-notice" role="status">
      {children}
    </p>
  );
}
