/**
 * The chat core: one object per area, one method per operation. Socket.IO
 * handlers, HTTP routes and the queue inlet call these and nothing
 * else; none of them touch the database or Socket.IO rooms directly.
 */
import type { PrismaClient } from "../db/generated/client";
import { Images } from "../files/images";
import type { FileStore } from "../files/store";
import { Blocks } from "./blocks";
import { Attachments, type UploadLimits } from "./attachments";
import { Accounts, type AccountsOptions, type LoginGuard } from "./accounts";
import { type ChannelRules, Channels } from "./channels";
import type { Connections } from "./connections";
import type { Delivery } from "./delivery";
import { createGateway, type Gateway } from "./gateway";
import { MessageWriter } from "./message-writer";
import { Hooks, type NamedHooks } from "./hooks";
import { Messages } from "./messages";
import { Pins } from "./pins";
import { Presence, type PresenceStore } from "./presence";
import { Profiles } from "./profiles";
import { Reactions } from "./reactions";
import { RoomEvents } from "./room-events";
import { Rooms } from "./rooms";
import { Threads } from "./threads";
import { MessageSearcher } from "./search";

export interface Core {
  accounts: Accounts;
  rooms: Rooms;
  messages: Messages;
  attachments: Attachments;
  profiles: Profiles;
  blocks: Blocks;
  reactions: Reactions;
  pins: Pins;
  threads: Threads;
  search: MessageSearcher;
  presence: Presence;
  gateway: Gateway;
  channels: Channels;
}

export function createCore(deps: {
  db: PrismaClient;
  delivery: Delivery;
  connections: Connections;
  /** The channel rules of each non-chat namespace (its settings). */
  channels?: Record<string, ChannelRules>;
  presenceStore: PresenceStore;
  accounts: AccountsOptions;
  /** Where uploaded files are kept, and what is accepted. */
  files: { store: FileStore; limits: UploadLimits };
  /** Limits on guessing passwords (none by default). */
  loginGuard?: LoginGuard;
  /** Plugin hooks around sending messages, in order. */
  hooks?: NamedHooks[];
  /** Where a failing hook is reported. */
  onHookError?: (err: unknown, plugin: string, hook: string) => void;
  /** Told the size, the messages stored and the duration of every batch of messages written (metrics). */
  onWriteBatch?: (size: number, stored: number, seconds: number) => void;
}): Core {
  const { db, delivery, presenceStore } = deps;
  const accounts = new Accounts(db, deps.connections, deps.accounts, deps.loginGuard);
  const roomEvents = new RoomEvents(db);
  // A room's files go with it: Attachments (made below, as it needs Rooms) deletes them.
  const roomFiles = { discardRoom: (roomId: string): Promise<void> => attachments.discardRoom(roomId) };
  const rooms = new Rooms(db, delivery, presenceStore, roomEvents, roomFiles);
  const hooks = new Hooks(deps.hooks ?? [], deps.onHookError ?? (() => {}));
  const reactions = new Reactions(db, delivery, rooms, hooks);
  const threads = new Threads(db, delivery, rooms);
  const images = new Images();
  const attachments = new Attachments(db, deps.files.store, images, rooms, deps.files.limits);
  const profiles = new Profiles(db, deps.files.store, images, rooms, delivery, presenceStore);
  const blocks = new Blocks(db, delivery);
  const pins = new Pins(db, delivery, rooms, attachments);
  const messages = new Messages(db, new MessageWriter(db, deps.onWriteBatch), rooms, roomEvents, delivery, reactions, threads, hooks, attachments, pins);
  const presence = new Presence(presenceStore, delivery, (userId) => rooms.idsOf(userId));
  const channels = new Channels(db, deps.connections, deps.channels ?? {});
  const search = new MessageSearcher(db);
  const gateway = createGateway({ connections: deps.connections, rooms, messages, reactions, pins, search, channels });
  return { accounts, rooms, messages, attachments, profiles, blocks, reactions, pins, threads, search, presence, gateway, channels };
}
