import type { ClientInfo } from "../../shared/gateway";
import type { SessionEndReason } from "../../shared/protocol";

/** Whom an emit goes to, inside one namespace. */
export interface Targets {
  all?: boolean;
  rooms?: string[];
  users?: string[];
  clients?: string[];
  groups?: string[];
  channels?: string[];
}

/** Which connections a query is about; none: every connection of the namespace. */
export type Selector = { client: string } | { user: string } | { group: string } | { channel: string } | Record<string, never>;

/**
 * How the gateway reaches connections, by namespace, without knowing Socket.IO.
 * Implemented over Socket.IO rooms and the adapter (realtime/connections.ts),
 * so every operation works across instances once the Redis adapter is on.
 * A change resolves once every instance will have applied it before it
 * answers any later query or emit, whichever instance that comes from.
 */
export interface Connections {
  /** Whether this server serves the namespace. */
  hasNamespace(namespace: string): boolean;
  emit(namespace: string, targets: Targets, event: string, data: unknown): void;
  find(namespace: string, selector: Selector): Promise<ClientInfo[]>;
  joinGroup(namespace: string, clientId: string, group: string): Promise<void>;
  leaveGroup(namespace: string, clientId: string, group: string): Promise<void>;
  dissolveGroup(namespace: string, group: string): Promise<void>;
  /** Makes the client one of the user's connections (leaving any user it had). */
  bindUser(namespace: string, clientId: string, userId: string, previous: string | null): Promise<void>;
  unbindUser(namespace: string, clientId: string, userId: string): Promise<void>;
  disconnect(namespace: string, clientId: string): Promise<void>;
  /** Tells every connection of these sessions, in every namespace and on every instance, why, and closes it. */
  closeSessions(sessionIds: string[], reason: SessionEndReason): Promise<void>;
}
