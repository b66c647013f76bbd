/**
 * Example plugin (loaded by default from ./plugins): chat slash commands.
 *
 * - `/me waves` is stored as `* Ada waves` (a beforeMessage rewrite);
 *   `/me` alone is refused with its usage (a beforeMessage rejection);
 * - `/shrug fine` is stored as `fine ¯\_(ツ)_/¯`;
 * - a command whose expansion would pass the 4,000-character limit is refused;
 * - other text, `/usr/bin` included, passes unchanged;
 * - the client event `dice:roll {roomId, sides?}` posts `🎲 rolled 4 (d6)` in the room
 *   as the sender and acks `{value, message}`.
 */
import { randomInt } from "node:crypto";
import { z } from "zod";
import { definePlugin, pluginEvent, type BeforeMessageResult } from "../server/plugins/api";
import { MAX_BODY_LENGTH } from "../shared/limits";
import type { User } from "../shared/protocol";

function expand(author: User, body: string): BeforeMessageResult {
  const me = body.match(/^\/me(?:\s+([\s\S]*))?$/);
  if (me) {
    const action = me[1]?.trim();
    return action ? { body: `* ${author.displayName} ${action}` } : { reject: "Usage: /me <action>" };
  }
  const shrug = body.match(/^\/shrug(?:\s+([\s\S]*))?$/);
  if (shrug) return { body: `${shrug[1]?.trim() ?? ""} ¯\\_(ツ)_/¯`.trimStart() };
  return undefined;
}

export default definePlugin({
  name: "slash-commands",
  hooks: {
    beforeMessage({ author, body }) {
      const result = expand(author, body);
      // A body near the limit grows past it once expanded (`* Ada …`, `… ¯\_(ツ)_/¯`): a body
      // that long is refused here, as the core refuses a hook's over-long body as a bug.
      if (result && "body" in result && result.body.length > MAX_BODY_LENGTH) {
        return { reject: `Too long once expanded: at most ${MAX_BODY_LENGTH} characters` };
      }
      return result;
    },
  },
  events: {
    "dice:roll": pluginEvent({
      schema: z.strictObject({ roomId: z.string().min(1).max(128), sides: z.number().int().min(2).max(1000).default(6) }),
      async handler({ core, user }, { roomId, sides }) {
        const value = randomInt(1, sides + 1);
        const message = await core.messages.send(user, { roomId, body: `🎲 rolled ${value} (d${sides})` });
        return { value, message };
      },
    }),
  },
});
