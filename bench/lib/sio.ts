/**
 * A lean Socket.IO v4 client: Engine.IO 4 / Socket.IO 5 text frames over a raw
 * `ws` WebSocket (docs/protocol.md, "Speaking the wire protocol by hand").
 * No socket.io-client, no reconnection, no JSON parsing of received events:
 * the load generator looks at the raw frame bytes, so thousands of receivers
 * cost little next to the server under test.
 */
import WebSocket from "ws";

/** Wall-clock milliseconds with sub-millisecond precision; shared by every process on this machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export type RawAck = (frame: Buffer, at: number) => void;

const CH_0 = 0x30;
const CH_2 = 0x32;
const CH_3 = 0x33;
const CH_4 = 0x34;
const BRACKET = 0x5b;

export class ConnectError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "ConnectError";
  }
}

export class SioClient {
  /** Receives every server event frame (`42[...]`) with its arrival time. */
  onEvent: ((frame: Buffer, at: number) => void) | null = null;
  /** Called once if the connection closes after it was established. */
  onClose: ((code: number) => void) | null = null;
  private nextAckId = 1;
  private readonly acks = new Map<number, RawAck>();
  private connected = false;
  private closedByUs = false;

  private constructor(private readonly ws: WebSocket) {}

  /**
   * Opens `ws://…/socket.io/?EIO=4&transport=websocket`, connects namespace `/`
   * with `auth` (or none) and resolves once the server answered `40{…}`.
   */
  static connect(baseUrl: string, auth: object | null, timeoutMs = 30_000): Promise<SioClient> {
    const url = `${baseUrl.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const client = new SioClient(ws);
    return new Promise<SioClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new ConnectError(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        client.closedByUs = true;
        ws.removeAllListeners("message");
        ws.terminate();
        reject(err);
      };
      ws.on("error", (err) => {
        if (!client.connected) fail(err);
      });
      ws.on("close", (code) => {
        if (!client.connected) fail(new ConnectError(`closed during handshake (${code})`));
        else if (!client.closedByUs) client.onClose?.(code);
      });
      ws.on("message", (data: Buffer) => {
        if (client.connected) return client.handle(data);
        const c0 = data[0];
        if (c0 === CH_0) {
          // Engine.IO open packet: now connect namespace "/".
          ws.send(auth ? `40${JSON.stringify(auth)}` : "40");
        } else if (c0 === CH_4 && data[1] === CH_0) {
          client.connected = true;
          clearTimeout(timer);
          resolve(client);
        } else if (c0 === CH_4 && data[1] === CH_4) {
          const body = safeJson(data.toString("utf8", 2)) as { message?: string; data?: unknown } | null;
          fail(new ConnectError(body?.message ?? "connect refused", body?.data));
        } else if (c0 === CH_2) {
          ws.send("3");
        }
      });
    });
  }

  private handle(data: Buffer): void {
    const c0 = data[0];
    if (c0 === CH_4) {
      const c1 = data[1];
      if (c1 === CH_2) {
        this.onEvent?.(data, now());
        return;
      }
      if (c1 === CH_3) {
        const at = now();
        const bracket = data.indexOf(BRACKET, 2);
        const id = Number(data.toString("latin1", 2, bracket));
        const cb = this.acks.get(id);
        if (cb) {
          this.acks.delete(id);
          cb(data, at);
        }
      }
      return;
    }
    if (c0 === CH_2) this.ws.send("3"); // ping → pong
  }

  /** Sends an event with an ack; `build` gets the ack id and returns the whole frame. */
  emitRaw(build: (ackId: number) => string, onAck: RawAck): void {
    const id = this.nextAckId++;
    this.acks.set(id, onAck);
    this.ws.send(build(id));
  }

  /** Emits `event` with an ack and resolves with the ack's first argument (parsed); for setup, not the hot path. */
  request<T = unknown>(event: string, payload: unknown, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${event}: no ack within ${timeoutMs} ms`)), timeoutMs);
      this.emitRaw(
        (id) => `42${id}${JSON.stringify([event, payload])}`,
        (frame) => {
          clearTimeout(timer);
          const args = JSON.parse(frame.toString("utf8", frame.indexOf(BRACKET, 2))) as unknown[];
          resolve(args[0] as T);
        },
      );
    });
  }

  /** Acks still awaited. */
  get pending(): number {
    return this.acks.size;
  }

  get isOpen(): boolean {
    return this.connected && !this.closedByUs && this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.closedByUs = true;
    this.acks.clear();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * True unless a frame is a refusal: refusals start `{"ok":false`, while a
 * success carries its result first and `"ok":true` last (the relay's is only `{"ok":true}`).
 */
export function ackOk(frame: Buffer): boolean {
  const bracket = frame.indexOf(BRACKET, 2);
  return frame.toString("latin1", bracket + 1, bracket + 12) !== '{"ok":false';
}

/** Runs `task` over `items` with at most `limit` in flight; rejects on the first failure. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
