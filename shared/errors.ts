/**
 * The one catalogue of error codes. Every error a client, a backend or a log
 * sees carries one of these codes; messages are for humans and may change,
 * codes never do (they are part of the realtime contract v1).
 */
import { z } from "zod";

export const ERROR_CODES = [
  "invalid_payload",
  "unauthorized",
  "invalid_credentials",
  "forbidden",
  "not_found",
  "username_taken",
  "too_large",
  "rate_limited",
  "too_many_connections",
  "limit_exceeded",
  "unsupported_media_type",
  "unknown_event",
  "missing_ack",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error object every transport sends: `{code, message}`, and `retryAfter` (seconds until a retry can succeed) with `rate_limited`. */
export const errorBodyShape = z.object({
  code: z.enum(ERROR_CODES).describe("stable error code"),
  message: z.string().describe("for humans; may change"),
  retryAfter: z.number().int().positive().optional().describe("with rate_limited: seconds until a retry can succeed"),
});

export type ErrorBody = z.output<typeof errorBodyShape>;
