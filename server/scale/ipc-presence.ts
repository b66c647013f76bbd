/**
 * Presence for cluster mode without Redis: the primary process holds the
 * counts (one place, so first/last are exact), workers ask it over IPC.
 * When a worker dies, the primary forgets its connections and has a live
 * worker announce the users who went offline with it.
 */
import type { Worker } from "node:cluster";
import { MemoryPresenceStore, type PresenceStore } from "../core/presence";

type Question = { op: "add" | "remove"; userId: string; connectionId: string } | { op: "online"; userIds: string[] };
type Request = Question & { type: "sb:presence"; id: number };
type Reply = { type: "sb:presence:reply"; id: number; result: boolean | string[] };
type Expired = { type: "sb:presence:expired"; userIds: string[] };

/** Worker side. */
export class IpcPresenceStore implements PresenceStore {
  private nextId = 1;
  private readonly pending = new Map<number, (result: boolean | string[]) => void>();
  /** Told, by the primary, the users who went offline with a worker that died. */
  private onExpired: (userIds: string[]) => void = () => {};

  constructor() {
    process.on("message", (msg: Reply | Expired | { type?: unknown }) => {
      if (msg?.type === "sb:presence:reply") {
        const m = msg as Reply;
        this.pending.get(m.id)?.(m.result);
        this.pending.delete(m.id);
      } else if (msg?.type === "sb:presence:expired") {
        this.onExpired((msg as Expired).userIds);
      }
    });
  }

  private ask(req: Question): Promise<boolean | string[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, resolve);
      process.send!({ type: "sb:presence", id, ...req }, (err: Error | null) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  async add(userId: string, connectionId: string): Promise<boolean> {
    return (await this.ask({ op: "add", userId, connectionId })) as boolean;
  }

  async remove(userId: string, connectionId: string): Promise<boolean> {
    return (await this.ask({ op: "remove", userId, connectionId })) as boolean;
  }

  async online(userIds: string[]): Promise<Set<string>> {
    return new Set((await this.ask({ op: "online", userIds })) as string[]);
  }

  start(onExpired: (userIds: string[]) => void): void {
    this.onExpired = onExpired;
  }

  /** The primary forgets this worker's connections when it exits. */
  async stop(): Promise<void> {}
}

/** Primary side: answers the workers and cleans up after a dead one. */
export class PrimaryPresence {
  private readonly store = new MemoryPresenceStore();
  /** worker id → its connections, to forget them if it dies. */
  private readonly byWorker = new Map<number, Map<string, string>>();

  attach(worker: Worker): void {
    const mine = new Map<string, string>(); // connectionId → userId
    this.byWorker.set(worker.id, mine);
    worker.on("message", (msg: Request | { type?: unknown }) => {
      if (msg?.type !== "sb:presence") return;
      const req = msg as Request;
      const reply = (result: boolean | string[]) =>
        worker.isConnected() && worker.send({ type: "sb:presence:reply", id: req.id, result } satisfies Reply);
      if (req.op === "add") {
        mine.set(req.connectionId, req.userId);
        void this.store.add(req.userId, req.connectionId).then(reply);
      } else if (req.op === "remove") {
        mine.delete(req.connectionId);
        void this.store.remove(req.userId, req.connectionId).then(reply);
      } else if (req.op === "online") {
        void this.store.online(req.userIds).then((set) => reply([...set]));
      }
    });
  }

  /** Forgets a dead worker's connections; returns the users now offline. */
  async workerDied(workerId: number): Promise<string[]> {
    const mine = this.byWorker.get(workerId);
    this.byWorker.delete(workerId);
    const offline: string[] = [];
    for (const [connectionId, userId] of mine ?? []) {
      if (await this.store.remove(userId, connectionId)) offline.push(userId);
    }
    return offline;
  }

  announceExpired(worker: Worker, userIds: string[]): void {
    if (userIds.length > 0 && worker.isConnected()) worker.send({ type: "sb:presence:expired", userIds } satisfies Expired);
  }
}
