import type { KeyboardEvent } from "react";

/** Whether a key press in a message box sends it: Enter, not Shift+Enter (a new line), not while an input method composes. */
export function sendsMessage(event: KeyboardEvent): boolean {
  return event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing;
}
