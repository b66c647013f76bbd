/**
 * The extension API. A plugin is a module whose default export is
 * `definePlugin({...})`: its own client events (schema, handler, ack) in the
 * chat namespace, and hooks around messages and reactions. See docs/plugins.md.
 *
 * ```ts
 * import { z } from "zod";
 * import { definePlugin } from "../server/plugins/api";
 *
 * export default definePlugin({
 *   name: "shout",
 *   hooks: { beforeMessage: ({ body }) => ({ body: body.toUpperCase() }) },
 *   events: {
 *     "shout:ping": { schema: z.object({}), handler: async () => ({ pong: true }) },
 *   },
 * });
 * ```
 */
import type { z } from "zod";
import type { User } from "../../shared/protocol";
import type { Core } from "../core";
import type { MessageHooks } from "../core/hooks";

export type { BeforeMessageResult, BeforeReactionResult, DraftMessage, DraftReaction, ReactionChangeEvent } from "../core/hooks";

export interface PluginEventContext {
  /** The connected user who sent the event. */
  user: User;
  /** The connection (Socket.IO socket id). */
  connectionId: string;
  /** The whole core: rooms, messages, gateway… (the same methods the transports call). */
  core: Core;
}

export interface PluginEvent<S extends z.ZodType = z.ZodType> {
  /** Validates the payload; a failure is answered `invalid_payload` before the handler runs. */
  schema: S;
  /** Default true: an event without an ack callback is refused with `missing_ack`. */
  ackRequired?: boolean;
  /** Its result is spread into the ack: `{ok: true, ...result}`. Throw `AppError` for coded errors. */
  handler(ctx: PluginEventContext, input: z.output<S>): Promise<object>;
}

/**
 * `beforeMessage` (may rewrite or reject a client's message), `afterMessage`
 * (sees every stored one), `beforeReaction` (may reject a client's reaction)
 * and `afterReaction` (sees every reaction added or taken back).
 */
export type PluginHooks = MessageHooks;

export interface SwitchboardPlugin {
  /** Shown in logs; also a good prefix for its event names (`dice:roll`). */
  name: string;
  events?: Record<string, PluginEvent>;
  hooks?: PluginHooks;
}

/** Identity function that gives a plugin module its types. */
export function definePlugin(plugin: SwitchboardPlugin): SwitchboardPlugin {
  return plugin;
}

/** Typed helper for one event, keeping the schema's output type for the handler. */
export function pluginEvent<S extends z.ZodType>(event: PluginEvent<S>): PluginEvent {
  return event as unknown as PluginEvent;
}
