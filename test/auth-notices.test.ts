/**
 * What the web UI's sign-in forms say after a refusal (app/_lib/wait.ts) and
 * after a session ended (app/_lib/session-notice.ts). Plain unit tests: no server.
 */
import { describe, expect, it } from "vitest";
import { sessionNotice, signInUrl } from "../app/_lib/session-notice";
import { retryAfterSeconds, tooManyAttempts, waitText } from "../app/_lib/wait";

describe("retryAfterSeconds", () => {
  const now = Date.parse("2026-11-21T12:00:00Z");

  it("reads the body's error.retryAfter first", () => {
    expect(retryAfterSeconds({ error: { code: "rate_limited", message: "x", retryAfter: 45 } }, "900", now)).toBe(45);
    expect(retryAfterSeconds({ error: { retryAfter: 2.2 } }, null, now)).toBe(3);
  });

  it("falls back to the Retry-After header, in seconds or as a date", () => {
    expect(retryAfterSeconds({ error: { code: "rate_limited" } }, "120", now)).toBe(120);
    expect(retryAfterSeconds(null, " 7 ", now)).toBe(7);
    expect(retryAfterSeconds(null, "Sat, 21 Nov 2026 12:01:30 GMT", now)).toBe(90);
  });

  it("says nothing when neither gives a wait in the future", () => {
    expect(retryAfterSeconds(null, null, now)).toBeUndefined();
    expect(retryAfterSeconds({ error: { retryAfter: -1 } }, "", now)).toBeUndefined();
    expect(retryAfterSeconds({ error: { retryAfter: "soon" } }, "0", now)).toBeUndefined();
    expect(retryAfterSeconds(null, "Sat, 21 Nov 2026 11:59:00 GMT", now)).toBeUndefined();
    expect(retryAfterSeconds(null, "whenever", now)).toBeUndefined();
  });
});

describe("waitText", () => {
  it("counts seconds under a minute", () => {
    expect(waitText(1)).toBe("1 second");
    expect(waitText(45)).toBe("45 seconds");
    expect(waitText(59)).toBe("59 seconds");
    expect(waitText(0.2)).toBe("1 second");
  });

  it("rounds minutes up, never promising less than the real wait", () => {
    expect(waitText(60)).toBe("1 minute");
    expect(waitText(61)).toBe("2 minutes");
    expect(waitText(150)).toBe("3 minutes");
    expect(waitText(900)).toBe("15 minutes");
  });

  it("says hours and minutes past the hour", () => {
    expect(waitText(3600)).toBe("1 hour");
    expect(waitText(3900)).toBe("1 hour and 5 minutes");
    expect(waitText(7201)).toBe("2 hours and 1 minute");
  });
});

describe("tooManyAttempts", () => {
  it("says plainly how long to wait, or to wait a moment when the server did not say", () => {
    expect(tooManyAttempts(45)).toBe("Too many attempts. Try again in 45 seconds.");
    expect(tooManyAttempts(180)).toBe("Too many attempts. Try again in 3 minutes.");
    expect(tooManyAttempts()).toBe("Too many attempts. Wait a moment and try again.");
  });
});

describe("session notices", () => {
  it("round-trips every reason through the sign-in address", () => {
    for (const reason of ["signed_out", "password_changed", "expired", "unauthorized", "signed_out_everywhere"] as const) {
      const url = new URL(signInUrl(reason), "http://localhost");
      expect(url.pathname).toBe("/login");
      expect(sessionNotice(url.search)).toMatch(/\.$/);
    }
    expect(sessionNotice(new URL(signInUrl("password_changed"), "http://localhost").search)).toBe(
      "Your password was changed on another device. Sign in with the new password.",
    );
  });

  it("shows nothing without a reason, or for one it does not know", () => {
    expect(signInUrl()).toBe("/login");
    expect(sessionNotice("")).toBeNull();
    expect(sessionNotice("?session=toString")).toBeNull();
    expect(sessionNotice("?session=%3Cscript%3E")).toBeNull();
    expect(sessionNotice("?other=expired")).toBeNull();
  });
});
