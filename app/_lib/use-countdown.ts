"use client";

import { useCallback, useEffect, useState } from "react";

/**
 * A countdown in whole seconds, for a form that must wait before trying again.
 * `start(seconds)` sets it; it ticks once a second and stops at 0.
 *
 * @example
 * const [wait, startWait] = useCountdown();
 * if (result.retryAfter) startWait(result.retryAfter);
 * <button disabled={wait > 0}>Sign in</button>
 */
export function useCountdown(): [remaining: number, start: (seconds: number) => void] {
  // The end and the first value are set together, so the first render after
  // `start` already shows the right wait (not one computed from a stale clock).
  const [countdown, setCountdown] = useState<{ until: number; remaining: number } | null>(null);

  const start = useCallback((seconds: number) => {
    setCountdown({ until: Date.now() + seconds * 1000, remaining: Math.ceil(seconds) });
  }, []);

  const until = countdown?.until;
  useEffect(() => {
    if (until === undefined) return;
    const timer = setInterval(() => {
      const remaining = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setCountdown(remaining > 0 ? { until, remaining } : null);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);

  return [countdown?.remaining ?? 0, start];
}
