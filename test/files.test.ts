/**
 * Attachments: uploading real files (a turned JPEG with EXIF, a PNG with
 * transparency, a PDF, an SVG carrying a script), sending them with a message,
 * who may download them and with which headers, thumbnails, the limits (413,
 * 415, an interrupted upload) leaving nothing stored, deleting with the
 * message, backends uploading as a bot — on both databases, and the directory
 * store.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Attachment, Message, Room } from "../shared/protocol";
import { api, call, closeAll, connect, next, register, request } from "./support/clients";
import { cutUpload, download, upload } from "./support/files";
import { backends, startTestServer, testConfig, type Backend, type TestServer } from "./support/server";

const KEY = "files-test-api-key-0123456789abc";
const READ_ONLY_KEY = "files-test-read-only-key-0123456789";
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", name));

async function storedCounts(server: TestServer) {
  const db = server.db.prisma;
  return { attachments: await db.attachment.count(), chunks: await db.fileChunk.count() };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
  expect(await check()).toBe(true);
}

describe.each(await backends())("attachments (%s)", (backend: Backend) => {
  let server: TestServer;
  beforeAll(async () => {
    // A 4 MB limit: a file past it is written up to the limit before it is refused (the embedded
    // database takes ~2 MB/s), so a small limit keeps the suite quick; the default 10 MB is
    // exercised through nginx (nginx.test.ts) and in the browser.
    server = await startTestServer(backend, { SWITCHBOARD_API_KEYS: KEY, SWITCHBOARD_UPLOAD_RATE_LIMIT: "1000", SWITCHBOARD_UPLOAD_MAX_SIZE: "4MB" });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  /** Ada's room (private unless asked) with Bob in it; Carol outside it. */
  async function setup(visibility: "public" | "private" = "private") {
    const [ada, bob, carol] = [await register(server.url, undefined, "Ada"), await register(server.url, undefined, "Bob"), await register(server.url)];
    const [a, b] = [await connect(server.url, ada.token), await connect(server.url, bob.token)];
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "files", visibility, memberIds: [bob.user.id] });
    const put = async (file: string, type: string, who = ada, roomId = room.id) =>
      upload(server.url, `/api/rooms/${roomId}/files`, fixture(file), { name: file, type, token: who.token });
    return { ada, bob, carol, a, b, room, put };
  }

  it("sends a turned photo: upright size and thumbnail without metadata, the original byte for byte, live and in history", async () => {
    const { ada, bob, a, b, room, put } = await setup();
    const up = await put("rotated.jpg", "image/jpeg");
    expect(up.status).toBe(201);
    const photo: Attachment = up.body.attachment;
    // Stored 64×32 with EXIF orientation 6: upright it is 32×64.
    expect(photo).toEqual({ id: expect.any(String), name: "rotated.jpg", type: "image/jpeg", size: fixture("rotated.jpg").length, image: { width: 32, height: 64 } });

    const arrived = next(b, "message:new");
    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "the view", attachmentIds: [photo.id] });
    expect(message.attachments).toEqual([photo]);
    expect((await arrived).attachments).toEqual([photo]);
    const history = await call<{ messages: Message[] }>(b, "message:history", { roomId: room.id });
    expect(history.messages.at(-1)).toMatchObject({ body: "the view", attachments: [photo] });

    const original = await download(server.url, `/api/files/${photo.id}`, bob.token);
    expect(original.status).toBe(200);
    expect(original.data.equals(fixture("rotated.jpg"))).toBe(true);
    expect(original.headers.get("content-type")).toBe("image/jpeg");
    expect(original.headers.get("content-disposition")).toBe("inline; filename=rotated.jpg");
    expect(original.headers.get("x-content-type-options")).toBe("nosniff");
    // ?download asks for the file rather than the picture.
    expect((await download(server.url, `/api/files/${photo.id}?download`, bob.token)).headers.get("content-disposition")).toBe("attachment; filename=rotated.jpg");

    const thumb = await download(server.url, `/api/files/${photo.id}/thumbnail`, ada.token);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/jpeg");
    const meta = await sharp(thumb.data).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height, exif: meta.exif, orientation: meta.orientation }).toEqual({
      format: "jpeg",
      width: 32,
      height: 64,
      exif: undefined,
      orientation: undefined,
    });
    expect(thumb.data.includes("SwitchboardCam")).toBe(false);
    // Upright: the left half of the stored picture (red) is now the top.
    const { data, info } = await sharp(thumb.data).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    expect(pixel(16, 4)[0]).toBeGreaterThan(180);
    expect(pixel(16, 60)[0]).toBeLessThan(80);
  });

  it("keeps files that are not pictures as downloads: a PDF, and an SVG whose script never runs here", async () => {
    const { bob, a, room, put } = await setup();
    const png = (await put("badge.png", "image/png")).body.attachment as Attachment;
    const pdf = (await put("report.pdf", "application/pdf")).body.attachment as Attachment;
    const svg = (await put("script.svg", "image/svg+xml")).body.attachment as Attachment;
    expect(png).toMatchObject({ type: "image/png", image: { width: 48, height: 48 } });
    expect(pdf).toEqual({ id: expect.any(String), name: "report.pdf", type: "application/pdf", size: fixture("report.pdf").length });
    expect(svg).toEqual({ id: expect.any(String), name: "script.svg", type: "image/svg+xml", size: fixture("script.svg").length });
    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "", attachmentIds: [png.id, pdf.id, svg.id] });
    // In the order given, and a message of files alone needs no caption.
    expect(message.attachments!.map((f) => f.name)).toEqual(["badge.png", "report.pdf", "script.svg"]);
    expect(message.body).toBe("");

    // A transparent picture keeps its transparency in a PNG thumbnail.
    const thumb = await download(server.url, `/api/files/${png.id}/thumbnail`, bob.token);
    expect(thumb.headers.get("content-type")).toBe("image/png");
    expect((await sharp(thumb.data).metadata()).hasAlpha).toBe(true);

    for (const [file, name] of [[pdf, "report.pdf"], [svg, "script.svg"]] as const) {
      const got = await download(server.url, `/api/files/${file.id}`, bob.token);
      expect(got.data.equals(fixture(name))).toBe(true);
      expect(got.headers.get("content-disposition")).toBe(`attachment; filename=${name}`);
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("content-security-policy")).toContain("sandbox");
      expect((await download(server.url, `/api/files/${file.id}/thumbnail`, bob.token)).status).toBe(404);
    }
    // ?download cannot be turned around into showing it inline.
    expect((await download(server.url, `/api/files/${svg.id}?inline=1`, bob.token)).headers.get("content-disposition")).toMatch(/^attachment/);
  });

  it("lets only readers of the room download, and only the uploader see an upload not sent yet", async () => {
    const { ada, bob, carol, a, room, put } = await setup();
    const waiting = (await put("report.pdf", "application/pdf")).body.attachment as Attachment;
    expect((await download(server.url, `/api/files/${waiting.id}`, ada.token)).status).toBe(200);
    expect((await download(server.url, `/api/files/${waiting.id}`, bob.token)).status).toBe(404);
    await call(a, "message:send", { roomId: room.id, body: "report", attachmentIds: [waiting.id] });
    expect((await download(server.url, `/api/files/${waiting.id}`, bob.token)).status).toBe(200);
    // Carol is outside the private room: as if there were no such file.
    for (const route of [`/api/files/${waiting.id}`, `/api/files/${waiting.id}/thumbnail`, "/api/files/00000000-0000-4000-8000-000000000000", "/api/files/..%2F..%2Fsecret"]) {
      const got = await download(server.url, route, carol.token);
      expect(got.status).toBe(404);
      expect(JSON.parse(got.data.toString()).error.code).toBe("not_found");
    }
    const anonymous = await download(server.url, `/api/files/${waiting.id}`);
    expect(anonymous.status).toBe(401);

    // A public room's files are readable by everyone signed in, as its history is.
    const open = await setup("public");
    const shared = (await open.put("badge.png", "image/png")).body.attachment as Attachment;
    await call(open.a, "message:send", { roomId: open.room.id, body: "", attachmentIds: [shared.id] });
    expect((await download(server.url, `/api/files/${shared.id}/thumbnail`, carol.token)).status).toBe(200);
    // Uploading needs membership.
    const outside = await open.put("badge.png", "image/png", carol);
    expect(outside.status).toBe(403);
  });

  it("refuses sending uploads that are not the sender's own, waiting, in this room — storing no message", async () => {
    const { bob, a, b, room, put } = await setup();
    const mine = (await put("badge.png", "image/png")).body.attachment as Attachment;
    const { room: other } = await call<{ room: Room }>(a, "room:create", { name: "elsewhere", memberIds: [bob.user.id] });
    const cases: Array<[ChatCall, string]> = [
      [{ socket: b, payload: { roomId: room.id, body: "mine now", attachmentIds: [mine.id] } }, "not_found"],
      [{ socket: a, payload: { roomId: other.id, body: "wrong room", attachmentIds: [mine.id] } }, "not_found"],
      [{ socket: a, payload: { roomId: room.id, body: "x", attachmentIds: ["00000000-0000-4000-8000-000000000000"] } }, "not_found"],
      [{ socket: a, payload: { roomId: room.id, body: "x", attachmentIds: ["not-a-uuid"] } }, "invalid_payload"],
      [{ socket: a, payload: { roomId: room.id, body: "x", attachmentIds: [mine.id, mine.id] } }, "invalid_payload"],
      [{ socket: a, payload: { roomId: room.id, body: " ", attachmentIds: [] } }, "invalid_payload"],
      [{ socket: a, payload: { roomId: room.id, body: "" } }, "invalid_payload"],
    ];
    for (const [{ socket, payload }, code] of cases) {
      expect(await request(socket, "message:send", payload), JSON.stringify(payload)).toMatchObject({ ok: false, error: { code } });
    }
    const history = await call<{ messages: Message[] }>(a, "message:history", { roomId: room.id });
    expect(history.messages).toEqual([]);

    // Sent once, it cannot go again with another message; a resend of the same message answers it again.
    const first = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "once", clientMsgId: "c-1", attachmentIds: [mine.id] });
    const resend = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "once", clientMsgId: "c-1", attachmentIds: [mine.id] });
    expect(resend.message).toEqual(first.message);
    expect(resend.message.attachments).toEqual([mine]);
    expect(await request(a, "message:send", { roomId: room.id, body: "twice", attachmentIds: [mine.id] })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("deletes a message's files with it, and sweeps uploads never sent", async () => {
    const { ada, bob, a, b, room, put } = await setup();
    const before = await storedCounts(server);
    const files = [(await put("rotated.jpg", "image/jpeg")).body.attachment, (await put("report.pdf", "application/pdf")).body.attachment] as Attachment[];
    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "soon gone", attachmentIds: files.map((f) => f.id) });
    // An edit keeps them.
    const edited = await call<{ message: Message }>(a, "message:edit", { roomId: room.id, messageId: message.id, body: "edited" });
    expect(edited.message.attachments).toEqual(files);
    const deleted = next(b, "message:deleted");
    await call(a, "message:delete", { roomId: room.id, messageId: message.id });
    expect((await deleted).attachments).toBeUndefined();
    for (const f of files) expect((await download(server.url, `/api/files/${f.id}`, bob.token)).status).toBe(404);
    expect(await storedCounts(server)).toEqual(before);

    const unsent = (await put("badge.png", "image/png")).body.attachment as Attachment;
    expect(await server.core.attachments.sweep(new Date())).toBe(0);
    expect(await server.core.attachments.sweep(new Date(Date.now() + 25 * 3600_000))).toBeGreaterThanOrEqual(1);
    expect((await download(server.url, `/api/files/${unsent.id}`, ada.token)).status).toBe(404);
    expect(await storedCounts(server)).toEqual(before);
  });

  it("refuses a 20 MB file (413), and an upload cut off halfway, leaving nothing stored", { timeout: 60_000 }, async () => {
    const { ada, room } = await setup();
    const before = await storedCounts(server);
    const big = Buffer.alloc(20 * 1024 * 1024, 7);
    const route = `/api/rooms/${room.id}/files`;
    // Known too large from Content-Length: refused before it is read.
    const declared = await upload(server.url, route, big, { name: "big.bin", type: "application/octet-stream", token: ada.token });
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe("too_large");
    // Sent without a length: refused once 4 MB have come.
    const streamed = await upload(server.url, route, big, { name: "big.bin", type: "application/octet-stream", token: ada.token, chunked: true });
    expect(streamed.status).toBe(413);
    await until(async () => JSON.stringify(await storedCounts(server)) === JSON.stringify(before));

    // 1 MB of a promised 3 MB, then the connection drops.
    const socket = await cutUpload(server.port, route, ada.token, "application/zip", "cut.zip", 3 * 1024 * 1024, 1024 * 1024);
    await until(async () => (await server.db.prisma.attachment.count()) > before.attachments);
    socket.destroy();
    await until(async () => JSON.stringify(await storedCounts(server)) === JSON.stringify(before));

    // Exactly the limit is fine.
    const fits = await upload(server.url, route, big.subarray(0, 4 * 1024 * 1024), { name: "fits.bin", type: "application/octet-stream", token: ada.token });
    expect(fits.status).toBe(201);
    expect(fits.body.attachment.size).toBe(4 * 1024 * 1024);
  });

  it("refuses uploads without a name, a token or a room of theirs, with stable codes", async () => {
    const { ada, room } = await setup();
    const route = `/api/rooms/${room.id}/files`;
    const data = fixture("report.pdf");
    expect((await upload(server.url, route, data, { type: "application/pdf", token: ada.token })).body.error.code).toBe("invalid_payload");
    expect((await upload(server.url, route, data, { name: "../../../etc/passwd", type: "text/plain", token: ada.token })).body.attachment.name).toBe("passwd");
    expect((await upload(server.url, route, data, { name: "", type: "text/plain", token: ada.token })).body.error.code).toBe("invalid_payload");
    expect((await upload(server.url, route, data, { name: "x".repeat(300), type: "text/plain", token: ada.token })).body.error.code).toBe("too_large");
    expect((await upload(server.url, route, data, { name: "a.pdf", headers: { "content-disposition": "attachment; filename=" } , token: ada.token })).body.error.code).toBe("invalid_payload");
    expect((await upload(server.url, route, data, { name: "a.pdf" })).status).toBe(401);
    expect((await upload(server.url, "/api/rooms/no-such-room/files", data, { name: "a.pdf", token: ada.token })).body.error.code).toBe("not_found");
    // No type, or nonsense: kept as bytes.
    expect((await upload(server.url, route, data, { name: "a", token: ada.token, headers: { "content-type": "<script>" } })).body.attachment.type).toBe("application/octet-stream");
  });

  it("lets a backend upload as a bot, post the files, and download them; a read-only key may not upload", async () => {
    const { bob, b, room } = await setup();
    const headers = { authorization: `Bearer ${KEY}` };
    const up = await upload(server.url, `/api/v1/rooms/${room.id}/files?bot=reporter`, fixture("report.pdf"), { name: "weekly.pdf", type: "application/pdf", headers });
    expect(up.status).toBe(201);
    const file = up.body.attachment as Attachment;
    // Only the bot that uploaded it may post it.
    const asSystem = await api(server.url, "POST", `/api/v1/rooms/${room.id}/messages`, { body: "", attachmentIds: [file.id] }, headers);
    expect(asSystem.body.error.code).toBe("not_found");
    const arrived = next(b, "message:new");
    const posted = await api(server.url, "POST", `/api/v1/rooms/${room.id}/messages`, { body: "This week", bot: { id: "reporter", name: "Reporter" }, attachmentIds: [file.id] }, headers);
    expect(posted.status).toBe(201);
    expect((await arrived).attachments).toEqual([file]);
    const got = await download(server.url, `/api/v1/files/${file.id}`, KEY);
    expect(got.data.equals(fixture("report.pdf"))).toBe(true);
    expect((await download(server.url, `/api/files/${file.id}`, bob.token)).status).toBe(200);
    expect((await download(server.url, `/api/v1/files/${file.id}`)).status).toBe(401);
  });
});

