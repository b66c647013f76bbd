/**
 * Files over HTTP: uploads stream from the request into the file store, and
 * downloads from the store into the response (neither holds a whole file).
 *
 * An upload is the file itself as the request body (as `curl --data-binary`
 * sends it), its type in `Content-Type` and its name in `Content-Disposition`
 * (`attachment; filename*=UTF-8''…`). A page of another site cannot make a
 * browser send that header, so the cookie alone never uploads for it.
 *
 * Downloads carry `X-Content-Type-Options: nosniff` and a sandboxing CSP;
 * only images the server could read are shown inline — anything else (HTML,
 * SVG, PDF…) downloads, so an uploaded page never runs in this origin.
 */
import { Readable } from "node:stream";
import type { HttpBindings } from "@hono/node-server";
import { create as dispositionHeader, parse as parseDisposition } from "content-disposition";
import type { Context, Hono } from "hono";
import { z } from "zod";
import { id, uploaderQuery } from "../../shared/gateway";
import type { User } from "../../shared/protocol";
import { isSafeText } from "../../shared/text";
import type { Core } from "../core";
import type { Download, UploadMeta } from "../core/attachments";
import { AppError, parseInput } from "../core/errors";

const fileId = z.strictObject({ id: z.string().min(1).max(100) });
/** A room id as every other route takes it: text the database can hold (no U+0000, no unpaired surrogate), no control characters. */
const roomParam = z.strictObject({ roomId: id });

/** The signed-in user uploads into a room of theirs and downloads what they may read. */
export function mountUserFiles(api: Hono, core: Core, identify: (c: Context) => Promise<User>, throttle: (userId: string) => Promise<void>): void {
  /** What uploads the server takes, so a client can refuse a file before sending it. */
  api.get("/upload-limits", async (c) => {
    await identify(c);
    const { maxBytes, allowedTypes } = core.attachments.limits;
    return c.json({ maxBytes, allowedTypes });
  });
  api.post("/rooms/:roomId/files", async (c) => {
    const user = await identify(c);
    const { roomId } = parseInput(roomParam, c.req.param());
    const meta = uploadMeta(c);
    await throttle(user.id);
    const attachment = await core.attachments.upload(user, roomId, meta, requestBody(c));
    return c.json({ attachment }, 201);
  });
  const download = (thumbnail: boolean) => async (c: Context) =>
    send(c, await core.attachments.open(await identify(c), parseInput(fileId, c.req.param()).id, thumbnail));
  api.get("/files/:id", download(false));
  api.get("/files/:id/thumbnail", download(true));
}

/** A backend (behind its API key) uploads as a user, a bot or the system, and downloads any sent file. */
export function mountBackendFiles(v1: Hono, core: Core, mayUse: (c: Context, write: boolean) => void, throttle: (userId: string) => Promise<void>): void {
  v1.post("/rooms/:roomId/files", async (c) => {
    mayUse(c, true);
    const { roomId } = parseInput(roomParam, c.req.param());
    const as = parseInput(uploaderQuery, c.req.query());
    const meta = uploadMeta(c);
    const author = await core.messages.backendAuthor({ userId: as.userId, ...(as.bot ? { bot: { id: as.bot } } : {}) });
    await throttle(author.id);
    const attachment = await core.attachments.uploadForBackend(author.id, roomId, meta, requestBody(c));
    return c.json({ attachment }, 201);
  });
  const download = (thumbnail: boolean) => async (c: Context) => {
    mayUse(c, false);
    return send(c, await core.attachments.openForBackend(parseInput(fileId, c.req.param()).id, thumbnail));
  };
  v1.get("/files/:id", download(false));
  v1.get("/files/:id/thumbnail", download(true));
}

/**
 * The request body as it arrives. An upload refused part-way (too large) stops
 * reading but leaves the request open: the answer goes out, and Node reads
 * and drops the rest of the body, so a proxy in front (still sending it) gets
 * the 413 rather than a broken connection.
 */
export function requestBody(c: Context): AsyncIterable<Buffer> {
  return ((c.env as HttpBindings).incoming as Readable).iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

/** The file's name, type and length, from the request's headers. */
function uploadMeta(c: Context): UploadMeta {
  const disposition = c.req.header("content-disposition");
  if (!disposition) {
    throw new AppError("invalid_payload", "name the file: `Content-Disposition: attachment; filename=\"report.pdf\"`");
  }
  let parsed: ReturnType<typeof parseDisposition>;
  try {
    parsed = parseDisposition(disposition);
  } catch {
    throw new AppError("invalid_payload", "Content-Disposition: expected `attachment; filename=\"…\"` (or filename*=UTF-8''…)");
  }
  const name = cleanName(parsed.parameters.filename ?? "");
  const length = c.req.header("content-length");
  return {
    name,
    type: mimeType(c.req.header("content-type")),
    ...(length !== undefined && /^[0-9]{1,15}$/.test(length) ? { length: Number(length) } : {}),
  };
}

/** The last part of a path, without control characters; 1–255 characters. */
function cleanName(raw: string): string {
  const name = (raw.split(/[/\\]/).pop() ?? "").replace(/[\u0000-\u001F\u007F-\u009F]/g, "").normalize("NFC").trim();
  if (name === "" || name === "." || name === "..") throw new AppError("invalid_payload", "Content-Disposition: filename is empty");
  if (!isSafeText(name)) throw new AppError("invalid_payload", "Content-Disposition: filename contains characters that cannot be stored");
  if (name.length > 255) throw new AppError("too_large", "Content-Disposition: filename is longer than 255 characters");
  return name;
}

/** `image/PNG; charset=x` → `image/png`; none or nonsense → `application/octet-stream`. */
export function mimeType(header: string | undefined): string {
  const type = header?.split(";")[0]?.trim().toLowerCase() ?? "";
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type) ? type : "application/octet-stream";
}

/** Streams a file out with headers that keep it from running in this origin. */
function send(c: Context, file: Download): Response {
  const inline = file.inline && c.req.query("download") === undefined;
  return new Response(Readable.toWeb(Readable.from(file.body)) as ReadableStream, {
    status: 200,
    headers: {
      "content-type": file.type,
      "content-length": String(file.size),
      "content-disposition": dispositionHeader(file.name, { type: inline ? "inline" : "attachment" }),
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
      // Files never change; who may read them can, so only the reader's own browser keeps them.
      "cache-control": "private, max-age=86400",
    },
  });
}
