/** Longest message body, in characters (UTF-16 code units, as JavaScript counts). */
export const MAX_BODY_LENGTH = 4000;

/** Unread counts stop at this number; a UI shows "999+" or similar past it. */
export const UNREAD_CAP = 1000;

/** Different emoji one message can carry as reactions (as Slack caps them); one more is `limit_exceeded`. */
export const MAX_REACTIONS_PER_MESSAGE = 20;

/** How many reactors of one emoji a message lists by id (`count` has them all); the asker is always among them. */
export const REACTION_USERS_LISTED = 50;

/** Membership lines ("Ada joined") one history page carries at most: the newest of its span of time. */
export const ROOM_EVENTS_PER_PAGE = 100;

/** Files one message can carry. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** Messages one room can have pinned at once (as Slack's old cap); one more is `limit_exceeded`. */
export const MAX_PINS_PER_ROOM = 50;
