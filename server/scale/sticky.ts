/**
 * Sticky sessions for cluster mode without a race. The primary owns the port
 * and hands each TCP connection to a worker (the worker side is
 * `@socket.io/sticky`'s `setupWorker`, whose messages this speaks).
 * `@socket.io/sticky`'s own primary learns which worker owns a session from
 * an IPC message the worker sends when the session opens, which can arrive
 * after the client's next request: that request then goes to a random worker
 * and fails with 400 "Session ID unknown" (socketio/socket.io-sticky#2; seen
 * under load in test/cluster.test.ts). Here the session id itself names its
 * worker (`<worker id in base 36>_<random>`), so the primary routes every
 * request by reading it, with nothing to wait for.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import { setupWorker } from "@socket.io/sticky";
import type { IoServer } from "../realtime/types";

const SID_WORKER = /[?&]sid=([0-9a-z]+)_/;

/**
 * In a worker: takes the connections the primary hands over
 * (`@socket.io/sticky`'s worker side), issues session ids that name this
 * worker, and closes every HTTP response's connection. The primary routes a
 * TCP connection once, by its first request; a browser that reuses a
 * keep-alive connection (to a page, the API, or another tab's session) for a
 * session's poll would reach a worker that does not know the session: 400
 * "Session ID unknown" (socketio/socket.io-sticky#8). WebSocket upgrades are
 * not requests and keep their connection.
 */
export function stickyWorker(io: IoServer, httpServer: HttpServer): void {
  const worker = cluster.worker;
  if (!worker) throw new Error("stickyWorker is for cluster workers");
  setupWorker(io as unknown as Parameters<typeof setupWorker>[0]);
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
      const data = buffer.toString(); // setupWorker turns it back with Buffer.from(data)
      if (worker) {
        // Later chunks of a request body, for a socket the worker already holds.
        if (connectionId && worker.isConnected()) worker.send({ type: "sticky:http-chunk", data, connectionId }, failed);
        return;
      }
      worker = pick(data);
      if (!worker) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      const head = data.slice(0, data.indexOf("\r\n\r\n")).toLowerCase();
      // A body may follow in further chunks: keep the socket readable here to forward them.
      const moreChunks = head.includes("content-length:") || head.includes("transfer-encoding:");
      if (moreChunks) connectionId = randomBytes(8).toString("hex");
      worker.send({ type: "sticky:connection", data, connectionId }, socket, { keepOpen: moreChunks }, failed);
    });
  });
  // Lets the primary see the end of a request body it forwards.
  httpServer.on("request", (req) => req.resume());
}
