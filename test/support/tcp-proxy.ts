/**
 * A TCP proxy a test can cut and restore, to make a dependency (PostgreSQL)
 * really go away and come back on the same port.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";

export class TcpProxy {
  private server: Server | null = null;
  private readonly open = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  /** A proxy to the host and port of `url` (e.g. a PostgreSQL URL); `proxied` is that URL through the proxy. */
  static async forUrl(url: string): Promise<{ proxy: TcpProxy; proxied: string }> {
    const u = new URL(url);
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    await proxy.start();
    u.port = String(proxy.port);
    return { proxy, proxied: u.toString() };
  }

  /** Listens (again, on the same port once it has one): the dependency is back. */
  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = tcpConnect(this.target);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on("close", () => this.open.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** The dependency "goes away": connections drop and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.open) s.destroy();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  }
}
