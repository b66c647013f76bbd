/**
 * What to do after a failed connection attempt, and when to try again.
 *
 * socket.io-client retries transport failures (server down, network gone)
 * with its own backoff, but gives up for good when the server's middleware
 * refuses the connection (`connect_error` with a message such as
 * "unavailable" while the database is down, "too_many_connections" or
 * "rate_limited"). Without a retry of our own, a tab would stay on
 * "Reconnecting…" for ever. The legacy page (public/legacy/legacy.js, plain
 * ES5 without a build step) repeats this logic by hand: keep them in step.
 */

export interface Backoff {
  /** The first delay, in ms. */
  minMs: number;
  /** The longest delay, in ms, before jitter. */
  maxMs: number;
  /** How far each delay is spread, as a fraction: 0.5 is ±50%. */
  jitter: number;
}

/** 1 s, 2 s, 4 s… up to 30 s, each ±50%, so a server coming back is not met by every tab at the same instant. */
export const RECONNECT_BACKOFF: Backoff = { minMs: 1000, maxMs: 30_000, jitter: 0.5 };

/** A day: anything longer is not a real hint (and would overflow setTimeout, which fires at once past 2³¹ ms). */
const MAX_RETRY_AFTER_S = 24 * 3600;

export type ConnectFailure =
  /** The session is gone or invalid: back to sign-in. */
  | { action: "sign-in" }
  /** socket.io-client is still trying by itself (a transport error): nothing to do. */
  | { action: "wait" }
  /** Refused by the server: try again ourselves, not before `retryAfterSeconds` when the server says so. */
  | { action: "retry"; retryAfterSeconds?: number };

/**
 * Reads a `connect_error`. `active` is the socket's `active` flag: socket.io
 * clears it when the server refused the connection, and only then will the
 * client not retry. Every refusal other than "unauthorized" is retried, also
 * codes this page does not know yet: a stuck tab is worse than a retry.
 */
export function connectFailure(err: { message: string; data?: unknown }, active: boolean): ConnectFailure {
  if (err.message === "unauthorized") return { action: "sign-in" };
  if (active) return { action: "wait" };
  const retryAfter = (err.data as { retryAfter?: unknown } | null | undefined)?.retryAfter;
  return typeof retryAfter === "number" && Number.isFinite(retryAfter) && retryAfter > 0
    ? { action: "retry", retryAfterSeconds: Math.min(retryAfter, MAX_RETRY_AFTER_S) }
    : { action: "retry" };
}

/**
 * The wait before retry number `attempt` (0 for the first after a successful
 * connection): `minMs · 2^attempt`, capped at `maxMs`, spread by ±jitter; and
 * never less than the server's `retryAfterSeconds`, which is spread upwards
 * only (by up to the same fraction) so that tabs told the same time do not
 * all come back together.
 *
 * @example
 * retryDelay(0) // 500–1,500 ms
 * retryDelay(10) // 15–45 s
 * retryDelay(0, 5) // 5–7.5 s
 */
export function retryDelay(attempt: number, retryAfterSeconds = 0, random: () => number = Math.random, backoff = RECONNECT_BACKOFF): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt, 30));
  const spread = base * (1 + backoff.jitter * (2 * random() - 1));
  const floor = retryAfterSeconds * 1000 * (1 + backoff.jitter * random());
  return Math.round(Math.max(spread, floor));
}
