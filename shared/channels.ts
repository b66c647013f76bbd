/**
 * The channel events of the non-chat namespaces (docs/api.md#namespaces):
 * payload schemas and the publication shape. The event maps built on them
 * are in protocol.ts.
 */
import { z } from "zod";
import { channelName } from "./gateway";
import { jsonData, text } from "./text";

export const channelInput = z.strictObject({ channel: channelName });
export const channelPublishInput = z.strictObject({ channel: channelName, data: jsonData });
export const channelHistoryInput = z.strictObject({
  channel: channelName,
  before: z.string().regex(/^[1-9][0-9]{0,18}$/).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export const channelPresenceInput = z.strictObject({
  channel: channelName,
  /** A page of at most this many subscribers, after the client id `after`. */
  limit: z.number().int().min(1).max(1000).default(1000),
  after: text().min(1).max(400).optional(),
});

export const publicationShape = z.object({
  /** Present where the namespace keeps history: ascending, for paging. */
  id: z.string().optional(),
  channel: z.string(),
  data: z.unknown(),
  clientId: z.string().nullable(),
  userId: z.string().nullable(),
  createdAt: z.string(),
});
export type Publication = z.output<typeof publicationShape>;

export type ChannelInput = z.input<typeof channelInput>;
export type ChannelPublishInput = z.input<typeof channelPublishInput>;
export type ChannelHistoryInput = z.input<typeof channelHistoryInput>;
export type ChannelPresenceInput = z.input<typeof channelPresenceInput>;
export type ChannelHistory = z.output<typeof channelHistoryInput>;
export type ChannelPresence = z.output<typeof channelPresenceInput>;
