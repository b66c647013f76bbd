"use client";

import { useEffect, useRef, type ReactNode } from "react";

/** A modal <dialog>: focus moves in, Esc and the close button close it. */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="dialog-title" onClose={props.onClose}>
      <header>
        <h2 id="dialog-title">{props.title}</h2>
        <button className="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message.charAt(0).toUpperCase() + err.message.slice(1) : "Something went wrong.";
}
