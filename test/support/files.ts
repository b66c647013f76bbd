/**
 * Uploading and downloading files over HTTP as the web UI and curl do, with
 * node:http (a client address can be chosen, and an answer is read even when
 * the server stops reading the upload early).
 */
import { get, request as httpRequest } from "node:http";
import { connect as tcpConnect, type Socket } from "node:net";

/**
 * Starts an upload that promises `length` bytes and sends only `sent` of them,
 * as a browser tab closed halfway does; the caller drops the connection
 * (`destroy()`) once the server has begun storing it.
 */
export async function cutUpload(port: number, route: string, token: string, type: string, name: string, length: number, sent: number): Promise<Socket> {
  const socket = tcpConnect(port, "127.0.0.1");
  // The server may close its side first; a write failing then is expected.
  socket.on("error", () => undefined);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    `POST ${route} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${type}\r\n` +
      `Content-Disposition: attachment; filename="${name}"\r\nContent-Length: ${length}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(sent, 1));
  return socket;
}

/** POSTs a file as the body, as the web UI and curl do; answers even if the server stops reading early. */
export function upload(
  url: string,
  route: string,
  data: Buffer,
  {
    name,
    type,
    token,
    chunked = false,
    headers = {},
    localAddress,
  }: { name?: string; type?: string; token?: string; chunked?: boolean; headers?: Record<string, string>; localAddress?: string },
): Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${route}`, {
      method: "POST",
      // A connection of its own: one the server answered early is never handed to a later request.
      agent: false,
      ...(localAddress ? { localAddress } : {}),
      headers: {
        ...(type ? { "content-type": type } : {}),
        ...(name !== undefined ? { "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}` } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(data.length) }),
        ...headers,
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // not JSON (a proxy's error page): kept as text
        }
        resolve({ status: res.statusCode!, body, headers: res.headers });
      });
    });
    // The server may answer (413) and close while this is still sending.
    req.on("error", (err) => (/EPIPE|ECONNRESET/.test(String(err)) ? undefined : reject(err)));
    // A write still under way when the answer has come fails on the socket after the request let go of it.
    req.on("socket", (socket) => socket.on("error", () => undefined));
    // In pieces, as a network delivers a large body.
    for (let i = 0; i < data.length; i += 1 << 20) req.write(data.subarray(i, i + (1 << 20)));
    req.end();
  });
}

/** GETs a file (from `localAddress`, to pick an instance behind a load balancer). */
export function download(
  url: string,
  route: string,
  token?: string,
  localAddress?: string,
): Promise<{ status: number; headers: { get(name: string): string | null }; data: Buffer }> {
  return new Promise((resolve, reject) => {
    get(`${url}${route}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, ...(localAddress ? { localAddress, agent: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const header = (name: string) => res.headers[name.toLowerCase()];
        resolve({ status: res.statusCode!, headers: { get: (name) => (header(name) === undefined ? null : String(header(name))) }, data: Buffer.concat(chunks) });
      });
    }).on("error", reject);
  });
}

