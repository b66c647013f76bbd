/**
 * Message bodies as a small formatting tree: the Markdown people type in
 * chat (bold, italic, strike, code, quotes, lists, links), parsed by
 * markdown-it and turned into plain data that MessageBody renders as React
 * elements. No HTML string is ever built, so nothing in a body can become
 * markup the tree does not describe.
 *
 * The subset, and why (Slack is the model people bring with them):
 * - on: emphasis (`**bold**`, `*italic*`, `_italic_`), `~~strike~~`,
 *   `inline code`, fenced and indented code blocks, `>` quotes, bullet and
 *   numbered lists, `[text](url)` links, paragraphs; every single newline is
 *   a line break (people type Shift+Enter for one).
 * - off: headings (`# ` and underlined) and horizontal rules — a chat line
 *   starting with "#" or a row of dashes is text, not a banner; tables and
 *   images — a body is text, and a picture would load a stranger's URL in
 *   every reader's browser; raw HTML; reference links and definitions —
 *   they take lines away from the message; entities (`&amp;` stays as
 *   typed); `<url>` autolinks, markdown-it's own link finder and
 *   typographic replacements — bare addresses become links through
 *   {@link linkify}, exactly as in plain text.
 * - changed: a backslash still keeps the next punctuation character from
 *   formatting, but stays visible. Backslashes are common in chat text —
 *   /shrug's ¯\_(ツ)_/¯, Windows paths, regular expressions — and are not
 *   removed from what people wrote.
 */
import MarkdownIt from "markdown-it";
import type { StateInline, Token } from "markdown-it";
import { linkify, safeHref } from "./format";

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "strong" | "em" | "strike"; children: Inline[] }
  | { kind: "code"; text: string }
  | { kind: "link"; href: string; children: Inline[] }
  | { kind: "br" };

export type Block =
  | { kind: "paragraph"; children: Inline[] }
  | { kind: "codeblock"; text: string; lang?: string }
  | { kind: "quote"; children: Block[] }
  | { kind: "list"; ordered: boolean; start?: number; items: Block[][] };

export type FormatNode = Block | Inline;

/**
 * Deeper nesting than this is not formatted. markdown-it drops the content
 * of blocks nested deeper than its `maxNesting`, so a body that reaches it is
 * shown as plain text instead; emphasis nested deeper keeps its text and
 * loses the extra levels.
 */
const MAX_NESTING = 20;

// Passed as a variable: @types/markdown-it does not list maxNesting, which markdown-it reads.
const options = { breaks: true, maxNesting: MAX_NESTING };
const md = new MarkdownIt("zero", options).enable([
  // block
  "code",
  "fence",
  "blockquote",
  "list",
  // inline
  "newline",
  "escape",
  "backticks",
  "strikethrough",
  "emphasis",
  "link",
]);
md.inline.ruler.at("escape", visibleEscape);
md.inline.ruler.before("strikethrough", "whole_bare_links", wholeBareLinks);
md.inline.ruler.before("link", "refused_links", refusedLinks);
// Checked again by markdown-it's link rule, after refusedLinks checked the link with its text.
md.validateLink = (url) => destinationHref(url) !== null;

/**
 * The formatting tree of a message body. Never throws; a body without
 * formatting is one paragraph whose text is the body.
 *
 * @example
 * parseBody("**hi** see example.com")
 * // [{ kind: "paragraph", children: [
 * //   { kind: "strong", children: [{ kind: "text", text: "hi" }] },
 * //   { kind: "text", text: " see " },
 * //   { kind: "link", href: "https://example.com/", children: [{ kind: "text", text: "example.com" }] } ] }]
 */
export function parseBody(body: string): Block[] {
  const content = body.trimEnd();
  const tokens = md.parse(content, {});
  // Content nested past the limit was dropped by the parser: show every character instead.
  if (tokens.some((t) => t.level + t.nesting >= MAX_NESTING)) return [{ kind: "paragraph", children: linkified(body) }];
  const blocks = new TreeBuilder(tokens).blocks();
  // The parser trims the end of a body. That whitespace is kept where it was (invisible, as before
  // formatting), so the text of a message without formatting is exactly its body.
  const last = blocks.at(-1);
  const end = body.slice(content.length);
  if (last?.kind === "paragraph" && end) {
    const lastText = last.children.at(-1);
    if (lastText?.kind === "text") lastText.text += end;
    else last.children.push({ kind: "text", text: end });
  }
  return blocks;
}

