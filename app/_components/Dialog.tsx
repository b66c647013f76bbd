"use client";

import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { errorText } from "../_lib/errors";

/**
 * A modal <dialog>: focus moves in (to the element marked `data-autofocus`,
 * else the first focusable one), Esc and the close button close it, and focus
 * goes back where it was.
 *
 * React's `autoFocus` does not work inside it: React focuses the element as it
 * mounts, while the dialog is still closed (nothing in it can take focus), and
 * renders no `autofocus` attribute for showModal() to find.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Its own id: a dialog may open over another (asking before deleting, from Settings).
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) {
      dialog.showModal();
      dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className={props.wide ? "dialog wide" : "dialog"} aria-labelledby={titleId} onClose={props.onClose}>
      <header>
        <h2 id={titleId}>{props.title}</h2>
        <button className="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

/**
 * After a dialog that opened a room closes: the message box takes focus
 * (closing a dialog gives focus back to the button that opened it, so this
 * waits for that first).
 */
export function focusComposer(): void {
  setTimeout(() => document.getElementById("composer-input")?.focus(), 0);
}

export { errorText };

/**
 * Asks before doing something that cannot be undone. `onConfirm` does it:
 * the button is disabled meanwhile (a double click does it once), and what
 * it throws is shown in the dialog, in plain words; it closes the dialog
 * itself when it is done (or leaves the page).
 */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirm: string;
  danger?: boolean;
  /** The confirm button waits for something (a name typed, say). */
  disabled?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run() {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div className="stack">
        {props.children}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="row end">
          <button type="button" onClick={props.onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className={props.danger ? "primary danger" : "primary"} disabled={busy || props.disabled} onClick={() => void run()}>
            {props.confirm}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
