import type { ErrorBody } from "../../shared/errors";
import { AppError, fromZodError, toAppError } from "../core/errors";
import type { Logger } from "../logger";
import type { EventTable } from "./events";

import type { AnySocket } from "./types";

type AckCallback = (response: object) => void;

/**
 * The one wrapper every client event goes through: rate limit, find the
 * acknowledgement, validate the payload, call the core, ack the result or the
 * coded error. Nothing thrown escapes; unexpected errors are logged with
 * their cause and answered as `internal`. Events that arrive without the ack
 * they need are dropped, and the error goes out as `protocol:error`.
 */
export function dispatch<C>(
  socket: AnySocket,
  deps: {
    log: Logger;
    /** Takes one event from the connection's (and its user's) budget; false when spent. */
    allow: () => boolean;
    events: EventTable<C>;
    context: C;
    /** Told how each event ended ("ok" or the error code) and, once its handler ran, how long it took. */
    observe?: (event: string, outcome: string, seconds?: number) => void;
  },
  event: string,
  args: unknown[],
): void {
  const last = args.at(-1);
  const ack = typeof last === "function" ? (last as AckCallback) : undefined;
  const payload = ack ? args.slice(0, -1)[0] : args[0];

  // Only names from the event table are reported: a client's made-up names are one label, "(unknown)".
  const known = Object.hasOwn(deps.events, event);
  const fail = (error: ErrorBody, seconds?: number): void => {
    deps.observe?.(known ? event : "(unknown)", error.code, seconds);
    if (ack) ack({ ok: false, error });
    else socket.emit("protocol:error", { event, error });
  };

  if (!deps.allow()) {
    // Without an ack there is no one to tell; answering a flood would amplify it.
    deps.observe?.(known ? event : "(unknown)", "rate_limited");
    if (ack) ack({ ok: false, error: new AppError("rate_limited", "too many events; slow down", 1).toBody() });
    return;
  }
  const spec = known ? deps.events[event] : undefined;
  if (!spec) {
    fail(new AppError("unknown_event", `unknown event "${event}"`).toBody());
    return;
  }
  if (spec.ackRequired && !ack) {
    fail(new AppError("missing_ack", `"${event}" needs an acknowledgement callback`).toBody());
    return;
  }
  const parsed = spec.schema.safeParse(payload);
  if (!parsed.success) {
    fail(fromZodError(parsed.error).toBody());
    return;
  }

  const userId = socket.data.user?.id;
  const started = performance.now();
  // A handler (a plugin's, say) may throw at once, return something that is
  // not a promise, or resolve to something that cannot be sent: none of it
  // may escape into Socket.IO's own call stack.
  new Promise<object>((resolve) => resolve(spec.run(deps.context, parsed.data)))
    .then((result) => {
      const body = { ...sendable(result), ok: true };
      ack?.(body);
      const ms = performance.now() - started;
      deps.observe?.(event, "ok", ms / 1000);
      deps.log.debug({ event, userId, ms }, "event handled");
    })
    .catch((err: unknown) => {
      const { error, isBug } = toAppError(err);
      if (isBug) deps.log.error({ err, event, userId, ...(spec.plugin ? { plugin: spec.plugin } : {}) }, "event handler failed");
      else if (error.code === "unavailable") deps.log.warn({ err, event }, "event failed: dependency unavailable");
      fail(error.toBody(), (performance.now() - started) / 1000);
    });
}

/** A handler's result as an ack can carry it: a plain object that JSON can represent (no cycles, no BigInt). */
function sendable(result: unknown): object {
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new Error(`an event handler resolved to ${Array.isArray(result) ? "an array" : String(result)}, not an object`);
  }
  try {
    JSON.stringify(result);
  } catch (err) {
    throw new Error("an event handler resolved to a value that cannot be sent", { cause: err });
  }
  return result;
}
