/**
 * Limits on attempts that cost the server (a password hash, a connection) or
 * could guess secrets: sign-ins and sign-ups per address, failed sign-ins per
 * username, new connections per address. Counted in Redis when instances
 * share one (so the limits hold for the whole cluster), in memory otherwise,
 * and in memory too while Redis is away (each instance then limits alone).
 * Every refusal is `rate_limited` with the seconds to wait (`retryAfter`).
 */
import type { RedisClientType } from "redis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Limits } from "../config";
import type { LoginGuard } from "../core/accounts";
import { AppError } from "../core/errors";

interface Rule {
  /** Redis key prefix: the limit's name. */
  name: string;
  points: number;
  durationSeconds: number;
  message: string;
}

/** One limit: so many points per key per period. */
class Throttle {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    private readonly rule: Rule,
    redis: RedisClientType | null,
  ) {
    const options = { keyPrefix: `sb:limit:${rule.name}`, points: rule.points, duration: rule.durationSeconds };
    const memory = new RateLimiterMemory(options);
    this.limiter = redis
      ? new RateLimiterRedis({
          ...options,
          storeClient: redis,
          useRedisPackage: true,
          // While Redis is away, fail over to counting here at once instead of waiting for it.
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory,
        })
      : memory;
  }

  /** Counts one attempt; throws `rate_limited` once the key has used its points. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (err) {
      throw this.refusal(err);
    }
  }

  /** Counts one attempt without refusing it (a failure already answered). */
  async count(key: string): Promise<void> {
    await this.limiter.consume(key).catch((err: unknown) => {
      if (!(err instanceof RateLimiterRes)) throw err;
    });
  }

  /** Throws `rate_limited` if the key has used its points, without counting. */
  async check(key: string): Promise<void> {
    const res = await this.limiter.get(key);
    if (res && res.consumedPoints >= this.rule.points) throw this.refusal(res);
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }

  private refusal(err: unknown): unknown {
    if (!(err instanceof RateLimiterRes)) return err;
    return new AppError("rate_limited", this.rule.message, Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
  }
}

export class Throttles {
  private readonly auth: Throttle;
  private readonly signups: Throttle;
  private readonly connects: Throttle;
  private readonly loginFailures: Throttle;

  constructor(limits: Limits, redis: RedisClientType | null) {
    this.auth = new Throttle(
      { name: "auth", points: limits.authAttemptsPerIpPerMinute, durationSeconds: 60, message: "too many sign-in attempts from your address; wait and try again" },
      redis,
    );
    this.signups = new Throttle(
      { name: "signup", points: limits.signupsPerIpPerHour, durationSeconds: 3600, message: "too many accounts created from your address; try again later" },
      redis,
    );
    this.connects = new Throttle(
      { name: "connect", points: limits.connectsPerIpPerMinute, durationSeconds: 60, message: "too many new connections from your address; wait and try again" },
      redis,
    );
    this.loginFailures = new Throttle(
      { name: "login-failures", points: limits.loginFailuresPerUsername, durationSeconds: 15 * 60, message: "too many failed sign-ins for this username; wait and try again" },
      redis,
    );
  }

  /** A sign-in or sign-up attempt from an address. */
  authAttempt(address: string): Promise<void> {
    return this.auth.consume(address);
  }

  /** An account about to be created from an address. */
  signup(address: string): Promise<void> {
    return this.signups.consume(address);
  }

  /** A new Socket.IO connection from an address. */
  connect(address: string): Promise<void> {
    return this.connects.consume(address);
  }

  /** Failed passwords per username: refused once a username has had too many, until the period ends. */
  readonly loginGuard: LoginGuard = {
    check: (username) => this.loginFailures.check(username),
    failed: (username) => this.loginFailures.count(username),
    succeeded: (username) => this.loginFailures.reset(username),
  };
}
