/**
 * The web UI's message formatting (app/_lib/format.ts): which text becomes a
 * link, on ordinary and on hostile bodies. Plain unit tests: no server.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { excerpt, highlight, linkify, nameList, roomEventLines, typingText, type Segment } from "../app/_lib/format";
import type { RoomEvent } from "../shared/protocol";
import { MAX_BODY_LENGTH } from "../shared/limits";

const text = (t: string): Segment => ({ kind: "text", text: t });
const link = (t: string, href = t): Segment => ({ kind: "link", text: t, href });
const hrefs = (body: string) => linkify(body).flatMap((s) => (s.kind === "link" ? [s.href] : []));

/** What every result must satisfy, whatever the body. */
function expectWellFormed(body: string, segments: Segment[]): void {
  expect(segments.map((s) => s.text).join("")).toBe(body);
  for (const [i, s] of segments.entries()) {
    expect(s.text).not.toBe("");
    // Text runs are merged: a link always sits between text and/or other links.
    if (s.kind === "text") expect(segments[i + 1]?.kind).not.toBe("text");
    if (s.kind === "link") {
      expect(["http:", "https:", "mailto:"]).toContain(new URL(s.href).protocol);
      expect(s.text).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/);
    }
  }
}

describe("linkify", () => {
  it("leaves text without links as one text segment, and an empty body empty", () => {
    expect(linkify("hello there, how are you?")).toEqual([text("hello there, how are you?")]);
    expect(linkify("")).toEqual([]);
  });

  it("finds http(s) links and leaves trailing punctuation out", () => {
    expect(linkify("docs at https://example.com/guide. and javascript:alert(3)")).toEqual([
      text("docs at "),
      link("https://example.com/guide"),
      text(". and javascript:alert(3)"),
    ]);
    expect(linkify("(see https://en.wikipedia.org/wiki/Foo_(bar)), http://localhost:3000/room!")).toEqual([
      text("(see "),
      link("https://en.wikipedia.org/wiki/Foo_(bar)"),
      text("), "),
      link("http://localhost:3000/room"),
      text("!"),
    ]);
  });

  it("links bare domains over https and email addresses with mailto:", () => {
    expect(linkify("try example.com/docs, or www.example.org")).toEqual([
      text("try "),
      link("example.com/docs", "https://example.com/docs"),
      text(", or "),
      link("www.example.org", "https://www.example.org/"),
    ]);
    expect(linkify("write to ada@example.com")).toEqual([text("write to "), link("ada@example.com", "mailto:ada@example.com")]);
    expect(hrefs("mailto:bob@example.com?subject=hi")).toEqual(["mailto:bob@example.com?subject=hi"]);
  });

  it("shows links as written but opens the URL parser's canonical form", () => {
    expect(linkify("HTTP://EXAMPLE.COM/Path")).toEqual([link("HTTP://EXAMPLE.COM/Path", "http://example.com/Path")]);
    expect(linkify("https://例子.测试/路径")).toEqual([link("https://例子.测试/路径", "https://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84")]);
  });

  it("never links other schemes", () => {
    for (const body of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "file:///etc/passwd",
      "ftp://example.com/file",
      "skype:echo123?call",
    ]) {
      expect(linkify(body)).toEqual([text(body)]);
    }
    // What follows a refused scheme may still be an ordinary link, over https.
    expect(hrefs("javascript://example.com/%0aalert(1)")).toEqual(["https://example.com/%0aalert(1)"]);
  });

  it("does not link text whose display could differ from its destination", () => {
    // Right-to-left override: shows as "https://evil.example/google.com".
    expect(linkify("https://evil.example/\u202Emoc.elgoog")).toEqual([text("https://evil.example/\u202Emoc.elgoog")]);
    expect(linkify("https://exa\u200Bmple.com")).toEqual([text("https://exa\u200Bmple.com")]);
    // An override before a link stays text; the link itself is clean.
    expect(linkify("\u202Ehttps://example.com/x")).toEqual([text("\u202E"), link("https://example.com/x")]);
    expect(linkify("مرحبا https://example.com/ar مرحبا")).toEqual([text("مرحبا "), link("https://example.com/ar"), text(" مرحبا")]);
  });

  it("handles 4,000-character bodies built against the old regexes", () => {
    const dots = "http://" + ".,".repeat((MAX_BODY_LENGTH - 8) / 2) + "a";
    expect(linkify(dots)).toEqual([text(dots)]);
    const parens = "http://" + ")".repeat(MAX_BODY_LENGTH - 8) + "x";
    expect(linkify(parens)).toEqual([text(parens)]);
    const trailing = "https://example.com/a" + ".,".repeat((MAX_BODY_LENGTH - 21) / 2);
    expect(linkify(trailing)).toEqual([link("https://example.com/a"), text(trailing.slice(21))]);
    const word = "w".repeat(MAX_BODY_LENGTH);
    expect(linkify(word)).toEqual([text(word)]);
    const longPath = "https://example.com/" + "a".repeat(MAX_BODY_LENGTH - 20);
    expect(linkify(longPath)).toEqual([link(longPath)]);

    const many = Array.from({ length: 160 }, (_, i) => `https://e.example/p/${i}`).join(" ");
    expect(many.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    expect(hrefs(many)).toEqual(Array.from({ length: 160 }, (_, i) => `https://e.example/p/${i}`));
    for (const body of [dots, parens, trailing, word, longPath, many]) expectWellFormed(body, linkify(body));
  });

  it("keeps every character and links only safely, whatever the body", () => {
    const piece = fc.constantFrom(
      "http://", "https://", "HTTPS://", "javascript:", "mailto:", "ftp://", "file://", "data:", "www.",
      "example.com", "a.b", "@", ".", ",", ":", "/", "(", ")", "[", "]", "?", "#", "!", "'", "\"", "<", ">",
      " ", "\n", "\t", "a", "Z", "0", "-", "_", "%0a", "é", "例", "مرحبا", "😀", "👩‍💻",
      "\u202E", "\u2066", "\u200B", "\u200F", "\uFEFF",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 400 }), (pieces) => {
        const body = pieces.join("");
        expectWellFormed(body, linkify(body));
      }),
      { numRuns: 300 },
    );
  });
});

