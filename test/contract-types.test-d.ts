/**
 * Type tests for the realtime contract v1, checked by `tsc` (which `npm
 * test` runs first): the chat namespace's event table (server/realtime/
 * events.ts) accepts exactly the payloads the contract's event maps name and
 * answers exactly what their acks promise; the wire shapes are the schemas'.
 * A change to one side without the other fails the type check.
 */
import { expectTypeOf, test } from "vitest";
import type { z } from "zod";
import { errorBodyShape, type ErrorBody, type ErrorCode } from "../shared/errors";
import type { ChannelClientToServerEvents, ClientToServerEvents, Message, ServerToClientEvents, User } from "../shared/protocol";
import type { messageShape, userShape } from "../shared/shapes";
import type { Gateway, PathParamName } from "../server/core/gateway";
import type { clientEvents } from "../server/realtime/events";
import type { channelEvents } from "../server/realtime/namespaces";

type Table = typeof clientEvents;
type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
/** What a successful ack carries besides `ok: true`. */
type AckPayload<E extends keyof ClientToServerEvents> = Omit<Extract<Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0], { ok: true }>, "ok">;
type Answer<E extends keyof Table> = Awaited<ReturnType<Table[E]["run"]>>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Every<E extends string> = { [K in E]: true };

test("every chat event's schema takes the contract's payload", () => {
  expectTypeOf<{ [E in keyof Table]: Same<z.input<Table[E]["schema"]>, Payload<E>> }>().toEqualTypeOf<Every<keyof Table>>();
  expectTypeOf<keyof Table>().toEqualTypeOf<keyof ClientToServerEvents>();
});

test("every chat event's handler answers what the contract's ack promises", () => {
  expectTypeOf<{ [E in keyof Table]: Same<Answer<E>, AckPayload<E>> }>().toEqualTypeOf<Every<keyof Table>>();
});

test("the wire shapes are the schemas' and the error body names only catalogued codes", () => {
  expectTypeOf<Message>().toEqualTypeOf<z.output<typeof messageShape>>();
  expectTypeOf<User>().toEqualTypeOf<z.output<typeof userShape>>();
  expectTypeOf<Parameters<ServerToClientEvents["message:new"]>[0]>().toEqualTypeOf<Message>();
  expectTypeOf<ErrorBody>().toEqualTypeOf<z.output<typeof errorBodyShape>>();
  expectTypeOf<ErrorBody["code"]>().toEqualTypeOf<ErrorCode>();
});

test("the gateway's operations: path parameters come from the path, each method takes its fields and answers its output", () => {
  expectTypeOf<PathParamName<"/groups/{group}/clients/{clientId}">>().toEqualTypeOf<"group" | "clientId">();
  expectTypeOf<PathParamName<"/publish">>().toEqualTypeOf<never>();
  type Input<K extends keyof Gateway> = Parameters<Gateway[K]>[0];
  type Output<K extends keyof Gateway> = Awaited<ReturnType<Gateway[K]>>;
  expectTypeOf<Same<Input<"sendToUser">, { userId: string; namespace?: string; event: string; data?: unknown }>>().toEqualTypeOf<true>();
  expectTypeOf<Same<Input<"joinGroup">, { group: string; clientId: string; namespace?: string }>>().toEqualTypeOf<true>();
  expectTypeOf<Same<Input<"removeMember">, { roomId: string; userId: string }>>().toEqualTypeOf<true>();
  expectTypeOf<Same<Output<"countClients">, { count: number }>>().toEqualTypeOf<true>();
  expectTypeOf<Output<"history">["messages"]>().toEqualTypeOf<Message[]>();
  expectTypeOf<Output<"closeClient">>().toEqualTypeOf<void>();
});

type Channels = typeof channelEvents;
type ChannelPayload<E extends keyof ChannelClientToServerEvents> = Parameters<ChannelClientToServerEvents[E]>[0];
type ChannelAck<E extends keyof ChannelClientToServerEvents> = Omit<
  Extract<Parameters<Parameters<ChannelClientToServerEvents[E]>[1]>[0], { ok: true }>,
  "ok"
>;

test("every channel event of the other namespaces takes and answers what their event map says", () => {
  expectTypeOf<keyof Channels>().toEqualTypeOf<keyof ChannelClientToServerEvents>();
  expectTypeOf<{ [E in keyof Channels]: Same<z.input<Channels[E]["schema"]>, ChannelPayload<E>> }>().toEqualTypeOf<Every<keyof Channels>>();
  expectTypeOf<{ [E in keyof Channels]: Same<Awaited<ReturnType<Channels[E]["run"]>>, ChannelAck<E>> }>().toEqualTypeOf<Every<keyof Channels>>();
});
