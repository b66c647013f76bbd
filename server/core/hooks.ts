/**
 * Hooks around messages and reactions, as the core runs them. Plugins provide
 * them (server/plugins/api.ts re-exports these types for plugin authors);
 * the core knows nothing else of plugins.
 */
import type { Message, ReactionEvent, User } from "../../shared/protocol";
import { MAX_BODY_LENGTH } from "../../shared/limits";
import { isSafeText } from "../../shared/text";
import { AppError } from "./errors";

/** What `beforeMessage` sees: a client's message about to be stored. */
export interface DraftMessage {
  author: User;
  roomId: string;
  body: string;
}

/** `{body}` rewrites the message, `{reject}` refuses it (`forbidden` with that reason), nothing keeps it. */
export type BeforeMessageResult = { body: string } | { reject: string } | void | undefined;

/** What `beforeReaction` sees: a client's reaction about to be added. */
export interface DraftReaction {
  user: User;
  roomId: string;
  messageId: string;
  emoji: string;
}

/** `{reject}` refuses the reaction (`forbidden` with that reason), nothing lets it be. */
export type BeforeReactionResult = { reject: string } | void | undefined;

/** A reaction added or taken back, as `afterReaction` sees it. */
export interface ReactionChangeEvent extends ReactionEvent {
  added: boolean;
}

export interface MessageHooks {
  /** Runs before a client's message is stored, in plugin order; may rewrite or reject it. */
  beforeMessage?(draft: DraftMessage): BeforeMessageResult | Promise<BeforeMessageResult>;
  /** Runs after a message (from a client or a backend) was stored and delivered; errors are logged. */
  afterMessage?(message: Message): void | Promise<void>;
  /** Runs before a client's reaction is added, in plugin order; may reject it. */
  beforeReaction?(draft: DraftReaction): BeforeReactionResult | Promise<BeforeReactionResult>;
  /** Runs after a reaction (a client's or a backend's) was added or taken back and announced; errors are logged. */
  afterReaction?(change: ReactionChangeEvent): void | Promise<void>;
}

/** A plugin's hooks, with its name for the logs. */
export interface NamedHooks {
  name: string;
  hooks: MessageHooks;
}

/**
 * Runs the plugins' hooks for the core, in plugin order. A `before…` hook
 * that throws or answers nonsense fails the operation as `internal`; an
 * `after…` hook runs once the operation is done and its failure is only
 * logged. Either way the plugin's name goes to the log.
 */
export class Hooks {
  constructor(
    private readonly plugins: NamedHooks[],
    private readonly onError: (err: unknown, plugin: string, hook: keyof MessageHooks) => void,
  ) {}

  /** The body to store: each `beforeMessage` may rewrite it (the next sees the rewrite) or reject the message. */
  async beforeMessage(draft: DraftMessage): Promise<string> {
    let body = draft.body;
    for (const { name, hooks } of this.plugins) {
      if (!hooks.beforeMessage) continue;
      const result = await this.ask(name, "beforeMessage", () => hooks.beforeMessage!({ ...draft, body }));
      if (result === undefined || result === null) continue;
      this.rejectIfAsked(result);
      const rewritten = typeof result === "object" && "body" in result ? result.body : undefined;
      if (typeof rewritten !== "string" || !rewritten.trim() || rewritten.length > MAX_BODY_LENGTH || !isSafeText(rewritten)) {
        return this.nonsense(name, "beforeMessage", "{body} (1–4,000 characters of storable text) nor {reject}");
      }
      body = rewritten;
    }
    return body;
  }

  /** Throws `forbidden` when a `beforeReaction` rejects the reaction. */
  async beforeReaction(draft: DraftReaction): Promise<void> {
    for (const { name, hooks } of this.plugins) {
      if (!hooks.beforeReaction) continue;
      const result = await this.ask(name, "beforeReaction", () => hooks.beforeReaction!(draft));
      if (result === undefined || result === null) continue;
      this.rejectIfAsked(result);
      this.nonsense(name, "beforeReaction", "{reject} nor nothing");
    }
  }

  afterMessage(message: Message): void {
    this.after("afterMessage", (hooks) => hooks.afterMessage?.(message));
  }

  afterReaction(change: ReactionChangeEvent): void {
    this.after("afterReaction", (hooks) => hooks.afterReaction?.(change));
  }

  private async ask(name: string, hook: keyof MessageHooks, run: () => unknown): Promise<unknown> {
    try {
      return await run();
    } catch (err) {
      this.onError(err, name, hook);
      throw new AppError("internal", "internal error");
    }
  }

  private rejectIfAsked(result: unknown): void {
    if (typeof result === "object" && result !== null && "reject" in result && typeof result.reject === "string") {
      throw new AppError("forbidden", result.reject.slice(0, 500));
    }
  }

  private nonsense(name: string, hook: keyof MessageHooks, expected: string): never {
    this.onError(new Error(`${hook} answered neither ${expected}`), name, hook);
    throw new AppError("internal", "internal error");
  }

  private after(hook: keyof MessageHooks, run: (hooks: MessageHooks) => unknown): void {
    for (const { name, hooks } of this.plugins) {
      if (!hooks[hook]) continue;
      Promise.resolve()
        .then(() => run(hooks))
        .catch((err: unknown) => this.onError(err, name, hook));
    }
  }
}
