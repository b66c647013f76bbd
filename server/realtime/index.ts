import type { Core } from "../core";
import type { Logger } from "../logger";
import { authMiddleware, watchSession } from "./auth";
import type { SwitchboardPlugin } from "../plugins/api";
import { clientEvents, type EventContext, type EventTable } from "./events";
import { dispatch } from "./handle";
import { TokenBucket, type KeyedBuckets } from "../limits/token-bucket";
import type { Throttles } from "../limits/throttles";
import { limitUserConnections, throttleConnections } from "./admission";
import { socketRooms } from "./socket-rooms";
import { subscribeToRooms } from "./subscriptions";
import type { IoServer } from "./types";
import type { Metrics } from "../metrics/metrics";
import { countRefusals } from "../metrics/instrument";

export interface RealtimeOptions {
  corsOrigins: string[];
  /** Events per second per connection (bursts of twice that). */
  rateLimitPerSecond: number;
  maxConnectionsPerUser: number;
  /** Whether the other instances can be reached now (Redis is up, or there is none). */
  clusterReachable: () => boolean;
  /** One event budget per user, shared with the other namespaces. */
  userBudgets: KeyedBuckets;
  throttles: Throttles;
  /** How many proxies in front set `X-Forwarded-For`. */
  trustProxy: number;
  /** Events added by plugins, merged into the chat's event table. */
  plugins?: SwitchboardPlugin[];
  /** Where connections and events are counted (when metrics are on). */
  metrics?: Metrics | null;
}

/** The chat's events plus the plugins' (which may not redefine a built-in one). */
function chatEvents(plugins: SwitchboardPlugin[]): EventTable<EventContext> {
  const table: EventTable<EventContext> = { ...clientEvents };
  for (const plugin of plugins) {
    for (const [name, spec] of Object.entries(plugin.events ?? {})) {
      if (Object.hasOwn(table, name)) throw new Error(`plugin ${plugin.name}: event "${name}" already exists`);
      table[name] = {
        schema: spec.schema,
        ackRequired: spec.ackRequired ?? true,
        run: (ctx, input) => spec.handler(ctx, input),
        plugin: plugin.name,
      };
    }
  }
  return table;
}

/** Wires namespace `/` (chat, contract v1): authentication, subscriptions, presence, events. */
export function attachRealtime(io: IoServer, core: Core, log: Logger, options: RealtimeOptions): void {
  const events = chatEvents(options.plugins ?? []);
  const chat = io.of("/");
  const alog = log.child({ part: "auth" });
  const { metrics } = options;
  const use: typeof chat.use = (middleware) => chat.use(metrics ? countRefusals("/", metrics, middleware) : middleware);
  use(throttleConnections(options.throttles, options.trustProxy, alog));
  use(authMiddleware(core, options.corsOrigins, alog));
  use(limitUserConnections(options.maxConnectionsPerUser, options.clusterReachable, alog));
  const observe = metrics ? (event: string, outcome: string, seconds?: number) => metrics.event("/", event, outcome, seconds) : undefined;
  // One budget per user on this instance, whatever the number of tabs.
  const { userBudgets } = options;

  chat.on("connection", async (socket) => {
    // The chat namespace never admits anonymous connections (see authMiddleware).
    const user = socket.data.user!;
    const limiter = new TokenBucket(options.rateLimitPerSecond);
    const allow = () => limiter.take() && userBudgets.take(user.id);
    // The user as they are now: a profile change (server/core/profiles.ts) updates socket.data.
    const context = { core, connectionId: socket.id, get user() { return socket.data.user ?? user; } };
    const deps = { log, allow, events, context, observe };
    // Listeners go on before any await so no early event is missed; events
    // for rooms arrive once the subscriptions below are in place.
    socket.onAny((event: string, ...args: unknown[]) => dispatch(socket, deps, event, args));
    // Count the connection before any await, so that its close (which may
    // come at any moment) is always processed after it was counted.
    core.presence
      .connected(user.id, socket.id)
      .catch((err: unknown) => log.warn({ err, userId: user.id }, "presence update failed"));
    metrics?.connected("/");
    socket.on("disconnect", (reason) => {
      metrics?.disconnected("/", reason);
      core.presence
        .disconnected(user.id, socket.id)
        .catch((err: unknown) => log.warn({ err, userId: user.id }, "presence update failed"));
    });
    socket.join(socketRooms.user(user.id));
    watchSession(socket, core, alog);
    try {
      await subscribeToRooms(socket, core);
    } catch (err) {
      log.error({ err, userId: user.id }, "could not subscribe connection to its rooms");
      socket.disconnect(true);
    }
  });
}
