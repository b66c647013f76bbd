/**
 * Every client event of namespace `/`: its payload schema and the core call
 * it makes. Handlers only decode (the schema), call the core, and encode the
 * ack; {@link ./handle.ts} does the rest for all of them alike.
 */
import type { z } from "zod";
import type { ClientToServerEvents, User } from "../../shared/protocol";
import {
  dmOpenInput,
  messageDeleteInput,
  messageEditInput,
  messageAroundInput,
  messageHistoryInput,
  messageNewerInput,
  messagePinInput,
  messageSearchInput,
  messageThreadInput,
  threadListInput,
  threadReadInput,
  messageSendInput,
  presenceQueryInput,
  reactionInput,
  roomBrowseInput,
  roomCreateInput,
  roomIdInput,
  roomInviteInput,
  roomListInput,
  roomMembersInput,
  roomNotificationsInput,
  roomReadInput,
  roomMemberInput,
  roomRemoveInput,
  roomMuteInput,
  roomRoleInput,
  roomUpdateInput,
  typingInput,
  userSearchInput,
  userGetInput,
  userBlockInput,
  emptyInput,
  roomArchiveInput,
  profileUpdateInput,
} from "../../shared/schemas";
import type { Core } from "../core";

export interface EventContext {
  core: Core;
  user: User;
  connectionId: string;
}

export interface EventSpec<S extends z.ZodType = z.ZodType, C = EventContext> {
  schema: S;
  /** False for fire-and-forget events (`typing`): an ack is optional. */
  ackRequired: boolean;
  run(ctx: C, input: z.output<S>): Promise<object>;
  /** The plugin that added the event, named in its error logs. */
  plugin?: string;
}

/** A table of events: what {@link ./handle.ts} dispatches on. */
export type EventTable<C> = Record<string, EventSpec<z.ZodType, C>>;

/**
 * The helper for a table of events in context C: it keeps each event's schema
 * and answer types (test/contract-types.test-d.ts holds them to the contract).
 */
export function eventsIn<C>() {
  return <S extends z.ZodType, R extends object>(
    spec: EventSpec<S, C> & { run(ctx: C, input: z.output<S>): Promise<R> },
  ): EventSpec<S, C> & { run(ctx: C, input: z.output<S>): Promise<R> } => spec;
}

const event = eventsIn<EventContext>();

export const clientEvents = {
  "room:create": event({
    schema: roomCreateInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ room: await core.rooms.create(user, input) }),
  }),
  "room:join": event({
    schema: roomIdInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ room: await core.rooms.join(user, input) }),
  }),
  "room:leave": event({
    schema: roomIdInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.leave(user, input), {}),
  }),
  "room:list": event({
    schema: roomListInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.rooms.list(user, input),
  }),
  "room:members": event({
    schema: roomMembersInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.rooms.members(user, input),
  }),
  "room:update": event({
    schema: roomUpdateInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ room: await core.rooms.update(user, input) }),
  }),
  "room:remove": event({
    schema: roomRemoveInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.remove(user, input), {}),
  }),
  "room:mute": event({
    schema: roomMuteInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.mute(user, input), {}),
  }),
  "room:unban": event({
    schema: roomMemberInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.unban(user, input), {}),
  }),
  "room:bans": event({
    schema: roomIdInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.rooms.bans(user, input),
  }),
  "room:role": event({
    schema: roomRoleInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.setRole(user, input), {}),
  }),
  "room:read": event({
    schema: roomReadInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.markRead(user, input), {}),
  }),
  "room:notifications": event({
    schema: roomNotificationsInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.setNotifications(user, input), {}),
  }),
  "dm:open": event({
    schema: dmOpenInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ room: await core.rooms.openDm(user, input) }),
  }),
  "room:delete": event({
    schema: roomIdInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.delete(user, input), {}),
  }),
  "dm:hide": event({
    schema: roomIdInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.rooms.hideDm(user, input), {}),
  }),
  "message:send": event({
    schema: messageSendInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ message: await core.messages.send(user, input) }),
  }),
  "message:history": event({
    schema: messageHistoryInput,
    ackRequired: true,
    run: async ({ core, user }, input) => core.messages.history(user, input),
  }),
  "message:thread": event({
    schema: messageThreadInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.messages.thread(user, input),
  }),
  "thread:list": event({
    schema: threadListInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.threads.list(user, input),
  }),
  "thread:read": event({
    schema: threadReadInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.threads.read(user, input), {}),
  }),
  "message:around": event({
    schema: messageAroundInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.messages.around(user, input),
  }),
  "message:newer": event({
    schema: messageNewerInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.messages.newer(user, input),
  }),
  "message:search": event({
    schema: messageSearchInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.search.search(user.id, input),
  }),
  "message:edit": event({
    schema: messageEditInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ message: await core.messages.edit(user, input) }),
  }),
  "message:delete": event({
    schema: messageDeleteInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.messages.delete(user, input), {}),
  }),
  "reaction:add": event({
    schema: reactionInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.reactions.add(user, input), {}),
  }),
  "reaction:remove": event({
    schema: reactionInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.reactions.remove(user, input), {}),
  }),
  "message:pin": event({
    schema: messagePinInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.pins.pin(user, input), {}),
  }),
  "message:unpin": event({
    schema: messagePinInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.pins.unpin(user, input), {}),
  }),
  "room:pins": event({
    schema: roomIdInput,
    ackRequired: true,
    run: ({ core, user }, input) => core.pins.list(user, input),
  }),
  typing: event({
    schema: typingInput,
    ackRequired: false,
    run: async ({ core, user, connectionId }, input) => (await core.messages.typing(user, input, connectionId), {}),
  }),
  "room:invite": event({
    schema: roomInviteInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ added: await core.rooms.invite(user, input) }),
  }),
  "room:browse": event({
    schema: roomBrowseInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ rooms: await core.rooms.browse(user, input) }),
  }),
  "user:search": event({
    schema: userSearchInput,
    ackRequired: true,
    run: async ({ core }, input) => ({ users: await core.accounts.search(input) }),
  }),
  "user:block": event({
    schema: userBlockInput,
    ackRequired: true,
    run: async ({ core, user }, input) => (await core.blocks.set(user, input), {}),
  }),
  "user:blocks": event({
    schema: emptyInput,
    ackRequired: true,
    run: async ({ core, user }) => ({ users: await core.blocks.list(user) }),
  }),
  "room:archive": event({
    schema: roomArchiveInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ room: await core.rooms.archive(user, input) }),
  }),
  "user:get": event({
    schema: userGetInput,
    ackRequired: true,
    run: async ({ core }, input) => core.profiles.get(input.userId),
  }),
  "user:update": event({
    schema: profileUpdateInput,
    ackRequired: true,
    run: async ({ core, user }, input) => ({ user: await core.profiles.update(user, input) }),
  }),
  "presence:query": event({
    schema: presenceQueryInput,
    ackRequired: true,
    run: async ({ core }, input) => ({ online: [...(await core.presence.online(input.userIds))] }),
  }),
} satisfies Record<keyof ClientToServerEvents, EventSpec>;

