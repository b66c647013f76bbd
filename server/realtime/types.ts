import type { DefaultEventsMap, Namespace, Server, Socket } from "socket.io";
import type {
  ChannelClientToServerEvents,
  ChannelServerToClientEvents,
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from "../../shared/protocol";

/** The server, typed for the chat namespace `/`. */
export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** A non-chat namespace (channels) and its connections. */
export type ChannelNamespace = Namespace<ChannelClientToServerEvents, ChannelServerToClientEvents, InterServerEvents, SocketData>;
export type ChannelSocket = Socket<ChannelClientToServerEvents, ChannelServerToClientEvents, InterServerEvents, SocketData>;

/** What every namespace's connections share: their data and the events every namespace sends. */
type SharedEvents = Pick<ServerToClientEvents, "session:ended" | "protocol:error">;
export type AnySocket = Socket<DefaultEventsMap, SharedEvents, InterServerEvents, SocketData>;
export type AnyNamespace = Namespace<DefaultEventsMap, SharedEvents, InterServerEvents, SocketData>;

/**
 * A configured namespace, typed by its own event maps. Socket.IO types a
 * server by one set of maps (the chat's), so this is the one place that
 * names another.
 */
export function channelNamespace(io: IoServer, name: string): ChannelNamespace {
  return io.of(name) as unknown as ChannelNamespace;
}
