import { writeHeapSnapshot } from "node:v8";

/**
 * The IPC protocol between the load generator (parent) and a bench server
 * launcher (child, started with `--expose-gc`). The child side lives here too:
 * {@link serveIpc} answers heap statistics taken after a full GC, which is how
 * heap per connection is measured without adding anything to server/.
 */
export interface ReadyMessage {
  type: "ready";
  url: string;
  port: number;
}

/** `gc: false` reads counters without forcing a GC (cheap enough to ask during a measurement). */
export type ChildRequest =
  | { id: number; type: "stats"; gc: boolean }
  | { id: number; type: "snapshot"; file: string }
  | { id: number; type: "shutdown" };

export interface HeapStats {
  /** process.memoryUsage() after two full GCs (bytes). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** Whether a full GC ran before the numbers were taken (needs --expose-gc). */
  gc: boolean;
  /** Engine.IO connections open on the server. */
  connections: number;
  /** Messages stored by Switchboard's writer so far (0 for the relay). */
  storedMessages: number;
  writeBatches: number;
}

export type ChildReply =
  | { id: number; type: "stats"; stats: HeapStats }
  | { id: number; type: "snapshot"; file: string }
  | { id: number; type: "shutdown" }
  | { id: number; type: "error"; message: string };

export interface ServedServer {
  url: string;
  port: number;
  connections(): number;
  writer(): { messages: number; batches: number };
  close(): Promise<void>;
}

/** Child side: tells the parent the server is ready and answers its requests. */
export function serveIpc(server: ServedServer): void {
  if (!process.send) {
    console.log(`listening on ${server.url} (no IPC parent: stats unavailable)`);
    return;
  }
  const send = (msg: ReadyMessage | ChildReply) => process.send?.(msg);
  let closing: Promise<void> | null = null;
  const shutdown = () =>
    (closing ??= server
      .close()
      .catch((err: unknown) => console.error("close failed:", err))
      .then(() => undefined));

  process.on("message", (req: ChildRequest) => {
    if (req.type === "stats") {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && req.gc) {
        gc();
        gc();
      }
      const mem = process.memoryUsage();
      const writer = server.writer();
      send({
        id: req.id,
        type: "stats",
        stats: {
          heapUsed: mem.heapUsed,
          heapTotal: mem.heapTotal,
          external: mem.external,
          arrayBuffers: mem.arrayBuffers,
          rss: mem.rss,
          gc: gc !== undefined && req.gc,
          connections: server.connections(),
          storedMessages: writer.messages,
          writeBatches: writer.batches,
        },
      });
    } else if (req.type === "snapshot") {
      (globalThis as { gc?: () => void }).gc?.();
      send({ id: req.id, type: "snapshot", file: writeHeapSnapshot(req.file) });
    } else if (req.type === "shutdown") {
      void shutdown().then(() => {
        send({ id: req.id, type: "shutdown" });
        // Exit normally so that --cpu-prof writes its profile.
        setTimeout(() => process.exit(0), 50);
      });
    }
  });
  // The generator went away (crash, kill -9): do not outlive it.
  process.on("disconnect", () => void shutdown().then(() => process.exit(0)));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void shutdown().then(() => process.exit(0)));
  }
  send({ type: "ready", url: server.url, port: server.port });
}
