/**
 * Sticky sessions for cluster mode without a race. The primary owns the port
 * and hands each TCP connection to a worker, with the chunks it read to route
 * it. `@socket.io/sticky`'s own primary learns which worker owns a session
 * from an IPC message the worker sends when the session opens, which can
 * arrive after the client's next request: that request then goes to a random
 * worker and fails with 400 "Session ID unknown" (socketio/socket.io-sticky#2;
 * seen under load in test/cluster.test.ts). Here the session id itself names
 * its worker (`<worker id in base 36>_<random>`), so the primary routes every
 * request by reading it, with nothing to wait for.
 *
 * Both sides are here, speaking `@socket.io/sticky`'s protocol (the socket
 * with its first chunk, then later chunks of a request body by connection id)
 * with one difference: chunks travel base64-encoded. IPC messages are JSON,
 * and `@socket.io/sticky` sends chunks as UTF-8 strings, which corrupts any
 * chunk that is not valid UTF-8 on its own — a character split across two
 * TCP segments, or a binary body.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { Socket } from "node:net";
import type { IoServer } from "../realtime/types";

const SID_WORKER = /[?&]sid=([0-9a-z]+)_/;

/** Primary → worker: a connection (the socket goes along) with the chunk read to route it, or a later chunk of its body. */
type StickyMessage =
  | { type: "sb:sticky-connection"; data: string; connectionId: string | null }
  | { type: "sb:sticky-chunk"; data: string; connectionId: string };

function isStickyMessage(msg: unknown): msg is StickyMessage {
  const m = msg as Partial<StickyMessage> | null;
  return (m?.type === "sb:sticky-connection" || m?.type === "sb:sticky-chunk") && typeof m.data === "string";
}

/**
 * In a worker: takes the connections the primary hands over, issues session
 * ids that name this worker, and closes every HTTP response's connection.
 * The primary routes a TCP connection once, by its first request; a browser
 * that reuses a keep-alive connection (to a page, the API, or another tab's
 * session) for a session's poll would reach a worker that does not know the
 * session: 400 "Session ID unknown" (socketio/socket.io-sticky#8). WebSocket
 * upgrades are not requests and keep their connection.
 */
export function stickyWorker(io: IoServer, httpServer: HttpServer): void {
  const worker = cluster.worker;
  if (!worker) throw new Error("stickyWorker is for cluster workers");
  // This worker's connections whose request body may still arrive through the primary.
  const awaitingBody = new Map<string, Socket>();
  process.on("message", (msg: unknown, handle: unknown) => {
    if (!isStickyMessage(msg)) return;
    const data = Buffer.from(msg.data, "base64");
    if (msg.type === "sb:sticky-chunk") {
      awaitingBody.get(msg.connectionId)?.emit("data", data);
      return;
    }
    // No socket: the connection closed while it was being passed over.
    if (!(handle instanceof Socket)) return;
    httpServer.emit("connection", handle);
    // The chunk the primary read to route the connection, as if read here.
    handle.emit("data", data);
    handle.resume();
    const { connectionId } = msg;
    if (connectionId) {
      awaitingBody.set(connectionId, handle);
      handle.once("close", () => awaitingBody.delete(connectionId));
    }
  });
  io.engine.generateId = () => `${worker.id.toString(36)}_${randomBytes(15).toString("base64url")}`;
  // First listener, before anything writes a header.
  httpServer.prependListener("request", (_req, res) => res.setHeader("Connection", "close"));
}

/**
 * In the primary: routes each new connection by its first request's session
 * id, else round-robin over the workers that are `ready` (a replacement
 * worker that is still starting has no server to take a connection yet).
 */
export function routeConnections(httpServer: HttpServer, ready: (worker: Worker) => boolean): void {
  let turn = 0;
  const pick = (firstChunk: string) => {
    const owner = SID_WORKER.exec(firstChunk.slice(0, firstChunk.indexOf("\r\n")));
    const worker = owner ? cluster.workers?.[parseInt(owner[1]!, 36)] : undefined;
    if (worker?.isConnected() && ready(worker)) return worker;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w?.isConnected() && ready(w));
    return live.length > 0 ? live[turn++ % live.length] : undefined;
  };

  httpServer.on("connection", (socket: Socket) => {
    let connectionId: string | null = null;
    let worker: ReturnType<typeof pick>;
    const failed = (err: Error | null) => {
      if (err) socket.destroy();
    };
    socket.on("data", (buffer: Buffer) => {
      const data = buffer.toString("base64");
      if (worker) {
        // Later chunks of a request body, for a socket the worker already holds.
        if (connectionId && worker.isConnected()) {
          const chunk: StickyMessage = { type: "sb:sticky-chunk", data, connectionId };
          worker.send(chunk, failed);
        }
        return;
      }
      // Latin-1 maps each byte to one character: the request line and headers read as sent.
      const text = buffer.toString("latin1");
      worker = pick(text);
      if (!worker) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      const head = text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
      // A body may follow in further chunks: keep the socket readable here to forward them.
      const moreChunks = head.includes("content-length:") || head.includes("transfer-encoding:");
      if (moreChunks) connectionId = randomBytes(8).toString("hex");
      const connection: StickyMessage = { type: "sb:sticky-connection", data, connectionId };
      worker.send(connection, socket, { keepOpen: moreChunks }, failed);
    });
  });
  // Lets the primary see the end of a request body it forwards.
  httpServer.on("request", (req) => req.resume());
}
