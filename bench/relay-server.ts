/**
 * The baseline: a bare Socket.IO 4.8 relay in the shape of Socket.IO's own
 * chat example. No auth, no validation, no storage:
 *
 *   join {room}                 → socket.join(room), ack {ok: true}
 *   send {roomId, body, …}      → io.to(roomId).emit("message:new", payload)  (the sender included,
 *                                 as Switchboard does), ack {ok: true}
 *   POST /publish {room, event, data}  → io.to(room).emit(event, data), 200 {"ok":true}
 *                                 (the HTTP-publish baseline: Switchboard's POST /api/v1/publish)
 *
 * Same engine options as Switchboard (maxHttpBufferSize), same launcher IPC
 * (heap after GC) so both are measured the same way. With REDIS_URL it uses
 * the Socket.IO Redis adapter (@socket.io/redis-adapter over node-redis, as
 * Socket.IO's docs set it up and as Switchboard does), for the two-instance runs.
 *
 * With RELAY_MESSAGE_SHAPE=stored it relays what Switchboard sends instead:
 * a message shaped like a stored one (id, author, timestamps) and an ack that
 * carries it — the same bytes on the wire without the storage, to tell the
 * cost of bigger frames from the cost of storing (docs/benchmarks.md).
 *
 *   PORT=0 [REDIS_URL=redis://…] [RELAY_MESSAGE_SHAPE=stored] node --expose-gc --import tsx bench/relay-server.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { serveIpc } from "./lib/ipc";

type Ack = (response: { ok: boolean; message?: unknown }) => void;
const storedShape = process.env.RELAY_MESSAGE_SHAPE === "stored";
let seq = 0;

const httpServer = createServer();
const io = new Server(httpServer, { maxHttpBufferSize: 100_000 });
const redisUrl = process.env.REDIS_URL;
const pub = redisUrl ? createClient({ url: redisUrl }) : null;
const sub = pub?.duplicate() ?? null;
if (pub && sub) {
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on("connection", (socket) => {
  socket.on("join", (payload: { room: string }, ack?: Ack) => {
    void socket.join(payload.room);
    ack?.({ ok: true });
  });
  socket.on("send", (payload: { roomId: string; body: string; clientMsgId?: string }, ack?: Ack) => {
    if (!storedShape) {
      io.to(payload.roomId).emit("message:new", payload);
      ack?.({ ok: true });
      return;
    }
    const authorId = `cm${socket.id.padEnd(23, "0").slice(0, 23)}`;
    const message = {
      id: String(++seq),
      roomId: `cm${payload.roomId.padEnd(23, "0").slice(0, 23)}`,
      authorId,
      author: { id: authorId, displayName: "bench user" },
      body: payload.body,
      createdAt: new Date().toISOString(),
      clientMsgId: payload.clientMsgId,
    };
    io.to(payload.roomId).emit("message:new", message);
    ack?.({ ok: true, message });
  });
});

httpServer.on("request", (req, res) => {
  if (req.url?.startsWith("/socket.io/")) return; // Socket.IO answers those
  if (req.method !== "POST" || req.url !== "/publish") {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    try {
      const { room, event, data } = JSON.parse(Buffer.concat(chunks).toString()) as { room: string; event: string; data: unknown };
      io.to(room).emit(event, data);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    } catch {
      res.writeHead(400).end();
    }
  });
});

const host = process.env.HOST ?? "127.0.0.1";
await new Promise<void>((resolve) => httpServer.listen(Number(process.env.PORT ?? 0), host, resolve));
const { port } = httpServer.address() as AddressInfo;

serveIpc({
  url: `http://${host}:${port}`,
  port,
  connections: () => io.engine.clientsCount,
  writer: () => ({ messages: 0, batches: 0 }),
  close: async () => {
    await new Promise<void>((resolve) => void io.close(() => resolve()));
    await Promise.all([pub?.close(), sub?.close()]);
  },
});
