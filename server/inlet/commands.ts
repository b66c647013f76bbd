/**
 * The commands a backend can append to the queue inlet: the HTTP API's
 * operations under their gateway names, with the same fields (path
 * parameters become fields). `{"op": "sendToUser", "namespace": "/push",
 * "userId": "42", "event": "notice", "data": {...}}`.
 */
import { z } from "zod";
import {
  addMembersBody,
  bindBody,
  channelName,
  createRoomBody,
  emitBody,
  id,
  namespaceName,
  postMessageBody,
  publishBody,
} from "../../shared/gateway";
import type { Core } from "../core";

interface Command<S extends z.ZodType = z.ZodType> {
  schema: S;
  run(core: Core, input: z.output<S>): Promise<unknown> | unknown;
}

function command<S extends z.ZodType>(c: Command<S>): Command {
  return c as unknown as Command;
}

const ns = z.strictObject({ namespace: namespaceName });
const group = channelName;

export const queueCommands: Record<string, Command> = {
  publish: command({ schema: publishBody, run: (core, c) => core.gateway.publish(c) }),
  broadcast: command({
    schema: emitBody.extend(ns.shape),
    run: (core, c) => core.gateway.broadcast(c.namespace, c),
  }),
  sendToClient: command({
    schema: emitBody.extend(ns.shape).extend({ clientId: id }),
    run: (core, c) => core.gateway.sendToClient(c.namespace, c.clientId, c),
  }),
  sendToUser: command({
    schema: emitBody.extend(ns.shape).extend({ userId: id }),
    run: (core, c) => core.gateway.sendToUser(c.namespace, c.userId, c),
  }),
  sendToGroup: command({
    schema: emitBody.extend(ns.shape).extend({ group }),
    run: (core, c) => core.gateway.sendToGroup(c.namespace, c.group, c),
  }),
  closeClient: command({
    schema: ns.extend({ clientId: id }),
    run: (core, c) => core.gateway.closeClient(c.namespace, c.clientId),
  }),
  bindUser: command({
    schema: ns.extend({ clientId: id }).extend(bindBody.shape),
    run: (core, c) => core.gateway.bindUser(c.namespace, c.clientId, c.userId),
  }),
  unbindUser: command({
    schema: ns.extend({ clientId: id }),
    run: (core, c) => core.gateway.unbindUser(c.namespace, c.clientId),
  }),
  joinGroup: command({
    schema: ns.extend({ group, clientId: id }),
    run: (core, c) => core.gateway.joinGroup(c.namespace, c.group, c.clientId),
  }),
  leaveGroup: command({
    schema: ns.extend({ group, clientId: id }),
    run: (core, c) => core.gateway.leaveGroup(c.namespace, c.group, c.clientId),
  }),
  dissolveGroup: command({
    schema: ns.extend({ group }),
    run: (core, c) => core.gateway.dissolveGroup(c.namespace, c.group),
  }),
  createRoom: command({ schema: createRoomBody, run: (core, c) => core.gateway.createRoom(c) }),
  addMembers: command({
    schema: addMembersBody.extend({ roomId: id }),
    run: (core, c) => core.gateway.addMembers(c.roomId, c.userIds),
  }),
  removeMember: command({
    schema: z.strictObject({ roomId: id, userId: id }),
    run: (core, c) => core.gateway.removeMember(c.roomId, c.userId),
  }),
  postMessage: command({
    // postMessageBody has a refinement, so it cannot be extended: take roomId aside.
    schema: z.looseObject({ roomId: id }).transform(({ roomId, ...rest }) => ({ roomId, rest })).pipe(
      z.object({ roomId: id, rest: postMessageBody }),
    ),
    run: (core, c) => core.gateway.postMessage(c.roomId, c.rest),
  }),
};
