/**
 * Message formatting (app/_lib/markdown.ts): which Markdown becomes which
 * node, what stays text, and that links stay safe on any body. Plain unit
 * tests: no server, no browser.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBody, plainText, type Block, type FormatNode, type Inline } from "../app/_lib/markdown";
import { MAX_BODY_LENGTH } from "../shared/limits";

const t = (text: string): Inline => ({ kind: "text", text });
const a = (href: string, text: string): Inline => ({ kind: "link", href, children: [t(text)] });
const br: Inline = { kind: "br" };
const p = (...children: Inline[]): Block => ({ kind: "paragraph", children });
/** The one paragraph a body makes. */
const line = (body: string) => {
  const blocks = parseBody(body);
  expect(blocks).toHaveLength(1);
  expect(blocks[0]!.kind).toBe("paragraph");
  return (blocks[0] as Extract<Block, { kind: "paragraph" }>).children;
};
/** A body that must show exactly as written, with no formatting and no links. */
const literal = (body: string) => expect(parseBody(body)).toEqual([p(t(body))]);

function* walk(nodes: FormatNode[]): Generator<FormatNode> {
  for (const node of nodes) {
    yield node;
    if (node.kind === "list") for (const item of node.items) yield* walk(item);
    else if ("children" in node) yield* walk(node.children);
  }
}
const links = (body: string) => [...walk(parseBody(body))].flatMap((n) => (n.kind === "link" ? [n.href] : []));

const KINDS = ["paragraph", "codeblock", "quote", "list", "text", "strong", "em", "strike", "code", "link", "br"];
const DECEPTIVE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

/** What every tree must satisfy, whatever the body. */
function expectSafe(blocks: Block[]): void {
  for (const node of walk(blocks)) {
    expect(KINDS).toContain(node.kind);
    if (node.kind === "link") {
      expect(["http:", "https:", "mailto:"]).toContain(new URL(node.href).protocol);
      expect(plainText(node.children)).not.toMatch(DECEPTIVE);
      // Never a link in a link.
      expect([...walk(node.children)].filter((n) => n.kind === "link")).toEqual([]);
    }
  }
}

