/**
 * Namespaces besides the chat (`/`), configured in the config file: who may
 * connect, whether clients may publish to channels themselves, whether channel
 * presence can be asked. Every connection learns its client id first
 * (`client:hello`), so a page can hand it to its backend (a "scan to log in"
 * page, say); backends then reach it through the HTTP API.
 */
import { z } from "zod";
import { channelName } from "../../shared/gateway";
import { jsonData, text } from "../../shared/text";
import { maxConnectionsPerIp, type NamespaceSettings } from "../config";
import type { Core } from "../core";
import { AppError } from "../core/errors";
import { clientIp, limitKey } from "../limits/client-address";
import { TokenBucket, type KeyedBuckets } from "../limits/token-bucket";
import type { Throttles } from "../limits/throttles";
import type { Logger } from "../logger";
import { admission, connectionsIn, socketsIn, throttleConnections } from "./admission";
import { authMiddleware, watchSession } from "./auth";
import { askConnectProxy } from "./connect-proxy";
import type { EventSpec, EventTable } from "./events";
import { dispatch } from "./handle";
import { socketRooms } from "./socket-rooms";
import type { IoServer, IoSocket } from "./types";

interface NamespaceContext {
  socket: IoSocket;
  settings: NamespaceSettings;
  /** Channel names must match this (the namespace's `channelPattern`), if set. */
  channelPattern: RegExp | null;
  namespace: string;
  core: Core;
}

const channelInput = z.strictObject({ channel: channelName });
const publishInput = z.strictObject({ channel: channelName, data: jsonData });
const historyInput = z.strictObject({
  channel: channelName,
  before: z.string().regex(/^[1-9][0-9]{0,18}$/).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
const presenceInput = z.strictObject({
  channel: channelName,
  /** A page of at most this many subscribers, after the client id `after`. */
  limit: z.number().int().min(1).max(1000).default(1000),
  after: text().min(1).max(400).optional(),
});

function event<S extends z.ZodType>(spec: EventSpec<S, NamespaceContext>): EventSpec<S, NamespaceContext> {
  return spec;
}

/** The channel, if its name is allowed in this namespace. */
function allowed(ctx: NamespaceContext, channel: string): string {
  if (ctx.channelPattern && !ctx.channelPattern.test(channel)) {
    throw new AppError("invalid_payload", `channel: "${channel}" is not a channel of ${ctx.namespace}`);
  }
  return channel;
}

/** Throws unless the connection is subscribed to the channel (history and presence are for subscribers). */
function subscribed(ctx: NamespaceContext, channel: string): void {
  if (!ctx.socket.rooms.has(socketRooms.channel(allowed(ctx, channel)))) {
    throw new AppError("forbidden", "subscribe to the channel first");
  }
}

const namespaceEvents: EventTable<NamespaceContext> = {
  "channel:subscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: async (ctx, { channel }) => {
      const { socket, settings } = ctx;
      const room = socketRooms.channel(allowed(ctx, channel));
      if (!socket.rooms.has(room) && socketRooms.channelsOf(socket.rooms).length >= settings.maxChannelsPerConnection) {
        throw new AppError("limit_exceeded", `at most ${settings.maxChannelsPerConnection} channels per connection: unsubscribe from one first`);
      }
      await socket.join(room);
      return {};
    },
  }),
  "channel:unsubscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: async ({ socket }, { channel }) => (await socket.leave(socketRooms.channel(channel)), {}),
  }),
  "channel:publish": event({
    schema: publishInput,
    ackRequired: true,
    run: async (ctx, { channel, data }) => {
      const { socket, settings, namespace, core } = ctx;
      if (!settings.clientPublish) throw new AppError("forbidden", "clients may not publish in this namespace");
      subscribed(ctx, channel);
      const publication = await core.channels.publish(namespace, channel, data ?? null, {
        clientId: socket.id,
        userId: socket.data.user?.id ?? null,
      });
      return { publication };
    },
  }),
  "channel:history": event({
    schema: historyInput,
    ackRequired: true,
    run: async (ctx, { channel, before, limit }) => {
      subscribed(ctx, channel);
      return ctx.core.channels.history(ctx.namespace, channel, before, limit);
    },
  }),
  "channel:presence": event({
    schema: presenceInput,
    ackRequired: true,
    run: async (ctx, { channel, limit, after }) => {
      if (!ctx.settings.presence) throw new AppError("forbidden", "presence is not tracked in this namespace");
      subscribed(ctx, channel);
      return ctx.core.channels.presence(ctx.namespace, channel, { limit, after });
    },
  }),
};

