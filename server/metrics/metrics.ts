/**
 * What this instance is doing, in Prometheus's format (prom-client): one
 * registry per server (tests run several in one process), every name under
 * `switchboard_` besides Node's own runtime metrics. docs/operations.md
 * explains each one and the alerts worth setting.
 *
 * Label values are only ever names Switchboard defines (events in its event
 * tables, routes it serves, error codes in its catalogue, namespaces in the
 * config): never what a client sent, so a stranger cannot grow the series.
 *
 * Hot paths (an event handled, a broadcast) touch a counter child cached per
 * label set; gauges are read only when Prometheus scrapes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds: from a cached read (sub-millisecond) to a slow cluster query. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

/** What a scrape reads from the running server (each may be absent). */
export interface MetricSources {
  /** This instance's connections, by namespace and transport, and the users with a chat connection. */
  connections(): { namespace: string; transport: string }[];
  usersConnected(): number;
  /** Redis is configured: whether it answers now. */
  redisUp?: () => boolean;
  /** Pooled PostgreSQL connections (none on the embedded database). */
  databasePool?: () => { total: number; idle: number; waiting: number };
  /** The queue inlet's totals and its backlog in Redis. */
  queue?: {
    stats: { executed: number; retried: number; deadLettered: number };
    backlog(): Promise<{ lag: number | null; pending: number }>;
  };
}

export class Metrics {
  readonly registry = new Registry();
  private readonly connects: Counter<"namespace">;
  private readonly disconnects: Counter<"namespace" | "reason">;
  private readonly events: Counter<"namespace" | "event" | "outcome">;
  private readonly eventSeconds: Histogram<"namespace" | "event">;
  private readonly stored: Counter;
  private readonly batchSize: Histogram;
  private readonly writeSeconds: Histogram;
  private readonly deliveries: Counter<"event">;
  private readonly httpRequests: Counter<"route" | "method" | "status">;
  private readonly httpSeconds: Histogram<"route" | "method">;
  private readonly clusterTimeouts: Counter;
  private readonly refusals: Counter<"namespace" | "code">;
  /** Children cached by label values: the hot paths skip prom-client's label hashing. */
  private readonly children = new Map<string, { inc(): void } | { observe(v: number): void }>();