describe("attachments in the directory store, with a read-only key and a narrow type list", () => {
  let server: TestServer;
  beforeAll(async () => {
    const configFile = path.join(mkdtempSync(path.join(tmpdir(), "files-config-")), "switchboard.config.json");
    writeFileSync(configFile, JSON.stringify({ apiKeys: [{ key: READ_ONLY_KEY, readOnly: true }] }));
    server = await startTestServer("embedded", {
      SWITCHBOARD_UPLOAD_STORE: "directory",
      SWITCHBOARD_UPLOAD_TYPES: "image/*, application/pdf",
      SWITCHBOARD_CONFIG: configFile,
    });
  });
  afterEach(() => closeAll());
  afterAll(async () => server?.destroy());

  const filesIn = (dir: string): string[] => {
    try {
      return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    } catch {
      return [];
    }
  };

  it("stores files as files, serves and deletes them, refuses other types (415) and cut-off uploads leave no file", async () => {
    const dir = server.config.uploads.directory;
    const ada = await register(server.url);
    const a = await connect(server.url, ada.token);
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "dir" });
    const route = `/api/rooms/${room.id}/files`;
    const photo = (await upload(server.url, route, fixture("rotated.jpg"), { name: "p.jpg", type: "image/jpeg", token: ada.token })).body.attachment as Attachment;
    expect(filesIn(dir).sort()).toEqual([photo.id, `${photo.id}.thumb`].sort());
    expect((await download(server.url, `/api/files/${photo.id}`, ada.token)).data.equals(fixture("rotated.jpg"))).toBe(true);

    const refused = await upload(server.url, route, fixture("script.svg"), { name: "s.html", type: "text/html", token: ada.token });
    expect(refused.status).toBe(415);
    expect(refused.body.error.code).toBe("unsupported_media_type");
    expect(await server.db.prisma.attachment.count()).toBe(1);

    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "", attachmentIds: [photo.id] });
    await call(a, "message:delete", { roomId: room.id, messageId: message.id });
    expect(filesIn(dir)).toEqual([]);

    const socket = await cutUpload(server.port, route, ada.token, "application/pdf", "cut.pdf", 3_000_000, 500_000);
    await until(async () => filesIn(dir).length > 0);
    socket.destroy();
    await until(async () => filesIn(dir).length === 0 && (await server.db.prisma.attachment.count()) === 0);

    // A read-only key reads but never uploads.
    const asKey = await upload(server.url, `/api/v1/rooms/${room.id}/files`, fixture("badge.png"), { name: "b.png", type: "image/png", headers: { authorization: `Bearer ${READ_ONLY_KEY}` } });
    expect(asKey.status).toBe(403);
    expect((await download(server.url, `/api/v1/files/${photo.id}`, READ_ONLY_KEY)).status).toBe(404); // deleted with its message
  });
});

