/** Longest message body, in characters (UTF-16 code units, as JavaScript counts). */
export const MAX_BODY_LENGTH = 4000;

/** Unread counts stop at this number; a UI shows "999+" or similar past it. */
export const UNREAD_CAP = 1000;
