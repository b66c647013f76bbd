/**
 * Who may open a connection, besides having a valid token: limits on new
 * connections per address and on open connections per user (and, in other
 * namespaces, per address). Each is a
 * Socket.IO middleware; a refusal reaches the client as `connect_error` whose
 * `message` is the error code and whose `data` is `{code, message,
 * retryAfter?}`.
 */
import type { IncomingMessage } from "node:http";
import { maxConnectionsPerIp, type NamespaceSettings } from "../config";
import { AppError, toAppError } from "../core/errors";
import { clientAddress, clientIp, limitKey } from "../limits/client-address";
import type { Throttles } from "../limits/throttles";
import type { Logger } from "../logger";
import { askConnectProxy } from "./connect-proxy";
import { socketRooms } from "./socket-rooms";
import type { AnyNamespace, AnySocket, ChannelSocket } from "./types";

type Middleware = (socket: AnySocket, next: (err?: Error) => void) => void;

/** The error a middleware passes to `next` to refuse a connection. */
export function connectRefusal(error: AppError): Error {
  return Object.assign(new Error(error.code), { data: error.toBody() });
}

/** The connecting client's address, as limits count it (see limits/client-address.ts). */
export function socketAddress(socket: AnySocket, trustProxy: number): string {
  return clientAddress(socket.handshake.address, socket.handshake.headers["x-forwarded-for"], trustProxy);
}

/** Runs an async admission check as a middleware: refuses with its coded error, logs the unexpected. */
export function admission<S extends AnySocket = AnySocket>(log: Logger, check: (socket: S) => Promise<void>): (socket: S, next: (err?: Error) => void) => void {
  return (socket, next) => {
    check(socket).then(
      () => next(),
      (err: unknown) => {
        const { error, isBug } = toAppError(err);
        if (isBug || error.code === "unavailable") log.warn({ err }, "connection refused");
        next(connectRefusal(error));
      },
    );
  };
}

/**
 * Engine.IO's `allowRequest`: new Socket.IO sessions per client address (at
 * twice the connection rate, as a session may join several namespaces).
 * A session that never joins a namespace still holds memory until Socket.IO's
 * connect timeout; this bounds how many one address can open. Refused with
 * HTTP 403 and the reason (Engine.IO's answer: no code travels at this level).
 */
export function throttleHandshakes(throttles: Throttles, trustProxy: number) {
  return (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void => {
    throttles.handshake(clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trustProxy)).then(
      () => callback(null, true),
      (err: unknown) => callback(err instanceof AppError ? err.code : "unavailable", false),
    );
  };
}

/** New connections per client address per minute, counted before any token is checked. */
export function throttleConnections(throttles: Throttles, trustProxy: number, log: Logger): Middleware {
  return admission(log, (socket) => throttles.connect(socketAddress(socket, trustProxy)));
}

/** How long the other instances have to say how many connections they hold. */
const COUNT_TIMEOUT_MS = 2000;

/**
 * How many connections `room` holds: this instance's, connected or still
 * being admitted (a connection joins the room it is counted in before it is
 * counted, so simultaneous handshakes see each other), and — when the other
 * instances can be reached — theirs. While Redis is away a cluster-wide
 * query would wait for it, and an instance that has just died never
 * answers: each instance then counts alone (a limit that holds per instance
 * for a while, rather than refusing everyone).
 */
export async function connectionsIn(nsp: AnyNamespace, room: string, clusterReachable: boolean, log: Logger): Promise<number> {
  const here = nsp.adapter.rooms.get(room)?.size ?? 0;
  if (!clusterReachable) return here;
  // Those of this instance come back too (if admitted): counted above already.
  const everywhere = await socketsIn(nsp, room, clusterReachable, log);
  return here + everywhere.filter((s) => !nsp.sockets.has(s.id)).length;
}

/** The connected sockets in `room` on every instance, or on this one alone when the others cannot answer (as above). */
export async function socketsIn(nsp: AnyNamespace, room: string, clusterReachable: boolean, log: Logger) {
  if (clusterReachable) {
    try {
      return await nsp.in(room).timeout(COUNT_TIMEOUT_MS).fetchSockets();
    } catch (err) {
      log.warn({ err, namespace: nsp.name }, "other instances did not say which connections they hold; counting this instance's");
    }
  }
  return nsp.local.in(room).fetchSockets();
}

/** At most `max` open connections per user in the chat namespace, counted over every instance. */
export function limitUserConnections(max: number, clusterReachable: () => boolean, log: Logger): Middleware {
  return admission(log, async (socket) => {
    const user = socket.data.user;
    if (!user) return;
    const room = socketRooms.user(user.id);
    socket.join(room);
    if ((await connectionsIn(socket.nsp, room, clusterReachable(), log)) > max) {
      throw new AppError("too_many_connections", `at most ${max} connections per user: close another tab or device first`);
    }
  });
}

/**
 * A configured namespace's admission, after authentication: the connect
 * proxy (if configured) decides who the user is and what to join; then the
 * per-address and per-user connection limits apply (at the per-user limit,
 * `replace-oldest` closes the user's oldest connections instead of refusing).
 */
export function admitToNamespace(
  namespace: string,
  settings: NamespaceSettings,
  trustProxy: number,
  clusterReachable: () => boolean,
  log: Logger,
) {
  return admission<ChannelSocket>(log, async (socket) => {
    const ip = clientIp(socket.handshake.address, socket.handshake.headers["x-forwarded-for"], trustProxy);
    if (settings.connectProxy) {
      const decision = await askConnectProxy(settings.connectProxy, namespace, socket, socket.data.user, ip);
      socket.data.user = decision.user;
      socket.join([...decision.groups.map(socketRooms.group), ...decision.channels.map(socketRooms.channel)]);
    }
    const reachable = clusterReachable();
    const perAddress = maxConnectionsPerIp(settings);
    if (perAddress !== null) {
      const room = socketRooms.address(limitKey(ip));
      socket.join(room);
      if ((await connectionsIn(socket.nsp, room, reachable, log)) > perAddress) {
        throw new AppError("too_many_connections", `at most ${perAddress} connections per address in ${namespace}`);
      }
    }
    const user = socket.data.user;
    const max = settings.maxConnectionsPerUser;
    if (!user || max === undefined) return;
    const room = socketRooms.user(user.id);
    socket.join(room);
    const count = await connectionsIn(socket.nsp, room, reachable, log);
    if (count <= max) return;
    if (settings.onConnectionLimit === "reject") {
      throw new AppError("too_many_connections", `at most ${max} connection(s) per user in ${namespace}`);
    }
    // The newer connection replaces the oldest (the user moved to another
    // device). A server-side disconnect is not retried by Socket.IO clients,
    // so they do not fight back.
    const existing = await socketsIn(socket.nsp, room, reachable, log);
    const oldest = existing.sort((a, b) => a.handshake.issued - b.handshake.issued).slice(0, count - max);
    for (const old of oldest) {
      socket.nsp.to(old.id).emit("connection:replaced", { by: socket.id });
      old.disconnect(true);
    }
  });
}