interface ChatCall {
  socket: import("./support/clients").ChatSocket;
  payload: object;
}

describe("attachments in an S3-compatible bucket (s3rver, a local S3 server)", () => {
  let server: TestServer;
  let s3rver: S3rver;
  let s3: S3Client;
  const bucket = "switchboard-files";
  beforeAll(async () => {
    s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: mkdtempSync(path.join(tmpdir(), "s3rver-")), configureBuckets: [{ name: bucket, configs: [] }] });
    const { port } = (await s3rver.run()) as unknown as { port: number };
    const endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    server = await startTestServer("embedded", {
      SWITCHBOARD_UPLOAD_STORE: "s3",
      SWITCHBOARD_S3_BUCKET: bucket,
      SWITCHBOARD_S3_ENDPOINT: endpoint,
      SWITCHBOARD_S3_PREFIX: "files/",
      SWITCHBOARD_S3_ACCESS_KEY_ID: "S3RVER",
      SWITCHBOARD_S3_SECRET_ACCESS_KEY: "S3RVER",
    });
  });
  afterEach(() => closeAll());
  afterAll(async () => {
    await server?.destroy();
    await s3rver?.close();
  });

  const objects = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  it("streams files into the bucket in parts, serves them, deletes them with the message, and a cut-off upload leaves no object", async () => {
    const ada = await register(server.url);
    const a = await connect(server.url, ada.token);
    const { room } = await call<{ room: Room }>(a, "room:create", { name: "s3" });
    const route = `/api/rooms/${room.id}/files`;
    const photo = (await upload(server.url, route, fixture("rotated.jpg"), { name: "p.jpg", type: "image/jpeg", token: ada.token })).body.attachment as Attachment;
    // Bigger than one 5 MiB part: a multipart upload.
    const big = Buffer.alloc(7 * 1024 * 1024, 3);
    const archive = (await upload(server.url, route, big, { name: "a.bin", type: "application/octet-stream", token: ada.token, chunked: true })).body.attachment as Attachment;
    expect(await objects()).toEqual([`files/${photo.id}`, `files/${photo.id}.thumb`, `files/${archive.id}`].sort());
    expect((await download(server.url, `/api/files/${archive.id}`, ada.token)).data.equals(big)).toBe(true);
    expect((await download(server.url, `/api/files/${photo.id}/thumbnail`, ada.token)).headers.get("content-type")).toBe("image/jpeg");

    const { message } = await call<{ message: Message }>(a, "message:send", { roomId: room.id, body: "", attachmentIds: [photo.id, archive.id] });
    await call(a, "message:delete", { roomId: room.id, messageId: message.id });
    expect(await objects()).toEqual([]);

    const socket = await cutUpload(server.port, route, ada.token, "application/zip", "cut.zip", 9_000_000, 6 * 1024 * 1024);
    await until(async () => (await server.db.prisma.attachment.count()) > 0);
    socket.destroy();
    await until(async () => (await server.db.prisma.attachment.count()) === 0 && (await objects()).length === 0);
  });

  it("refuses to start with the s3 store but no bucket, or one key without the other", () => {
    expect(() => testConfig({ SWITCHBOARD_UPLOAD_STORE: "s3" })).toThrow(/SWITCHBOARD_S3_BUCKET: required/);
    expect(() => testConfig({ SWITCHBOARD_UPLOAD_STORE: "s3", SWITCHBOARD_S3_BUCKET: "b-1", SWITCHBOARD_S3_ACCESS_KEY_ID: "k" })).toThrow(/give both or neither/);
    expect(() => testConfig({ SWITCHBOARD_UPLOAD_STORE: "s3", SWITCHBOARD_S3_BUCKET: "Bad_Bucket" })).toThrow(/SWITCHBOARD_S3_BUCKET/);
  });
});