/** The text of inline nodes as shown (line breaks as "\n"). */
export function plainText(nodes: Inline[]): string {
  return nodes
    .map((n) => (n.kind === "br" ? "\n" : n.kind === "text" || n.kind === "code" ? n.text : plainText(n.children)))
    .join("");
}

/**
 * Where a `[text](url)` link opens, or null when it is refused (and stays
 * the text it was written as). The same rule as for bare addresses — only
 * http:, https: and mailto:, no deceptive characters in what is shown — and
 * one more: a link whose text shows an address must open that address's
 * site, so `[bank.com](https://evil.example)` is refused. `url` may also
 * be written as in text ("example.com/docs", "ada@example.com").
 */
export function linkTarget(text: string, url: string): string | null {
  const href = destinationHref(url);
  if (href === null || safeHref(text, href) === null) return null;
  const shown = linkify(text).filter((s) => s.kind === "link");
  return shown.every((s) => sameSite(s.href, href)) ? href : null;
}

function destinationHref(url: string): string | null {
  const [only, ...rest] = linkify(url);
  if (only?.kind === "link" && rest.length === 0) return only.href;
  return safeHref(url, url);
}

/** Same host (over http or https, with or without "www."), or the same mail address. */
function sameSite(a: string, b: string): boolean {
  const key = (href: string) => {
    const url = new URL(href);
    // Both are in the URL parser's canonical form, percent-encoding included.
    return url.protocol === "mailto:" ? `mailto:${url.pathname.toLowerCase()}` : url.host.replace(/^www\./, "");
  };
  return key(a) === key(b);
}

/** Text, with the addresses in it as links (never inside a link or code). */
function linkified(text: string): Inline[] {
  return linkify(text).map((s) =>
    s.kind === "link" ? { kind: "link", href: s.href, children: [{ kind: "text", text: s.text }] } : { kind: "text", text: s.text },
  );
}