describe("parseBody", () => {
  it("makes a body without formatting one paragraph of its text, and an empty body nothing", () => {
    literal("hello there, how are you?");
    expect(parseBody("")).toEqual([]);
  });

  it("formats bold, italic and strike, nested too", () => {
    expect(line("**bold** *italic* _also italic_ ~~gone~~")).toEqual([
      { kind: "strong", children: [t("bold")] },
      t(" "),
      { kind: "em", children: [t("italic")] },
      t(" "),
      { kind: "em", children: [t("also italic")] },
      t(" "),
      { kind: "strike", children: [t("gone")] },
    ]);
    expect(line("**bold _and italic_**")).toEqual([{ kind: "strong", children: [t("bold "), { kind: "em", children: [t("and italic")] }] }]);
    // Underscores inside words are not italic.
    literal("snake_case_names");
  });

  it("keeps code as written: no formatting, no links", () => {
    expect(line("run `npm **test** example.com` now")).toEqual([t("run "), { kind: "code", text: "npm **test** example.com" }, t(" now")]);
    expect(parseBody("```ts\nconst a = `<b>${x}</b>`; // https://example.com\n\n*not* italic\n```")).toEqual([
      { kind: "codeblock", lang: "ts", text: "const a = `<b>${x}</b>`; // https://example.com\n\n*not* italic" },
    ]);
    expect(parseBody("look:\n\n    indented code\n      keeps its indent")).toEqual([
      p(t("look:")),
      { kind: "codeblock", text: "indented code\n  keeps its indent" },
    ]);
    // An info string that is not a plain language name is not kept.
    expect(parseBody('```"><script>\nx\n```')).toEqual([{ kind: "codeblock", text: "x" }]);
  });

  it("makes quotes and lists", () => {
    expect(parseBody("> quoted\n> on two lines\n\nreply")).toEqual([
      { kind: "quote", children: [p(t("quoted"), br, t("on two lines"))] },
      p(t("reply")),
    ]);
    expect(parseBody("- one\n- two\n  - nested")).toEqual([
      {
        kind: "list",
        ordered: false,
        items: [[p(t("one"))], [p(t("two")), { kind: "list", ordered: false, items: [[p(t("nested"))]] }]],
      },
    ]);
    expect(parseBody("1. first\n2. second")).toEqual([{ kind: "list", ordered: true, items: [[p(t("first"))], [p(t("second"))]] }]);
    expect(parseBody("3. third")).toEqual([{ kind: "list", ordered: true, start: 3, items: [[p(t("third"))]] }]);
  });

  it("keeps every new line (Shift+Enter) as a line break, and a blank line between paragraphs", () => {
    expect(parseBody("Hi Alice,\nhow are you?\n\nBob")).toEqual([p(t("Hi Alice,"), br, t("how are you?")), p(t("Bob"))]);
  });

  it("links bare addresses as in plain text, but not inside code or another link", () => {
    expect(line("docs at https://example.com/guide. or example.org, mail ada@example.com")).toEqual([
      t("docs at "),
      a("https://example.com/guide", "https://example.com/guide"),
      t(". or "),
      a("https://example.org/", "example.org"),
      t(", mail "),
      a("mailto:ada@example.com", "ada@example.com"),
    ]);
    expect(line("**see example.com**")).toEqual([{ kind: "strong", children: [t("see "), a("https://example.com/", "example.com")] }]);
    expect(line("[about example.com](https://example.com/about)")).toEqual([a("https://example.com/about", "about example.com")]);
  });

  it("keeps formatting characters that belong to an address in the link", () => {
    expect(links("https://github.com/acme/app/blob/main/pkg/__init__.py")).toEqual(["https://github.com/acme/app/blob/main/pkg/__init__.py"]);
    expect(links("example.com/a*b*c and example.com/~~x~~")).toEqual(["https://example.com/a*b*c", "https://example.com/~~x~~"]);
    expect(line("_https://example.com/a_b_")).toEqual([{ kind: "em", children: [a("https://example.com/a_b", "https://example.com/a_b")] }]);
  });

  it("makes [text](url) links to http, https and mailto addresses, written as in text too", () => {
    expect(line("read [the guide](https://example.com/guide) first")).toEqual([t("read "), a("https://example.com/guide", "the guide"), t(" first")]);
    expect(line("[**bold** docs](example.com/docs)")).toEqual([
      { kind: "link", href: "https://example.com/docs", children: [{ kind: "strong", children: [t("bold")] }, t(" docs")] },
    ]);
    expect(links("[write](ada@example.com) [or](mailto:ada@example.com?subject=hi)")).toEqual([
      "mailto:ada@example.com",
      "mailto:ada@example.com?subject=hi",
    ]);
    expect(links("[example.com](https://www.example.com/x) [EXAMPLE.COM](https://example.com)")).toEqual([
      "https://www.example.com/x",
      "https://example.com/",
    ]);
  });

  it("leaves refused links as the text they were written as", () => {
    for (const body of [
      "[click](javascript:alert(1))",
      "[click](JaVaScRiPt:alert(1))",
      "[click](data:text/html,<script>alert(1)</script>)",
      "[click](vbscript:msgbox(1))",
      "[file](file:///etc/passwd)",
      "[home](/settings)",
      "[nothing]()",
      "[nothing](<>)",
    ]) {
      literal(body);
    }
    // What is an address in the refused source is still linked, as in plain text.
    expect(line("[get](file:///x) [it](/x?u=https://example.com/f)")).toEqual([
      t("[get](file:///x) [it](/x?u="),
      a("https://example.com/f", "https://example.com/f"),
      t(")"),
    ]);
  });

  it("refuses a link whose text could show another address than it opens", () => {
    // Bidi override: shows as "https://example.com/moc.live".
    literal("[https://example.com/\u202Eevil.com](https://evil.com)");
    expect(line("[pay\u200Bpal](https://evil.com)")).toEqual([t("[pay\u200Bpal]("), a("https://evil.com/", "https://evil.com"), t(")")]);
    // Text that is an address must be the one it opens.
    expect(line("[paypal.com](https://evil.com/login)")).toEqual([
      t("["),
      a("https://paypal.com/", "paypal.com"),
      t("]("),
      a("https://evil.com/login", "https://evil.com/login"),
      t(")"),
    ]);
    expect(links("[ada@example.com](mailto:eve@example.com)")).toEqual(["mailto:ada@example.com", "mailto:eve@example.com"]);
    expect(links("[ada@example.com](mailto:ADA@example.com) [ada@example.com](mailto:ada%E0@example.com)")).toEqual([
      "mailto:ADA@example.com",
      "mailto:ada@example.com",
      "mailto:ada%E0@example.com",
    ]);
  });

  it("leaves headings, rules, tables, images, references, entities and autolinks as text", () => {
    literal("# not a heading");
    expect(parseBody("Title\n===\n---\n***")).toEqual([p(t("Title"), br, t("==="), br, t("---"), br, t("***"))]);
    expect(parseBody("| a | b |\n| - | - |")).toEqual([p(t("| a | b |"), br, t("| - | - |"))]);
    expect(line("![cat](https://example.com/cat.png)")).toEqual([t("![cat]("), a("https://example.com/cat.png", "https://example.com/cat.png"), t(")")]);
    expect(parseBody("[x]\n\n[x]: https://example.com")).toEqual([p(t("[x]")), p(t("[x]: "), a("https://example.com/", "https://example.com"))]);
    literal("AT&amp;T &copy; &#60;b&#62;");
    expect(line("<https://example.com>")).toEqual([t("<"), a("https://example.com/", "https://example.com"), t(">")]);
  });

  it("never makes HTML: tags are text", () => {
    for (const body of [
      "<script>alert(1)</script>",
      "<b onclick=alert(1)>bold?</b>",
      "<img src=x onerror=alert(1)>",
      '<a href="javascript:alert(1)">x</a>',
      "<!-- comment --> <?php ?> <![CDATA[x]]>",
    ]) {
      literal(body);
    }
    expect(parseBody("<div>\n\n*x*\n\n</div>")).toEqual([p(t("<div>")), p({ kind: "em", children: [t("x")] }), p(t("</div>"))]);
  });

  it("keeps backslashes: they stop formatting, and still show", () => {
    literal("fine ¯\\_(ツ)_/¯");
    literal("\\*not italic\\* in C:\\Users\\_build");
    expect(line("\\\\*italic*")).toEqual([t("\\\\"), { kind: "em", children: [t("italic")] }]);
  });

  it("keeps the body's trailing whitespace, and puts nothing past the limit of nesting out of sight", () => {
    literal("ends with spaces   ");
    expect(line("**bold**\n")).toEqual([{ kind: "strong", children: [t("bold")] }, t("\n")]);
    const deep = ">".repeat(30) + " deep down";
    literal(deep);
    const list = Array.from({ length: 12 }, (_, i) => `${"  ".repeat(i)}- level ${i}`).join("\n");
    expect(plainText(line(list))).toBe(list);
    expect(parseBody("*".repeat(60) + "x" + "*".repeat(60)).flatMap((b) => [...walk([b])]).filter((n) => n.kind === "text")).toEqual([t("x")]);
  });

  it("parses hostile 4,000-character bodies of nested punctuation", () => {
    const fill = (unit: string, tail = "") => unit.repeat(Math.floor((MAX_BODY_LENGTH - tail.length) / unit.length)) + tail;
    const bodies = [
      fill("[", "x"),
      fill("[a](", "x"),
      fill("*_~`[("),
      fill("**_"),
      fill("> ", "x"),
      fill("- ", "x"),
      fill("1. ", "x"),
      fill("`"),
      fill("\\"),
      fill("<a "),
      fill("![", "x"),
      fill("[x](https://e.example/ ", "x"),
      fill("example.com/_*~"),
      fill("~~a"),
      fill("```\n"),
      fill("\n\n"),
      fill("[\u202E](https://e.example/)"),
      fill("* ", "x"),
    ];
    for (const body of bodies) {
      expect(body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
      expectSafe(parseBody(body));
    }
  });

  it("makes only the allowed nodes and safe links, and never throws, whatever the body", () => {
    const piece = fc.constantFrom(
      "*", "**", "_", "__", "~", "~~", "`", "```", "\\", "[", "]", "(", ")", "![", "](", "<", ">", "#", "# ", "-", "- ", "+ ",
      "1. ", "    ", "> ", "|", "=", "&", "&amp;", ":", "/", "\n", "\n\n", " ", "\t", "!", "\"", "'",
      "http://", "https://", "javascript:", "data:", "mailto:", "ftp://", "www.", "example.com", "a@b.co", "evil.com", "%", "%E0",
      "a", "Z", "0", "é", "例", "مرحبا", "😀", "\u202E", "\u2066", "\u200B", "\u200F", "\uFEFF",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 300 }), (pieces) => {
        expectSafe(parseBody(pieces.join("")));
      }),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (body) => expectSafe(parseBody(body))));
  });
});
