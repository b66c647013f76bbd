/**
 * Hooks around sending messages, as the core runs them. Plugins provide
 * them (server/plugins/api.ts re-exports these types for plugin authors);
 * the core knows nothing else of plugins.
 */
import type { Message, User } from "../../shared/protocol";

/** What `beforeMessage` sees: a client's message about to be stored. */
export interface DraftMessage {
  author: User;
  roomId: string;
  body: string;
}

/** `{body}` rewrites the message, `{reject}` refuses it (`forbidden` with that reason), nothing keeps it. */
export type BeforeMessageResult = { body: string } | { reject: string } | void | undefined;

export interface MessageHooks {
  /** Runs before a client's message is stored, in plugin order; may rewrite or reject it. */
  beforeMessage?(draft: DraftMessage): BeforeMessageResult | Promise<BeforeMessageResult>;
  /** Runs after a message (from a client or a backend) was stored and delivered; errors are logged. */
  afterMessage?(message: Message): void | Promise<void>;
}
