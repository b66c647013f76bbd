import { waitText } from "../_lib/wait";

/**
 * "Too many attempts. Try again in 45 seconds.", counting down. It is an
 * alert, read out once when it appears; the time inside is a timer (not
 * live), so a screen reader does not repeat it every second.
 */
export function TooManyAttempts({ seconds, id }: { seconds: number; id?: string }) {
  return (
    <p id={id} className="form-error" role="alert">
      Too many attempts. Try again in{" "}
      <span role="timer" aria-live="off">
        {waitText(seconds)}
      </span>
      .
    </p>
  );
}