/** Turns markdown-it's flat token stream (open, content, close) into the tree. */
class TreeBuilder {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  /** Blocks up to the token of type `close` (consumed), or to the end. */
  blocks(close?: string): Block[] {
    const out: Block[] = [];
    for (let t = this.tokens[this.pos++]; t && t.type !== close; t = this.tokens[this.pos++]) {
      switch (t.type) {
        case "inline":
          out.push({ kind: "paragraph", children: inlines(t.children ?? []) });
          break;
        case "fence":
        case "code_block": {
          const lang = /^[\w+#.-]{1,32}$/.exec(t.info.trim().split(/\s/)[0] ?? "")?.[0];
          out.push({ kind: "codeblock", text: t.content.replace(/\n$/, ""), ...(lang ? { lang } : {}) });
          break;
        }
        case "blockquote_open":
          out.push({ kind: "quote", children: this.blocks("blockquote_close") });
          break;
        case "bullet_list_open":
        case "ordered_list_open": {
          const ordered = t.type === "ordered_list_open";
          const start = Number(t.attrGet("start") ?? 1);
          out.push({ kind: "list", ordered, ...(ordered && start !== 1 ? { start } : {}), items: this.items(ordered ? "ordered_list_close" : "bullet_list_close") });
          break;
        }
        // paragraph_open and _close frame the inline token; nothing else is enabled.
      }
    }
    return out;
  }

  private items(close: string): Block[][] {
    const items: Block[][] = [];
    for (let t = this.tokens[this.pos++]; t && t.type !== close; t = this.tokens[this.pos++]) {
      if (t.type === "list_item_open") items.push(this.blocks("list_item_close"));
    }
    return items;
  }
}

const WRAPPERS: Record<string, { kind: "strong" | "em" | "strike" | "link"; close: string }> = {
  strong_open: { kind: "strong", close: "strong_close" },
  em_open: { kind: "em", close: "em_close" },
  s_open: { kind: "strike", close: "s_close" },
  link_open: { kind: "link", close: "link_close" },
};

/** The inline tree of one paragraph; text is linkified only outside links (code is never text). */
function inlines(tokens: Token[]): Inline[] {
  let pos = 0;
  function until(close: string | undefined, depth: number, inLink: boolean): Inline[] {
    const out: Inline[] = [];
    const text = (s: string) => {
      const prev = out.at(-1);
      if (prev?.kind === "text") prev.text += s;
      else if (s) out.push({ kind: "text", text: s });
    };
    for (let t = tokens[pos++]; t && t.type !== close; t = tokens[pos++]) {
      const wrapper = WRAPPERS[t.type];
      if (t.type === "text") text(t.content);
      else if (t.type === "softbreak" || t.type === "hardbreak") out.push({ kind: "br" });
      else if (t.type === "code_inline") out.push({ kind: "code", text: t.content });
      else if (wrapper) {
        const href = wrapper.kind === "link" ? destinationHref(t.attrGet("href") ?? "") : null;
        const children = until(wrapper.close, depth + 1, inLink || wrapper.kind === "link");
        if (wrapper.kind === "link") {
          // validateLink already refused what destinationHref refuses; kept as text should that ever differ.
          if (href !== null) out.push({ kind: "link", href, children });
          else for (const child of children) child.kind === "text" ? text(child.text) : out.push(child);
        } else if (depth >= MAX_NESTING) {
          for (const child of children) child.kind === "text" ? text(child.text) : out.push(child);
        } else {
          out.push({ kind: wrapper.kind, children });
        }
      }
    }
    return inLink ? out : out.flatMap((n) => (n.kind === "text" ? linkified(n.text) : [n]));
  }
  return until(undefined, 0, false);
}

// ---- markdown-it inline rules ----

const BACKSLASH = 0x5c;
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;

/** Replaces markdown-it's `escape`: `\*` keeps the star from formatting, and the backslash is shown. */
function visibleEscape(state: StateInline, silent: boolean): boolean {
  if (state.src.charCodeAt(state.pos) !== BACKSLASH || state.pos + 1 >= state.posMax) return false;
  if (!ASCII_PUNCTUATION.test(state.src.charAt(state.pos + 1))) return false;
  if (!silent) state.pending += state.src.slice(state.pos, state.pos + 2);
  state.pos += 2;
  return true;
}

const DELIMITERS = "*_~";
const bareLinkSpans = new WeakMap<StateInline, [start: number, end: number][]>();

/**
 * Keeps the formatting characters inside a bare address part of it:
 * "https://example.com/pkg/__init__.py" stays one link instead of a link
 * to ".../pkg/" and a bold "init". Delimiters that end an address
 * ("**example.com**") still close formatting around it.
 */
function wholeBareLinks(state: StateInline, silent: boolean): boolean {
  if (!DELIMITERS.includes(state.src.charAt(state.pos))) return false;
  let spans = bareLinkSpans.get(state);
  if (!spans) bareLinkSpans.set(state, (spans = linkSpans(state.src)));
  const span = spans.find(([start, end]) => start < state.pos && state.pos < end);
  if (!span) return false;
  const end = Math.min(span[1], state.posMax);
  if (!silent) state.pending += state.src.slice(state.pos, end);
  state.pos = end;
  return true;
}

/** Where linkify finds addresses in `src`, less the formatting characters that end them. */
function linkSpans(src: string): [number, number][] {
  const spans: [number, number][] = [];
  let offset = 0;
  for (const segment of linkify(src)) {
    const start = offset;
    offset += segment.text.length;
    if (segment.kind !== "link") continue;
    let end = offset;
    while (end > start && DELIMITERS.includes(src.charAt(end - 1))) end--;
    spans.push([start, end]);
  }
  return spans;
}

const OPEN_BRACKET = 0x5b;
const OPEN_PAREN = 0x28;
const EXCLAMATION = 0x21;

/**
 * Runs before markdown-it's link rule: a `[text](url)` that {@link linkTarget}
 * refuses keeps its "[" as text, so the link rule never sees it and the
 * whole link reads as it was written. So does an image, `![text](url)`:
 * images are off, and the address shows (as a link) in the text.
 */
function refusedLinks(state: StateInline, silent: boolean): boolean {
  if (state.src.charCodeAt(state.pos) !== OPEN_BRACKET) return false;
  const image = state.src.charCodeAt(state.pos - 1) === EXCLAMATION && state.src.charCodeAt(state.pos - 2) !== BACKSLASH;
  if (!image) {
    const labelEnd = state.md.helpers.parseLinkLabel(state, state.pos, true);
    if (labelEnd < 0 || state.src.charCodeAt(labelEnd + 1) !== OPEN_PAREN) return false;
    let pos = labelEnd + 2;
    // The whitespace markdown-it skips there: spaces, tabs, a newline.
    while (pos < state.posMax && /[ \t\n]/.test(state.src.charAt(pos))) pos++;
    const destination = state.md.helpers.parseLinkDestination(state.src, pos, state.posMax);
    const label = state.src.slice(state.pos + 1, labelEnd);
    if (destination.ok && linkTarget(label, state.md.normalizeLink(destination.str)) !== null) return false;
  }
  if (!silent) state.pending += "[";
  state.pos++;
  return true;
}
