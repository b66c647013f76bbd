/**
 * Request bodies for the HTTP API: JSON, at most 64 KiB, read straight from
 * Node's IncomingMessage. `c.req.json()` would first turn the request into a
 * WHATWG Request (an AbortSignal, a web ReadableStream, undici's converters),
 * which took ~40% of the CPU of a `POST /api/v1/publish` (docs/benchmarks.md).
 * The app is served by @hono/node-server's listener, which passes the
 * IncomingMessage as `c.env.incoming`.
 */
import type { IncomingMessage } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { AppError } from "../core/errors";

const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => new AppError("too_large", `request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);

/**
 * The parsed JSON body: `too_large` over 64 KiB, `invalid_payload` if it is
 * not JSON. With `optional`, an empty body is `undefined`.
 */
export async function readJsonBody(c: Context, { optional = false } = {}): Promise<unknown> {
  const text = await readIncoming((c.env as HttpBindings).incoming);
  if (optional && text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_payload", "body must be JSON");
  }
}

async function readIncoming(incoming: IncomingMessage): Promise<string> {
  if (Number(incoming.headers["content-length"] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    length += chunk.length;
    // A chunked body has no length up front: stop reading once it is too long
    // (the listener drains the rest after the response).
    if (length > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length).toString("utf8");
}

/** The client's TCP address (the last proxy's, behind a load balancer). */
export function peerAddress(c: Context): string | undefined {
  return (c.env as HttpBindings).incoming.socket.remoteAddress;
}
