/**
 * Presence shared by every instance through Redis, without ghosts after a
 * crash. Each instance owns the hash `sb:presence:<instance>` (userId → its
 * open connections there) and heartbeats into the sorted set
 * `sb:presence:instances`. A user is online while a live instance counts a
 * connection of theirs. An instance that stops heartbeating (crash, kill -9)
 * is reaped by the first live instance to notice: removed from the set, its
 * hash deleted, and its users announced offline unless online elsewhere.
 * The heartbeat rewrites the whole hash, so an instance recovers its entries
 * by itself after a Redis outage.
 */
import type { RedisClientType } from "redis";
import type { PresenceStore } from "../core/presence";
import type { Logger } from "../logger";

// One hash tag, so every key lives in one slot (Redis Cluster) and the script below may touch them all.
const PREFIX = "sb:{presence}:";
const INSTANCES = `${PREFIX}instances`;
const hashOf = (instance: string) => `${PREFIX}${instance}`;

/**
 * Sets this instance's count for a user and returns the user's total over
 * live instances, atomically: two instances updating the same user at once
 * see each other's change, so exactly one sees "first" and one "last".
 * KEYS[1] = instances set; ARGV = prefix, own instance, user, own count, oldest live score.
 */
const UPDATE_AND_COUNT = `
local own = ARGV[1] .. ARGV[2]
local n = tonumber(ARGV[4])
if n > 0 then redis.call('HSET', own, ARGV[3], n) else redis.call('HDEL', own, ARGV[3]) end
local total = n
for _, inst in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[5], '+inf')) do
  if inst ~= ARGV[2] then
    local v = redis.call('HGET', ARGV[1] .. inst, ARGV[3])
    if v then total = total + tonumber(v) end
  end
end
return total`;

export interface RedisPresenceOptions {
  instanceId: string;
  heartbeatMs?: number;
  /** An instance silent this long is dead. */
  deadAfterMs?: number;
}

export class RedisPresenceStore implements PresenceStore {
  /** This instance's own connections: what its hash must say. */
  private readonly local = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  /** Told the users of a reaped instance who are not online anywhere else. */
  private onExpired: (userIds: string[]) => void = () => {};

  constructor(
    private readonly redis: RedisClientType,
    private readonly log: Logger,
    private readonly options: RedisPresenceOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 3000;
    this.deadAfterMs = options.deadAfterMs ?? 10_000;
  }

  /** Heartbeats this instance's entry, and reaps the entries of instances that stopped beating. */
  start(onExpired: (userIds: string[]) => void): void {
    this.onExpired = onExpired;
    const beat = () =>
      this.heartbeat()
        .then(() => this.reap())
        .catch((err: unknown) => this.log.warn({ err: String(err) }, "presence heartbeat failed"));
    void beat();
    this.timer = setInterval(beat, this.heartbeatMs);
    this.timer.unref();
  }

  /** Leaves the cluster cleanly: this instance's users are no longer counted. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    // With Redis away the command would wait for it for ever; the other
    // instances' reaper removes this one once its heartbeat expires.
    if (!this.redis.isReady) return;
    await this.redis
      .multi()
      .del(hashOf(this.options.instanceId))
      .zRem(INSTANCES, this.options.instanceId)
      .exec()
      .catch(() => {});
  }

  async add(userId: string, connectionId: string): Promise<boolean> {
    let set = this.local.get(userId);
    if (!set) this.local.set(userId, (set = new Set()));
    if (set.has(connectionId)) return false;
    set.add(connectionId);
    return (await this.updateAndCount(userId, set.size)) === 1;
  }

  async remove(userId: string, connectionId: string): Promise<boolean> {
    const set = this.local.get(userId);
    if (!set?.delete(connectionId)) return false;
    if (set.size === 0) this.local.delete(userId);
    return (await this.updateAndCount(userId, set.size)) === 0;
  }

  private async updateAndCount(userId: string, count: number): Promise<number> {
    const total = await this.redis.eval(UPDATE_AND_COUNT, {
      keys: [INSTANCES],
      arguments: [PREFIX, this.options.instanceId, userId, String(count), String(Date.now() - this.deadAfterMs)],
    });
    return Number(total);
  }

  async online(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const instances = await this.liveInstances();
    const replies = await Promise.all(instances.map((i) => this.redis.hmGet(hashOf(i), userIds)));
    const online = new Set<string>();
    for (const values of replies) values.forEach((v, idx) => v && Number(v) > 0 && online.add(userIds[idx]!));
    return online;
  }

  private async liveInstances(): Promise<string[]> {
    const instances = await this.redis.zRangeByScore(INSTANCES, Date.now() - this.deadAfterMs, "+inf");
    // This instance counts even if its last heartbeat is late (e.g. right after a Redis outage).
    return instances.includes(this.options.instanceId) ? instances : [...instances, this.options.instanceId];
  }

  private async heartbeat(): Promise<void> {
    const key = hashOf(this.options.instanceId);
    const tx = this.redis.multi().del(key);
    if (this.local.size > 0) {
      tx.hSet(key, Object.fromEntries([...this.local].map(([user, set]) => [user, String(set.size)])));
    }
    await tx
      .pExpire(key, this.deadAfterMs * 6)
      .zAdd(INSTANCES, { score: Date.now(), value: this.options.instanceId })
      .exec();
  }

  /** Removes instances that stopped heartbeating; the one whose ZREM succeeds announces their users. */
  private async reap(): Promise<void> {
    const dead = await this.redis.zRangeByScore(INSTANCES, "-inf", Date.now() - this.deadAfterMs);
    for (const instance of dead) {
      if (instance === this.options.instanceId) continue;
      if ((await this.redis.zRem(INSTANCES, instance)) !== 1) continue; // another instance reaps it
      const users = await this.redis.hKeys(hashOf(instance));
      await this.redis.del(hashOf(instance));
      this.log.warn({ instance, users: users.length }, "reaped a dead instance's presence");
      if (users.length === 0) continue;
      const stillOnline = await this.online(users);
      const gone = users.filter((u) => !stillOnline.has(u));
      if (gone.length > 0) this.onExpired(gone);
    }
  }
}
