/**
 * The web UI's rule for connection failures (app/_lib/reconnect.ts): which
 * ones it retries itself, and how long it waits. Plain unit tests: no server.
 */
import { describe, expect, it } from "vitest";
import { connectFailure, RECONNECT_BACKOFF, retryDelay } from "../app/_lib/reconnect";

const refusal = (message: string, data?: unknown) => Object.assign(new Error(message), { data });

describe("connectFailure", () => {
  it("sends an unauthorized tab to sign-in", () => {
    expect(connectFailure(refusal("unauthorized", { code: "unauthorized" }), false)).toEqual({ action: "sign-in" });
  });

  it("leaves transport errors to socket.io-client, which is still retrying (active)", () => {
    expect(connectFailure(refusal("xhr poll error"), true)).toEqual({ action: "wait" });
    expect(connectFailure(refusal("websocket error"), true)).toEqual({ action: "wait" });
  });

  it("retries every refusal by the server, known code or not", () => {
    for (const code of ["unavailable", "too_many_connections", "internal", "some_future_code"]) {
      expect(connectFailure(refusal(code, { code, message: "…" }), false)).toEqual({ action: "retry" });
    }
  });

  it("passes the server's retryAfter on when it is a sane number of seconds", () => {
    expect(connectFailure(refusal("rate_limited", { code: "rate_limited", retryAfter: 7 }), false)).toEqual({
      action: "retry",
      retryAfterSeconds: 7,
    });
    for (const retryAfter of [0, -3, Number.NaN, Number.POSITIVE_INFINITY, "7", null]) {
      expect(connectFailure(refusal("rate_limited", { retryAfter }), false)).toEqual({ action: "retry" });
    }
    expect(connectFailure(refusal("rate_limited", { retryAfter: 1e12 }), false)).toEqual({
      action: "retry",
      retryAfterSeconds: 24 * 3600,
    });
  });
});

describe("retryDelay", () => {
  const low = () => 0;
  const mid = () => 0.5;
  const high = () => 0.999999;

  it("doubles from 1 s up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => retryDelay(n, 0, mid))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("spreads each delay by ±50%", () => {
    expect(retryDelay(0, 0, low)).toBe(500);
    expect(retryDelay(0, 0, high)).toBe(1500);
    expect(retryDelay(10, 0, low)).toBe(RECONNECT_BACKOFF.maxMs / 2);
    expect(retryDelay(10, 0, high)).toBe(45_000);
  });

  it("never retries before the server's retryAfter, and spreads it upwards only", () => {
    expect(retryDelay(0, 5, low)).toBe(5000);
    expect(retryDelay(0, 5, high)).toBe(7500);
    // A longer backoff wins over a short retryAfter.
    expect(retryDelay(5, 2, mid)).toBe(30_000);
  });
});
