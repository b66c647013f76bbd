/**
 * Limits on attempts that cost the server (a password hash, a connection) or
 * could guess secrets: sign-ins and sign-ups per address, sign-in attempts
 * per username, new connections per address. Counted in Redis when instances
 * share one (so the limits hold for the whole cluster), in the primary
 * process in cluster mode without Redis, in memory otherwise — and in memory
 * while Redis is away (each instance then limits alone). Every refusal is
 * `rate_limited` with the seconds to wait (`retryAfter`).
 */
import type { RedisClientType } from "redis";
import {
  RateLimiterCluster,
  RateLimiterClusterMaster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Limits } from "../config";
import type { LoginGuard } from "../core/accounts";
import { AppError } from "../core/errors";

/** Where the counts live. */
export type ThrottleStore =
  | { kind: "memory" }
  | { kind: "redis"; client: RedisClientType }
  /** A worker of cluster mode without Redis: the primary counts (see {@link countInPrimary}). */
  | { kind: "cluster" };

interface Rule {
  /** The limit's name (its keys' prefix). */
  name: string;
  points: number;
  durationSeconds: number;
  message: string;
}

/** Told once per key and period, when a key is first refused (for the logs). */
export type OnLimited = (limit: string, key: string) => void;

/** In cluster mode without Redis, the primary holds the counts for its workers: call this there once. */
export function countInPrimary(): void {
  new RateLimiterClusterMaster();
}

/** One limit: so many points per key per period. */
class Throttle {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    private readonly rule: Rule,
    store: ThrottleStore,
    private readonly onLimited: OnLimited,
  ) {
    const options = { keyPrefix: `sb:limit:${rule.name}`, points: rule.points, duration: rule.durationSeconds };
    this.limiter =
      store.kind === "redis"
        ? new RateLimiterRedis({
            ...options,
            storeClient: store.client,
            useRedisPackage: true,
            // While Redis is away, fail over to counting here at once instead of waiting for it.
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(options),
          })
        : store.kind === "cluster"
          ? new RateLimiterCluster({ ...options, timeoutMs: 3000 })
          : new RateLimiterMemory(options);
  }

  /** Counts one attempt, atomically; throws `rate_limited` once the key has used its points. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      if (err.consumedPoints === this.rule.points + 1) this.onLimited(this.rule.name, key);
      throw new AppError("rate_limited", this.rule.message, Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    }
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

export class Throttles {
  private readonly auth: Throttle;
  private readonly signups: Throttle;
  private readonly connects: Throttle;
  private readonly handshakes: Throttle;
  private readonly logins: Throttle;
  private readonly uploads: Throttle;

  constructor(limits: Limits, store: ThrottleStore, onLimited: OnLimited = () => {}) {
    const throttle = (rule: Rule) => new Throttle(rule, store, onLimited);
    this.auth = throttle({
      name: "auth",
      points: limits.authAttemptsPerIpPerMinute,
      durationSeconds: 60,
      message: "too many sign-in attempts from your address; wait and try again",
    });
    this.signups = throttle({
      name: "signup",
      points: limits.signupsPerIpPerHour,
      durationSeconds: 3600,
      message: "too many accounts created from your address; try again later",
    });
    this.connects = throttle({
      name: "connect",
      points: limits.connectsPerIpPerMinute,
      durationSeconds: 60,
      message: "too many new connections from your address; wait and try again",
    });
    // Socket.IO sessions before any namespace is joined (a connection may join several).
    this.handshakes = throttle({
      name: "handshake",
      points: limits.connectsPerIpPerMinute * 2,
      durationSeconds: 60,
      message: "too many new connections from your address; wait and try again",
    });
    this.logins = throttle({
      name: "login",
      points: limits.loginFailuresPerUsername,
      durationSeconds: 15 * 60,
      message: "too many failed sign-ins for this username; wait and try again",
    });
    this.uploads = throttle({
      name: "upload",
      points: limits.uploadsPerUserPerMinute,
      durationSeconds: 60,
      message: "too many files uploaded; wait and try again",
    });
  }

  /** A file about to be uploaded by a user (or a backend's author). */
  upload(userId: string): Promise<void> {
    return this.uploads.consume(userId);
  }

  /** A sign-in or sign-up attempt from an address. */
  authAttempt(address: string): Promise<void> {
    return this.auth.consume(address);
  }

  /** An account about to be created from an address. */
  signup(address: string): Promise<void> {
    return this.signups.consume(address);
  }

  /** A new Socket.IO connection (to a namespace) from an address. */
  connect(address: string): Promise<void> {
    return this.connects.consume(address);
  }

  /** A new Socket.IO (Engine.IO) session from an address. */
  handshake(address: string): Promise<void> {
    return this.handshakes.consume(address);
  }

  /**
   * Password attempts per username. Every attempt is counted before the
   * password is checked (atomically, so a burst of simultaneous guesses is
   * counted as it arrives, not after), and a right password clears the count:
   * a username gets so many attempts without a success per period.
   */
  readonly loginGuard: LoginGuard = {
    attempt: (username) => this.logins.consume(username),
    succeeded: (username) => this.logins.reset(username),
  };
}
