/**
 * How long a refused sign-in (429 `rate_limited`) has to wait, read from the
 * answer and said in words. Pure: the sign-in, sign-up and password forms
 * use it, and the legacy page (public/legacy/legacy.js, plain ES5) repeats
 * it by hand: keep them in step.
 */

/**
 * The seconds to wait: the body's `error.retryAfter`, else the `Retry-After`
 * header (seconds, or an HTTP date); `undefined` when neither says.
 *
 * @example
 * retryAfterSeconds({ error: { code: "rate_limited", retryAfter: 45 } }, null) // 45
 * retryAfterSeconds(null, "120") // 120
 */
export function retryAfterSeconds(body: unknown, header: string | null, now: number = Date.now()): number | undefined {
  const fromBody = (body as { error?: { retryAfter?: unknown } } | null | undefined)?.error?.retryAfter;
  if (typeof fromBody === "number" && Number.isFinite(fromBody) && fromBody > 0) return Math.ceil(fromBody);
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) : undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at) || at <= now) return undefined;
  return Math.ceil((at - now) / 1000);
}

/**
 * A wait in words, never shorter than the real one: seconds under a minute,
 * then whole minutes (rounded up), then hours and minutes.
 *
 * @example
 * waitText(45) // "45 seconds"
 * waitText(150) // "3 minutes"
 * waitText(3900) // "1 hour and 5 minutes"
 */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return plural(s, "second");
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? plural(hours, "hour") : `${plural(hours, "hour")} and ${plural(rest, "minute")}`;
}

/** What a refused form says: "Too many attempts. Try again in 45 seconds." */
export function tooManyAttempts(seconds?: number): string {
  return seconds === undefined ? "Too many attempts. Wait a moment and try again." : `Too many attempts. Try again in ${waitText(seconds)}.`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
