/**
 * Profiles: a picture cut to a square (upright, without metadata), a display
 * name, both pushed to everyone who shares a room and to the person's tabs,
 * carried by the messages their open connections send next; user cards
 * (`user:get`); refusals that change nothing — on both databases.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Member, Message, Room, User } from "../shared/protocol";
import { call, closeAll, collect, connect, next, register, request, settle } from "./support/clients";
import { download } from "./support/files";
import { backends, startTestServer, type TestServer } from "./support/server";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", name));

/** `PUT /api/me/avatar` (with the square to keep in the query, if any). */
async function putAvatar(url: string, token: string, data: Buffer, type: string, query = "") {
  const res = await fetch(`${url}/api/me/avatar${query}`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": type }, body: new Uint8Array(data) });
  return { status: res.status, body: (await res.json()) as { user?: User; error?: { code: string } } };
}

describe.each(await backends())("profiles (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  async function setup() {
    const [ada, bob, carol] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url, undefined, "Carol")];
    const [a, a2, b, c] = [await connect(server.url, ada.token), await connect(server.url, ada.token), await connect(server.url, bob.token), await connect(server.url, carol.token)];
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "profiles", memberIds: [bob.user.id] });
    return { ada, bob, carol, a, a2, b, c, room };
  }

  it("sets a picture cut to the chosen square, upright and without metadata, and everyone who shares a room sees it", async () => {
    const { ada, a, a2, b, c, room } = await setup();
    await call(a, "message:send", { roomId: room.id, body: "before" });
    const [atBob, atTab, atCarol] = [next(b, "user:updated"), next(a2, "user:updated"), collect(c, "user:updated")];
    // The stored picture is 64×32 with EXIF orientation 6: upright it is 32×64, red on top, green below.
    const put = await putAvatar(server.url, ada.token, fixture("rotated.jpg"), "image/jpeg", "?x=0&y=32&size=32");
    expect(put.status).toBe(200);
    const avatar = put.body.user!.avatar!;
    expect(avatar).toMatch(/^\/api\/avatars\/avatar-[0-9a-f-]{36}$/);
    expect(await atBob).toEqual(put.body.user);
    expect(await atTab).toEqual(put.body.user);
    await settle(c);
    expect(atCarol).toEqual([]); // shares no room with Ada

    const got = await download(server.url, avatar);
    expect(got.headers.get("content-type")).toBe("image/jpeg");
    expect(got.headers.get("cache-control")).toContain("immutable");
    const meta = await sharp(got.data).metadata();
    expect([meta.width, meta.height, meta.exif, meta.orientation]).toEqual([256, 256, undefined, undefined]);
    // The lower square of the upright picture: its bottom half is green (low red), not the red top.
    const { data, info } = await sharp(got.data).raw().toBuffer({ resolveWithObject: true });
    const red = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(red(128, 200)).toBeLessThan(100);

    // Members, history and the next message from an open tab all carry it.
    const members = await call<{ members: Member[] }>(b, "room:members", { roomId: room.id });
    expect(members.members.find((m) => m.user.id === ada.user.id)!.user.avatar).toBe(avatar);
    const history = await call<{ messages: Message[] }>(b, "message:history", { roomId: room.id });
    expect(history.messages[0]!.author.avatar).toBe(avatar);
    const { message } = await call<{ message: Message }>(a2, "message:send", { roomId: room.id, body: "after" });
    expect(message.author.avatar).toBe(avatar);

    // A new picture replaces the old, which is gone; removing it goes back to initials.
    const again = await putAvatar(server.url, ada.token, fixture("badge.png"), "image/png");
    expect(again.body.user!.avatar).not.toBe(avatar);
    expect((await download(server.url, avatar)).status).toBe(404);
    const png = await download(server.url, again.body.user!.avatar!);
    expect(png.headers.get("content-type")).toBe("image/png"); // transparency kept
    const removed = await fetch(`${server.url}/api/me/avatar`, { method: "DELETE", headers: { authorization: `Bearer ${ada.token}` } });
    expect(((await removed.json()) as { user: User }).user.avatar).toBeUndefined();
    expect((await download(server.url, again.body.user!.avatar!)).status).toBe(404);
  });

  it("changes the display name: shown to those who share a room, carried by the next message; user:get shows a card", async () => {
    const { ada, bob, a, a2, b, room } = await setup();
    const seen = next(b, "user:updated");
    const { user } = await call<{ user: User }>(a, "user:update", { displayName: "  Ada   Lovelace " });
    expect(user).toEqual({ ...ada.user, displayName: "Ada Lovelace" });
    expect(await seen).toEqual(user);
    const { message } = await call<{ message: Message }>(a2, "message:send", { roomId: room.id, body: "renamed" });
    expect(message.author.displayName).toBe("Ada Lovelace");

    expect(await call(b, "user:get", { userId: ada.user.id })).toEqual({ ok: true, user, online: true });
    closeAll();
    const b2 = await connect(server.url, bob.token);
    expect(await call(b2, "user:get", { userId: ada.user.id })).toMatchObject({ online: false });
    expect(await request(b2, "user:get", { userId: "nobody" })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("refuses bad pictures and names with stable codes, changing nothing", async () => {
    const { ada, a } = await setup();
    const cases: Array<[Buffer, string, string, number, string]> = [
      [fixture("rotated.jpg"), "image/jpeg", "?x=10&y=0&size=32", 400, "invalid_payload"], // past the right edge (32 wide upright)
      [fixture("rotated.jpg"), "image/jpeg", "?x=0&y=0", 400, "invalid_payload"],
      [fixture("rotated.jpg"), "image/jpeg", "?x=0&y=0&size=8", 400, "invalid_payload"],
      [fixture("report.pdf"), "image/png", "", 415, "unsupported_media_type"],
      [fixture("script.svg"), "image/svg+xml", "", 415, "unsupported_media_type"],
      [Buffer.alloc(5 * 1024 * 1024 + 1), "image/png", "", 413, "too_large"],
    ];
    for (const [data, type, query, status, code] of cases) {
      const res = await putAvatar(server.url, ada.token, data, type, query);
      expect([res.status, res.body.error?.code], `${type} ${query}`).toEqual([status, code]);
    }
    expect((await putAvatar(server.url, "not-a-token", fixture("badge.png"), "image/png")).status).toBe(401);
    for (const displayName of ["", "   ", "x".repeat(65), "\u0000"]) {
      expect(await request(a, "user:update", { displayName })).toMatchObject({ ok: false, error: { code: expect.stringMatching(/invalid_payload|too_large/) } });
    }
    expect(await call(a, "user:get", { userId: ada.user.id })).toEqual({ ok: true, user: ada.user, online: true });
    expect((await download(server.url, "/api/avatars/avatar-00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await download(server.url, "/api/avatars/..%2Fsecret")).status).toBe(404);
  });
});