  constructor(instanceId: string, version: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "switchboard_info",
      help: "This instance: its id (SWITCHBOARD_INSTANCE_ID) and Switchboard's version; always 1",
      labelNames: ["instance_id", "version"],
      registers,
    }).set({ instance_id: instanceId, version }, 1);

    this.connects = new Counter({ name: "switchboard_connects_total", help: "Connections admitted, by namespace", labelNames: ["namespace"], registers });
    this.refusals = new Counter({
      name: "switchboard_connect_refusals_total",
      help: "Connections refused by a namespace's middleware (bad token, a limit…), by namespace and error code",
      labelNames: ["namespace", "code"],
      registers,
    });
    this.disconnects = new Counter({
      name: "switchboard_disconnects_total",
      help: "Connections closed, by namespace and Socket.IO's reason (transport close, ping timeout, server namespace disconnect…)",
      labelNames: ["namespace", "reason"],
      registers,
    });
    this.events = new Counter({
      name: "switchboard_client_events_total",
      help: "Client events handled, by namespace, event and outcome (ok, or the error code answered)",
      labelNames: ["namespace", "event", "outcome"],
      registers,
    });
    this.eventSeconds = new Histogram({
      name: "switchboard_client_event_duration_seconds",
      help: "Time from a client event's arrival to its answer, for events that reached their handler",
      labelNames: ["namespace", "event"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stored = new Counter({
      name: "switchboard_messages_stored_total",
      help: "Messages stored (sends refused, and resends of a message already stored, are not counted)",
      registers,
    });
    this.batchSize = new Histogram({
      name: "switchboard_message_write_batch_size",
      help: "Messages per write batch (one statement each; sends that arrive together share one)",
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.writeSeconds = new Histogram({
      name: "switchboard_message_write_duration_seconds",
      help: "Time to write (commit) one batch of messages",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.deliveries = new Counter({
      name: "switchboard_deliveries_total",
      help: "Broadcasts to connections (one per event sent to a room, a user or several; each reaches every instance through the adapter), by event",
      labelNames: ["event"],
      registers,
    });
    this.httpRequests = new Counter({
      name: "switchboard_http_requests_total",
      help: "HTTP API requests (/api/…), by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: "switchboard_http_request_duration_seconds",
      help: "Time to answer an HTTP API request (until the answer's head; a download's body streams on)",
      labelNames: ["route", "method"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.clusterTimeouts = new Counter({
      name: "switchboard_cluster_query_timeouts_total",
      help: "Cluster-wide queries (list clients, counts) that did not hear from every instance in SWITCHBOARD_CLUSTER_TIMEOUT_MS",
      registers,
    });
  }

  /**
   * What a scrape reads from the running server, once it is all there: the
   * connections always; Redis, the queue inlet and the database pool when
   * this instance has them (otherwise their series are absent, not zero).
   */
  watch(sources: MetricSources): void {
    const registers = [this.registry];
    new Gauge({
      name: "switchboard_connections",
      help: "Socket.IO connections open on this instance, by namespace and transport (websocket, polling)",
      labelNames: ["namespace", "transport"],
      registers,
      collect() {
        this.reset();
        for (const c of sources.connections()) this.inc({ namespace: c.namespace, transport: c.transport });
      },
    });
    new Gauge({
      name: "switchboard_users_connected",
      help: "Users with at least one chat connection on this instance",
      registers,
      collect() {
        this.set(sources.usersConnected());
      },
    });
    const { redisUp, queue, databasePool } = sources;
    if (redisUp) {
      new Gauge({
        name: "switchboard_redis_up",
        help: "1 while Redis answers, 0 while it is away (only with REDIS_URL)",
        registers,
        collect() {
          this.set(redisUp() ? 1 : 0);
        },
      });
    }
    if (queue) {
      new Counter({
        name: "switchboard_queue_commands_total",
        help: "Queue-inlet commands by outcome: executed, retried (postponed while a dependency was down), dead_lettered",
        labelNames: ["outcome"],
        registers,
        collect() {
          this.reset();
          this.inc({ outcome: "executed" }, queue.stats.executed);
          this.inc({ outcome: "retried" }, queue.stats.retried);
          this.inc({ outcome: "dead_lettered" }, queue.stats.deadLettered);
        },
      });
      new Gauge({
        name: "switchboard_queue_lag",
        help: "Commands in the inlet's stream not yet read by any instance (Redis ≥ 7)",
        registers,
        async collect() {
          const backlog = await queue.backlog().catch(() => null);
          if (backlog && backlog.lag !== null) this.set(backlog.lag);
        },
      });
      new Gauge({
        name: "switchboard_queue_pending",
        help: "Commands read by an instance and not yet finished (acknowledged or dead-lettered)",
        registers,
        async collect() {
          const backlog = await queue.backlog().catch(() => null);
          if (backlog) this.set(backlog.pending);
        },
      });
    }
    if (databasePool) {
      new Gauge({
        name: "switchboard_db_pool_connections",
        help: "PostgreSQL pool: connections open (total), idle, and queries waiting for one (waiting)",
        labelNames: ["state"],
        registers,
        collect() {
          const pool = databasePool();
          this.set({ state: "total" }, pool.total);
          this.set({ state: "idle" }, pool.idle);
          this.set({ state: "waiting" }, pool.waiting);
        },
      });
    }
  }

  connected(namespace: string): void {
    this.counter(`c\0${namespace}`, () => this.connects.labels(namespace)).inc();
  }

  refused(namespace: string, code: string): void {
    this.refusals.inc({ namespace, code });
  }

  disconnected(namespace: string, reason: string): void {
    this.disconnects.inc({ namespace, reason });
  }

  /** A client event answered: `outcome` is "ok" or the error code; `seconds` when it reached its handler. */
  event(namespace: string, event: string, outcome: string, seconds?: number): void {
    if (outcome === "ok") this.counter(`e\0${namespace}\0${event}`, () => this.events.labels(namespace, event, "ok")).inc();
    else this.events.inc({ namespace, event, outcome });
    if (seconds !== undefined) this.histogram(`h\0${namespace}\0${event}`, () => this.eventSeconds.labels(namespace, event)).observe(seconds);
  }

  batchWritten(size: number, stored: number, seconds: number): void {
    if (stored > 0) this.stored.inc(stored);
    this.batchSize.observe(size);
    this.writeSeconds.observe(seconds);
  }

  delivered(event: string): void {
    this.counter(`d\0${event}`, () => this.deliveries.labels(event)).inc();
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ route, method, status: String(status) });
    this.httpSeconds.observe({ route, method }, seconds);
  }

  clusterTimeout(): void {
    this.clusterTimeouts.inc();
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  private counter(key: string, make: () => { inc(): void }): { inc(): void } {
    let child = this.children.get(key) as { inc(): void } | undefined;
    if (!child) this.children.set(key, (child = make()));
    return child;
  }

  private histogram(key: string, make: () => { observe(v: number): void }): { observe(v: number): void } {
    let child = this.children.get(key) as { observe(v: number): void } | undefined;
    if (!child) this.children.set(key, (child = make()));
    return child;
  }
}

/**
 * The answer to `GET /metrics`: the exposition when no token is required or
 * `authorization` bears it (`Bearer <token>`, compared in constant time),
 * 401 otherwise.
 */
export async function metricsAnswer(
  metrics: Metrics,
  token: string | null,
  authorization: string | undefined,
): Promise<{ status: 200 | 401; body: string; contentType: string }> {
  if (token !== null) {
    const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1] ?? "";
    const digest = (s: string) => createHash("sha256").update(s).digest();
    if (!timingSafeEqual(digest(presented), digest(token))) {
      const error = new AppError("unauthorized", "metrics need `Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>`").toBody();
      return { status: 401, body: JSON.stringify({ error }), contentType: "application/json" };
    }
  }
  return { status: 200, ...(await metrics.exposition()) };
}