/**
 * After authentication: the connect proxy (if configured) decides who the
 * user is and what to join; then the per-user and per-address connection
 * limits apply. Throws a coded error to refuse the connection.
 */
async function admit(
  namespace: string,
  settings: NamespaceSettings,
  socket: IoSocket,
  trustProxy: number,
  clusterReachable: boolean,
  log: Logger,
): Promise<void> {
  const ip = clientIp(socket.handshake.address, socket.handshake.headers["x-forwarded-for"], trustProxy);
  if (settings.connectProxy) {
    const decision = await askConnectProxy(settings.connectProxy, namespace, socket, socket.data.user, ip);
    socket.data.user = decision.user;
    socket.join([...decision.groups.map(socketRooms.group), ...decision.channels.map(socketRooms.channel)]);
  }
  const perAddress = maxConnectionsPerIp(settings);
  if (perAddress !== null) {
    const room = socketRooms.address(limitKey(ip));
    socket.join(room);
    if ((await connectionsIn(socket.nsp, room, clusterReachable, log)) > perAddress) {
      throw new AppError("too_many_connections", `at most ${perAddress} connections per address in ${namespace}`);
    }
  }
  const user = socket.data.user;
  const max = settings.maxConnectionsPerUser;
  if (!user || max === undefined) return;
  const room = socketRooms.user(user.id);
  socket.join(room);
  const count = await connectionsIn(socket.nsp, room, clusterReachable, log);
  if (count <= max) return;
  if (settings.onConnectionLimit === "reject") {
    throw new AppError("too_many_connections", `at most ${max} connection(s) per user in ${namespace}`);
  }
  // The newer connection replaces the oldest (the user moved to another
  // device). A server-side disconnect is not retried by Socket.IO clients,
  // so they do not fight back.
  const existing = await socketsIn(socket.nsp, room, clusterReachable, log);
  const oldest = existing.sort((a, b) => a.handshake.issued - b.handshake.issued).slice(0, count - max);
  for (const old of oldest) {
    (old as unknown as { emit(e: string, p: unknown): void }).emit("connection:replaced", { by: socket.id });
    old.disconnect(true);
  }
}

export interface NamespaceOptions {
  corsOrigins: string[];
  rateLimitPerSecond: number;
  /** One event budget per user, shared with the chat namespace. */
  userBudgets: KeyedBuckets;
  throttles: Throttles;
  trustProxy: number;
  /** Whether the other instances can be reached now (Redis is up, or there is none). */
  clusterReachable: () => boolean;
}

export function attachNamespaces(
  io: IoServer,
  core: Core,
  log: Logger,
  namespaces: Record<string, NamespaceSettings>,
  options: NamespaceOptions,
): void {
  for (const [name, settings] of Object.entries(namespaces)) {
    const nsp = io.of(name);
    const nlog = log.child({ namespace: name });
    const channelPattern = settings.channelPattern ? new RegExp(`^(?:${settings.channelPattern})$`, "u") : null;
    const { userBudgets } = options;
    nsp.use(throttleConnections(options.throttles, options.trustProxy, nlog));
    nsp.use(authMiddleware(core, options.corsOrigins, nlog, { anonymous: settings.auth === "anonymous" }));
    nsp.use(admission(nlog, (socket) => admit(name, settings, socket, options.trustProxy, options.clusterReachable(), nlog)));
    nsp.on("connection", (socket) => {
      const user = socket.data.user;
      const limiter = new TokenBucket(options.rateLimitPerSecond);
      const allow = () => limiter.take() && (!user || userBudgets.take(user.id));
      const context = { socket, settings, channelPattern, namespace: name, core };
      const deps = { log: nlog, allow, events: namespaceEvents, context };
      socket.onAny((event: string, ...args: unknown[]) => dispatch(socket, deps, event, args));
      if (user) socket.join(socketRooms.user(user.id));
      watchSession(socket, core, nlog);
      (socket as unknown as { emit(e: string, p: unknown): void }).emit("client:hello", {
        clientId: socket.id,
        userId: user?.id ?? null,
      });
    });
  }
}
