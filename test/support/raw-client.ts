/**
 * A Socket.IO client made of raw Engine.IO/Socket.IO text frames over a
 * WebSocket: for speaking the wire protocol by hand, and for sending what a
 * well-behaved client library never would (several CONNECT packets at once).
 */
import WebSocket from "ws";

export class RawClient {
  private readonly frames: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = data.toString();
      if (frame === "2") return void ws.send("3"); // ping → pong
      this.frames.push(frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, { headers });
    const client = new RawClient(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    return client;
  }

  send(frame: string): void {
    this.ws.send(frame);
  }

  /** Waits for (and removes) the first frame matching `test`. */
  async take(test: (frame: string) => boolean): Promise<string> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = this.frames.findIndex(test);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching frame; have ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Emits `event` with ack id `id` and returns the ack's argument. */
  async emit(id: number, event: string, payload: unknown): Promise<any> {
    this.send(`42${id}${JSON.stringify([event, payload])}`);
    const ack = await this.take((f) => f.startsWith(`43${id}[`));
    return JSON.parse(ack.slice(`43${id}`.length))[0];
  }

  close(): void {
    this.ws.close();
  }
}
