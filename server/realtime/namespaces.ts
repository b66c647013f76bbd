/**
 * Namespaces besides the chat (`/`), configured in the config file: who may
 * connect, whether clients may publish to channels themselves, whether channel
 * presence can be asked. Every connection learns its client id first
 * (`client:hello`), so a page can hand it to its backend (seed 004's "scan to
 * log in"); backends then reach it through the HTTP API.
 */
import { z } from "zod";
import { channelName } from "../../shared/gateway";
import { jsonData } from "../../shared/text";
import type { NamespaceSettings } from "../config";
import type { Core } from "../core";
import { AppError, toAppError } from "../core/errors";
import type { Logger } from "../logger";
import { authMiddleware } from "./auth";
import { askConnectProxy } from "./connect-proxy";
import type { EventSpec, EventTable } from "./events";
import { dispatch } from "./handle";
import { TokenBucket } from "./rate-limit";
import { socketRooms } from "./socket-rooms";
import type { IoServer, IoSocket } from "./types";

interface NamespaceContext {
  socket: IoSocket;
  settings: NamespaceSettings;
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

function event<S extends z.ZodType>(spec: EventSpec<S, NamespaceContext>): EventSpec<S, NamespaceContext> {
  return spec;
}

const namespaceEvents: EventTable<NamespaceContext> = {
  "channel:subscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: async ({ socket }, { channel }) => (await socket.join(socketRooms.channel(channel)), {}),
  }),
  "channel:unsubscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: async ({ socket }, { channel }) => (await socket.leave(socketRooms.channel(channel)), {}),
  }),
  "channel:publish": event({
    schema: publishInput,
    ackRequired: true,
    run: async ({ socket, settings, namespace, core }, { channel, data }) => {
      if (!settings.clientPublish) throw new AppError("forbidden", "clients may not publish in this namespace");
      if (!socket.rooms.has(socketRooms.channel(channel))) throw new AppError("forbidden", "subscribe to the channel first");
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
    run: ({ namespace, core }, { channel, before, limit }) => core.channels.history(namespace, channel, before, limit),
  }),
  "channel:presence": event({
    schema: channelInput,
    ackRequired: true,
    run: async ({ socket, settings }, { channel }) => {
      if (!settings.presence) throw new AppError("forbidden", "presence is not tracked in this namespace");
      const sockets = await socket.nsp.in(socketRooms.channel(channel)).fetchSockets();
      return {
        clients: sockets.map((s) => ({ clientId: s.id, userId: socketRooms.userOf(s.rooms) })),
      };
    },
  }),
};

/**
 * After authentication: the connect proxy (if configured) decides who the
 * user is and what to join; then the per-user connection limit applies.
 * Throws a coded error to refuse the connection.
 */
async function admit(namespace: string, settings: NamespaceSettings, socket: IoSocket): Promise<void> {
  if (settings.connectProxy) {
    const decision = await askConnectProxy(settings.connectProxy, namespace, socket, socket.data.user);
    socket.data.user = decision.user;
    socket.join([...decision.groups.map(socketRooms.group), ...decision.channels.map(socketRooms.channel)]);
  }
  const user = socket.data.user;
  const max = settings.maxConnectionsPerUser;
  if (!user || max === undefined) return;
  // Cluster-wide with the Redis adapter: every instance's connections count.
  const existing = await socket.nsp.in(socketRooms.user(user.id)).fetchSockets();
  if (existing.length < max) return;
  if (settings.onConnectionLimit === "reject") {
    throw new AppError("too_many_connections", `at most ${max} connection(s) per user in ${namespace}`);
  }
  // Seed 001: the newer connection replaces the oldest. A server-side
  // disconnect is not retried by Socket.IO clients, so they do not fight back.
  const oldest = existing.sort((a, b) => a.handshake.issued - b.handshake.issued).slice(0, existing.length - max + 1);
  for (const old of oldest) {
    (old as unknown as { emit(e: string, p: unknown): void }).emit("connection:replaced", { by: socket.id });
    old.disconnect(true);
  }
}

export function attachNamespaces(
  io: IoServer,
  core: Core,
  log: Logger,
  namespaces: Record<string, NamespaceSettings>,
  options: { corsOrigins: string[]; rateLimitPerSecond: number },
): void {
  for (const [name, settings] of Object.entries(namespaces)) {
    const nsp = io.of(name);
    const nlog = log.child({ namespace: name });
    nsp.use(authMiddleware(core, options.corsOrigins, nlog, { anonymous: settings.auth === "anonymous" }));
    nsp.use((socket, next) => {
      admit(name, settings, socket).then(
        () => next(),
        (err: unknown) => {
          const { error, isBug } = toAppError(err);
          if (isBug || error.code === "unavailable") nlog.warn({ err }, "connection refused");
          next(Object.assign(new Error(error.code), { data: error.toBody() }));
        },
      );
    });
    nsp.on("connection", (socket) => {
      const limiter = new TokenBucket(options.rateLimitPerSecond);
      const deps = { log: nlog, limiter, events: namespaceEvents, context: { socket, settings, namespace: name, core } };
      socket.onAny((event: string, ...args: unknown[]) => dispatch(socket, deps, event, args));
      const user = socket.data.user;
      if (user) socket.join(socketRooms.user(user.id));
      (socket as unknown as { emit(e: string, p: unknown): void }).emit("client:hello", {
        clientId: socket.id,
        userId: user?.id ?? null,
      });
    });
  }
}
