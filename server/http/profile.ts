/**
 * Profile pictures over HTTP. `PUT /api/me/avatar` takes an image as the body
 * (as uploads do) and, in the query, the square to keep (`x`, `y`, `size`, in
 * the upright picture's pixels; none: its middle square); `DELETE` goes back
 * to initials. Pictures are served from `/api/avatars/{key}`, a URL that
 * changes with every new picture, so browsers keep them for good.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { User } from "../../shared/protocol";
import type { Core } from "../core";
import { parseInput } from "../core/errors";
import { mimeType, requestBody } from "./files";

/** A whole number of pixels, in decimal digits (not `""`, `1e3`, `0x10` or ` 5`, which a number parser takes). */
const pixels = z
  .string()
  .regex(/^[0-9]{1,6}$/, "a whole number of pixels")
  .transform(Number)
  .pipe(z.number().max(100_000));
const cropQuery = z
  .strictObject({ x: pixels.optional(), y: pixels.optional(), size: pixels.pipe(z.number().min(16, "the square must be at least 16 pixels")).optional() })
  .refine((q) => [q.x, q.y, q.size].every((v) => v === undefined) || [q.x, q.y, q.size].every((v) => v !== undefined), "give x, y and size together, or none");

export function mountProfile(api: Hono, core: Core, identify: (c: Context) => Promise<User>): void {
  api.put("/me/avatar", async (c) => {
    const user = await identify(c);
    const q = parseInput(cropQuery, c.req.query());
    const crop = q.size === undefined ? null : { x: q.x!, y: q.y!, size: q.size };
    const length = c.req.header("content-length");
    const declared = length !== undefined && /^[0-9]{1,15}$/.test(length) ? Number(length) : undefined;
    return c.json({ user: await core.profiles.setAvatar(user, mimeType(c.req.header("content-type")), requestBody(c), crop, declared) });
  });
  api.delete("/me/avatar", async (c) => c.json({ user: await core.profiles.clearAvatar(await identify(c)) }));
  api.get("/avatars/:key", async (c) => {
    const data = await core.profiles.avatar(c.req.param("key"));
    return c.body(new Uint8Array(data), 200, {
      "content-type": data[0] === 0x89 ? "image/png" : "image/jpeg",
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
    });
  });
}
