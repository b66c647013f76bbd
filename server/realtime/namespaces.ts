/**
 * Namespaces besides the chat (`/`), configured in the config file: who may
 * connect (admission.ts) and the channel events, which go to the core's
 * channel operations like the chat's events go to theirs. Every connection
 * learns its client id first (`client:hello`), so a page can hand it to its
 * backend (a "scan to log in" page, say); backends then reach it through the
 * HTTP API.
 */
import type { z } from "zod";
import { channelHistoryInput, channelInput, channelPresenceInput, channelPublishInput } from "../../shared/channels";
import type { ChannelClientToServerEvents } from "../../shared/protocol";
import type { NamespaceSettings } from "../config";
import type { Core } from "../core";
import type { Subscriber } from "../core/channels";
import { TokenBucket, type KeyedBuckets } from "../limits/token-bucket";
import type { Throttles } from "../limits/throttles";
import type { Logger } from "../logger";
import { admitToNamespace, throttleConnections } from "./admission";
import { authMiddleware, watchSession } from "./auth";
import { type EventSpec, eventsIn } from "./events";
import { dispatch } from "./handle";
import { socketRooms } from "./socket-rooms";
import { channelNamespace, type ChannelSocket, type IoServer } from "./types";
import type { Metrics } from "../metrics/metrics";
import { countRefusals } from "../metrics/instrument";

interface ChannelContext {
  core: Core;
  namespace: string;
  subscriber: Subscriber;
}

const event = eventsIn<ChannelContext>();

/** Every channel event: its payload schema and the core call it makes. */
export const channelEvents = {
  "channel:subscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: ({ core, namespace, subscriber }, input) => core.channels.subscribe(namespace, subscriber, input),
  }),
  "channel:unsubscribe": event({
    schema: channelInput,
    ackRequired: true,
    run: ({ core, namespace, subscriber }, input) => core.channels.unsubscribe(namespace, subscriber, input),
  }),
  "channel:publish": event({
    schema: channelPublishInput,
    ackRequired: true,
    run: ({ core, namespace, subscriber }, input) => core.channels.publishFrom(namespace, subscriber, input),
  }),
  "channel:history": event({
    schema: channelHistoryInput,
    ackRequired: true,
    run: ({ core, namespace, subscriber }, input) => core.channels.history(namespace, subscriber, input),
  }),
  "channel:presence": event({
    schema: channelPresenceInput,
    ackRequired: true,
    run: ({ core, namespace, subscriber }, input) => core.channels.presence(namespace, subscriber, input),
  }),
} satisfies Record<keyof ChannelClientToServerEvents, EventSpec<z.ZodType, ChannelContext>>;

/** A connection as the core's channel operations see it: its channels are the Socket.IO rooms it is in. */
function subscriberOf(socket: ChannelSocket): Subscriber {
  return {
    id: socket.id,
    get userId() {
      return socket.data.user?.id ?? null;
    },
    channels: () => socketRooms.channelsOf(socket.rooms),
    join: (channel) => socket.join(socketRooms.channel(channel)),
    leave: (channel) => socket.leave(socketRooms.channel(channel)),
  };
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
  /** Where connections and events are counted (when metrics are on). */
  metrics?: Metrics | null;
}

export function attachNamespaces(
  io: IoServer,
  core: Core,
  log: Logger,
  namespaces: Record<string, NamespaceSettings>,
  options: NamespaceOptions,
): void {
  for (const [name, settings] of Object.entries(namespaces)) {
    const nsp = channelNamespace(io, name);
    const nlog = log.child({ namespace: name });
    const { userBudgets, metrics } = options;
    const use: typeof nsp.use = (middleware) => nsp.use(metrics ? countRefusals(name, metrics, middleware) : middleware);
    use(throttleConnections(options.throttles, options.trustProxy, nlog));
    use(authMiddleware(core, options.corsOrigins, nlog, { anonymous: settings.auth === "anonymous" }));
    use(admitToNamespace(name, settings, options.trustProxy, options.clusterReachable, nlog));
    const observe = metrics ? (event: string, outcome: string, seconds?: number) => metrics.event(name, event, outcome, seconds) : undefined;
    nsp.on("connection", (socket) => {
      metrics?.connected(name);
      socket.on("disconnect", (reason) => metrics?.disconnected(name, reason));
      const user = socket.data.user;
      const limiter = new TokenBucket(options.rateLimitPerSecond);
      const allow = () => limiter.take() && (!user || userBudgets.take(user.id));
      const context = { core, namespace: name, subscriber: subscriberOf(socket) };
      const deps = { log: nlog, allow, events: channelEvents, context, observe };
      socket.onAny((event: string, ...args: unknown[]) => dispatch(socket, deps, event, args));
      if (user) socket.join(socketRooms.user(user.id));
      watchSession(socket, core, nlog);
      socket.emit("client:hello", { clientId: socket.id, userId: user?.id ?? null });
    });
  }
}
