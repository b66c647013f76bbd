import type { Delivery } from "./delivery";

/**
 * Who is online, counted by connection so that only a user's first tab
 * connecting and last tab closing change their presence. Shared state: one
 * instance keeps it in memory; several instances share it through Redis.
 */
export interface PresenceStore {
  /** Records a connection; true if it is the user's first. */
  add(userId: string, connectionId: string): Promise<boolean>;
  /** Forgets a connection; true if it was the user's last. */
  remove(userId: string, connectionId: string): Promise<boolean>;
  /** Which of these users have at least one connection. */
  online(userIds: string[]): Promise<Set<string>>;
  /**
   * Starts what the store does in the background; `onExpired` hears the
   * users who went offline because the instance holding their last
   * connection died (stores shared by several instances).
   */
  start(onExpired: (userIds: string[]) => void): void;
  /** Leaves cleanly: this instance's connections are no longer counted. */
  stop(): Promise<void>;
}

/** Presence for a single instance, held by this object (not by the module). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<string, Set<string>>();

  async add(userId: string, connectionId: string): Promise<boolean> {
    let set = this.connections.get(userId);
    if (!set) this.connections.set(userId, (set = new Set()));
    set.add(connectionId);
    return set.size === 1;
  }

  async remove(userId: string, connectionId: string): Promise<boolean> {
    const set = this.connections.get(userId);
    if (!set?.delete(connectionId)) return false;
    if (set.size > 0) return false;
    this.connections.delete(userId);
    return true;
  }

  async online(userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
  }

  /** Nothing in the background: no other instance can die holding connections. */
  start(): void {}

  async stop(): Promise<void> {}
}

/** Announces presence changes to the rooms a user shares with others. */
export class Presence {
  /** Updates under way: shutdown waits for them before closing Redis and the database. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: PresenceStore,
    private readonly delivery: Delivery,
    private readonly roomIdsOf: (userId: string) => Promise<string[]>,
  ) {}

  connected(userId: string, connectionId: string): Promise<void> {
    return this.track(async () => {
      if (await this.store.add(userId, connectionId)) await this.announce(userId, true);
    });
  }

  disconnected(userId: string, connectionId: string): Promise<void> {
    return this.track(async () => {
      if (await this.store.remove(userId, connectionId)) await this.announce(userId, false);
    });
  }

  /**
   * Resolves once every update started so far has finished, failed or not,
   * or after `ms` (an update waiting for a Redis that is away would never
   * finish). Closing the server disconnects every client, and their
   * "offline" announcements must go out before the adapter's Redis
   * connection closes.
   */
  async settled(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    const all = (async () => {
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    })();
    await Promise.race([all, late]);
    clearTimeout(timer);
  }

  private track(update: () => Promise<void>): Promise<void> {
    const p = update();
    this.inFlight.add(p);
    const forget = () => void this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  online(userIds: string[]): Promise<Set<string>> {
    return this.store.online(userIds);
  }

  /** Users whose connections vanished with a dead instance: announce them offline. */
  expired(userIds: string[]): Promise<void> {
    return this.track(async () => {
      for (const userId of userIds) await this.announce(userId, false);
    });
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    const roomIds = await this.roomIdsOf(userId);
    if (roomIds.length > 0) this.delivery.toRooms(roomIds, "presence", [{ userId, online }]);
  }
}
