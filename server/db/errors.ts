/** Prisma's "unique constraint failed" (P2002), whichever driver adapter raised it. */
export function isUniqueViolation(err: unknown): boolean {
  return hasCode(err, new Set(["P2002", "23505"]));
}

/** SQLSTATEs of text PostgreSQL refuses to store: U+0000, invalid or untranslatable characters. */
const REFUSED_TEXT = new Set(["22021", "22P05", "22P02", "22025", "22026"]);

/** Whether the database refused a value's text (a driver's SQLSTATE anywhere among the error's causes). */
export function isRefusedText(err: unknown): boolean {
  return hasCode(err, REFUSED_TEXT);
}

/** Codes and messages of "the database cannot be reached", from Prisma, pg and node's sockets. */
const UNREACHABLE_CODES = new Set(["P1001", "P1002", "P1017", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P03"]);
const UNREACHABLE_MESSAGE =
  /Connection terminated|connection timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Can't reach database|server closed the connection|the database system is (starting up|shutting down)/i;

/** Whether the database could not be reached (an outage, not a bug): answered `unavailable`. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
    if (typeof message === "string" && UNREACHABLE_MESSAGE.test(message)) return true;
  }
  return false;
}

/** Whether the error or one of its causes carries one of these codes (Prisma's, or a driver's SQLSTATE). */
function hasCode(err: unknown, codes: ReadonlySet<string>): boolean {
  for (const e of causes(err)) {
    const { code, originalCode } = e as { code?: unknown; originalCode?: unknown };
    if ((typeof code === "string" && codes.has(code)) || (typeof originalCode === "string" && codes.has(originalCode))) return true;
  }
  return false;
}

/**
 * An error and what it wraps: Prisma puts the driver adapter's error under
 * `meta.driverAdapterError` (raw queries) or `cause`, which holds the
 * driver's own under `cause` again.
 */
function* causes(err: unknown): Generator<object> {
  const queue: unknown[] = [err];
  for (let seen = 0; queue.length > 0 && seen < 10; seen++) {
    const e = queue.shift();
    if (typeof e !== "object" || e === null) continue;
    yield e;
    const { cause, meta } = e as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
    queue.push(cause, meta?.driverAdapterError);
  }
}
