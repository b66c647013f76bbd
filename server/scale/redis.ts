/**
 * Redis for scale-out: the Socket.IO Redis adapter (so broadcasts, room
 * joins, fetchSockets and server-side emits reach every instance) and the
 * client the presence store uses. node-redis reconnects by itself; while
 * Redis is away each instance keeps serving its own clients.
 */
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient, type RedisClientType } from "redis";
import type { Logger } from "../logger";
import type { IoServer } from "../realtime/types";

export interface RedisLink {
  client: RedisClientType;
  /** True while both connections are up. */
  healthy(): boolean;
  /**
   * Resolves once Redis has taken every PUBLISH sent so far (it answers a
   * PING on the same connection after them), so that a message any instance
   * publishes later reaches every subscriber after those. At once while Redis
   * is away: nothing reaches the other instances then anyway.
   */
  sent(): Promise<void>;
  /**
   * Calls `listener` each time both connections are back after an outage:
   * what was broadcast meanwhile (joins, leaves, closes) never reached the
   * other instances, so shared state must be brought back in step.
   */
  onRecovered(listener: () => void): void;
  close(): Promise<void>;
}

export async function attachRedis(
  io: IoServer,
  url: string,
  log: Logger,
  options: { sharded: boolean; requestsTimeoutMs: number },
): Promise<RedisLink> {
  const pub: RedisClientType = createClient({
    url,
    // Back off to at most 2 s between attempts, for ever: an outage must not need a restart.
    socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  });
  const sub = pub.duplicate();
  let warned = false;
  /** Connections that went down and are not ready again yet. */
  const down = new Set<string>();
  const recovered: Array<() => void> = [];
  for (const [name, c] of [["pub", pub], ["sub", sub]] as const) {
    c.on("error", (err: Error) => {
      if (!warned) log.warn({ err: err.message, connection: name }, "redis unavailable; serving local clients only");
      warned = true;
      down.add(name);
    });
    c.on("ready", () => {
      if (warned) log.info({ connection: name }, "redis is back");
      warned = false;
      if (!down.delete(name) || down.size > 0) return;
      for (const listener of recovered) listener();
    });
  }
  await Promise.all([pub.connect(), sub.connect()]);
  const adapterPub = withHandledPublish(pub);
  io.adapter(
    options.sharded
      ? createShardedAdapter(adapterPub, sub)
      : createAdapter(adapterPub, sub, { requestsTimeout: options.requestsTimeoutMs }),
  );
  return {
    client: pub,
    healthy: () => pub.isReady && sub.isReady,
    sent: async () => {
      if (pub.isReady) await pub.ping().catch(() => undefined);
    },
    onRecovered: (listener) => void recovered.push(listener),
    close: async () => {
      // Gracefully: let in-flight commands (the adapter's unsubscribes) finish, so
      // none is rejected unhandled; give up after a moment if Redis is away.
      await Promise.all([pub, sub].map((c) => closeGracefully(c)));
    },
  };
}

/**
 * The adapter fires its PUBLISH commands and drops their promises. A command
 * in flight when Redis goes away rejects, and an unhandled rejection ends the
 * process: one Redis restart could take every instance down with it. While
 * Redis is away a broadcast reaches this instance's clients only (the link
 * above has already warned once); the failed PUBLISH is settled here.
 */
function withHandledPublish(client: RedisClientType): RedisClientType {
  type Publish = (...args: unknown[]) => Promise<number>;
  // Methods are bound to the real client (its private fields need it as
  // `this`) once each, not on every broadcast.
  const methods = new Map<PropertyKey, unknown>();
  for (const name of ["publish", "sPublish"] as const) {
    const publish = (client[name] as Publish).bind(client);
    methods.set(name, (...args: unknown[]) => publish(...args).catch(() => 0));
  }
  return new Proxy(client, {
    get(target, prop) {
      if (methods.has(prop)) return methods.get(prop);
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const bound = value.bind(target);
      methods.set(prop, bound);
      return bound;
    },
  });
}

/** Closes after pending commands complete; destroys it if that takes over `ms` (Redis unreachable). */
export async function closeGracefully(client: RedisClientType, ms = 2000): Promise<void> {
  if (!client.isOpen) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = client.close().then(
    () => true,
    () => false,
  );
  const done = await Promise.race([closed, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  if (!done && client.isOpen) client.destroy();
}