describe("typingText", () => {
  it("names one or two people, then says several", () => {
    expect(typingText([])).toBe("");
    expect(typingText(["Ada"])).toBe("Ada is typing…");
    expect(typingText(["Ada", "Grace"])).toBe("Ada and Grace are typing…");
    expect(typingText(["Ada", "Grace", "Linus"])).toBe("Several people are typing…");
  });
});

describe("roomEventLines (membership lines in a timeline)", () => {
  const person = (name: string) => ({ id: name.toLowerCase(), displayName: name });
  const event = (kind: RoomEvent["kind"], name: string, by?: string): RoomEvent => ({
    id: name, roomId: "r", kind, user: person(name), ...(by ? { by: person(by) } : {}), at: "2026-12-05T10:00:00.000Z",
  });
  it("says each change in words, one sentence for changes of a kind by the same person", () => {
    const texts = (run: RoomEvent[]) => roomEventLines(run).map((l) => l.text);
    expect(texts([event("created", "Ada"), event("joined", "Bob", "Ada"), event("joined", "Cy", "Ada"), event("joined", "Dee")])).toEqual([
      "Ada created the room",
      "Ada added Bob and Cy",
      "Dee joined",
    ]);
    expect(texts([event("left", "Bob"), event("removed", "Cy"), event("removed", "Dee")])).toEqual(["Bob left", "Cy and Dee were removed"]);
    expect(texts([event("removed", "Cy")])).toEqual(["Cy was removed"]);
    expect(texts([event("removed", "Cy", "Ada"), event("removed", "Dee", "Ada")])).toEqual(["Ada removed Cy and Dee"]);
    expect(texts(["A", "B", "C", "D", "E"].map((n) => event("joined", n)))).toEqual(["A, B and 3 others joined"]);
  });
  it("says each rename and topic on a line of its own, with what it became", () => {
    const texts = (run: RoomEvent[]) => roomEventLines(run).map((l) => l.text);
    const said = (kind: "renamed" | "topic", name: string, value: string): RoomEvent => ({ ...event(kind, name), value });
    expect(texts([said("renamed", "Ada", "ops"), said("renamed", "Ada", "ops-2"), said("topic", "Ada", "on call: Bob"), said("topic", "Bob", "")])).toEqual([
      "Ada renamed the room to #ops",
      "Ada renamed the room to #ops-2",
      "Ada set the topic: on call: Bob",
      "Bob cleared the topic",
    ]);
  });
  it("lists up to three names, then counts", () => {
    expect(nameList(["Ada"])).toBe("Ada");
    expect(nameList(["Ada", "Bob", "Cy"])).toBe("Ada, Bob and Cy");
    expect(nameList(["Ada", "Bob", "Cy", "Dee"])).toBe("Ada, Bob and 2 others");
  });
});

describe("highlight (search results)", () => {
  const marked = (body: string, terms: string[]) => highlight(body, terms).filter((p) => p.match).map((p) => p.text);

  it("marks the beginnings of words the search matched, in any case, and nothing inside words", () => {
    expect(marked("Deployed on Friday; redeploy Monday", ["deplo", "fri"])).toEqual(["Deplo", "Fri"]);
    expect(marked("Привет, мир! привет", ["прив"])).toEqual(["Прив", "прив"]);
    // Terms are text, not patterns.
    expect(marked("bbbc xc a.c", ["b*c", "a.c", "(x"])).toEqual(["a.c"]);
    expect(highlight("no terms", [])).toEqual([{ text: "no terms", match: false }]);
  });

  it("keeps every character: joined, the parts are the body", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }), (body, terms) => {
        expect(highlight(body, terms).map((p) => p.text).join("")).toBe(body);
      }),
    );
  });

  it("cuts a long body around the first match", () => {
    const body = `${"a ".repeat(300)}needle ${"b ".repeat(300)}`;
    const parts = excerpt(highlight(body, ["needle"]), 100);
    const text = parts.map((p) => p.text).join("");
    expect(text.startsWith("…") && text.endsWith("…")).toBe(true);
    expect(text.length).toBeLessThanOrEqual(102);
    expect(parts.filter((p) => p.match).map((p) => p.text)).toEqual(["needle"]);
  });
});
