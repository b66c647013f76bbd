import { ZodError, type z } from "zod";
import type { ErrorBody, ErrorCode } from "../../shared/errors";
import { isDatabaseUnavailable } from "../db/errors";

export type { ErrorCode };

/** HTTP status for each code; transports map errors through here only. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_payload: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  username_taken: 409,
  too_large: 413,
  rate_limited: 429,
  too_many_connections: 429,
  limit_exceeded: 403,
  unsupported_media_type: 415,
  unknown_event: 400,
  missing_ack: 400,
  unavailable: 503,
  internal: 500,
};

/**
 * An expected failure with a stable code. Core services throw these; the
 * transports turn them into an ack or an HTTP response. Anything else thrown
 * is a bug or an outage and is answered as `internal` (details only logged).
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds until a retry can succeed (rate limits); sent as `retryAfter` and HTTP `Retry-After`. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return this.retryAfter === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfter: this.retryAfter };
  }
}

/** Turns a zod validation failure into `invalid_payload` (or `too_large` for an over-long string). */
export function fromZodError(err: ZodError): AppError {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  if (issue?.code === "too_big" && issue.origin === "string") {
    return new AppError("too_large", `${where}${issue.message}`);
  }
  return new AppError("invalid_payload", `${where}${issue?.message ?? "invalid payload"}`);
}

/** Validates input with a shared schema; a mismatch throws `invalid_payload` (or `too_large`). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/** Normalises anything thrown into an AppError; `isBug` tells the caller to log it loudly. */
export function toAppError(err: unknown): { error: AppError; isBug: boolean } {
  if (err instanceof AppError) return { error: err, isBug: false };
  if (err instanceof ZodError) return { error: fromZodError(err), isBug: false };
  if (isDatabaseUnavailable(err)) {
    return { error: new AppError("unavailable", "the database is unavailable; try again"), isBug: false };
  }
  return { error: new AppError("internal", "internal error"), isBug: true };
}
