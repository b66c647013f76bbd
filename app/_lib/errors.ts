/**
 * What the web UI says when something did not work, in plain words. The
 * server's messages are precise but written for developers ("too many
 * events; slow down"); for the codes a person meets in the ordinary course
 * of chatting, say what happened and what to do. Other codes keep the
 * server's own message, which names the problem (e.g. "join the room first").
 */
import type { ErrorBody } from "../../shared/errors";
import { MAX_BODY_LENGTH } from "../../shared/limits";

/** A refusal from the server, with its stable code. */
export class RequestError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}

const PLAIN: Partial<Record<ErrorBody["code"], string>> = {
  rate_limited: "You are sending too fast — wait a moment, then try again.",
  unavailable: "The server can’t reach its database right now. Try again in a moment.",
  internal: "Something went wrong on the server. Try again; if it keeps happening, tell whoever runs it.",
  too_large: "That is too long.",
};

/** A refusal from the server, in words for the person. */
export function plainError(error: ErrorBody): string {
  return PLAIN[error.code] ?? capitalize(error.message);
}

/** Anything thrown by a request, in words for the person. */
export function errorText(err: unknown): string {
  if (err instanceof RequestError) return plainError(err.body);
  if (err instanceof Error && /timed out/.test(err.message)) return "The server did not answer. Check your connection and try again.";
  return err instanceof Error ? capitalize(err.message) : "Something went wrong.";
}

/** Why an upload failed: for a file too large or of a refused type, the server's own words name the limit. */
export function uploadErrorText(err: unknown): string {
  if (err instanceof RequestError && (err.body.code === "too_large" || err.body.code === "unsupported_media_type")) return capitalize(err.body.message);
  return errorText(err);
}

function capitalize(text: string): string {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** What a message box says of text past the body limit. */
export function overLimitText(text: string): string {
  return `${text.length - MAX_BODY_LENGTH} characters over the ${MAX_BODY_LENGTH.toLocaleString()} limit.`;
}
