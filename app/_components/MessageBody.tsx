"use client";

import { createContext, useContext, useMemo, type ReactNode } from "react";
import type { Message } from "../../shared/protocol";
import { fullTime } from "../_lib/format";
import { ROOM_MENTION, splitMentions } from "../../shared/mentions";
import { parseBody, plainText, type Block, type Inline } from "../_lib/markdown";

/** The reader's username, lower-case: a mention of them (or of everyone) stands out. */
export const ReaderName = createContext("");

/**
 * A message's text with its formatting (app/_lib/markdown.ts), as React
 * elements: every piece of the body reaches the page as a text node or an
 * attribute React escapes, never as HTML.
 *
 * `children` (such as the "(edited)" marker) follow the last line of text.
 */
export function MessageBody({ body, children }: { body: string; children?: ReactNode }) {
  const blocks = useMemo(() => parseBody(body), [body]);
  const endsInText = blocks.at(-1)?.kind === "paragraph";
  return (
    // dir="auto": a right-to-left message reads and aligns right-to-left, whatever the page's direction.
    <div className="body" dir="auto">
      {blocks.map((block, i) => (
        <BlockView key={i} block={block} trailer={endsInText && i === blocks.length - 1 ? children : undefined} />
      ))}
      {!endsInText && children}
    </div>
  );
}

function BlockView({ block, trailer }: { block: Block; trailer?: ReactNode }): ReactNode {
  switch (block.kind) {
    case "paragraph":
      return (
        <p>
          <Inlines nodes={block.children} />
          {trailer}
        </p>
      );
    case "codeblock":
      return (
        <pre data-lang={block.lang}>
          <code>{block.text}</code>
        </pre>
      );
    case "quote":
      return <blockquote>{blocks(block.children)}</blockquote>;
    case "list": {
      const items = block.items.map((item, i) => <li key={i}>{blocks(item)}</li>);
      return block.ordered ? <ol start={block.start}>{items}</ol> : <ul>{items}</ul>;
    }
  }
}

const blocks = (children: Block[]) => children.map((block, i) => <BlockView key={i} block={block} />);

function Inlines({ nodes }: { nodes: Inline[] }): ReactNode {
  return nodes.map((node, i) => <InlineView key={i} node={node} />);
}

function InlineView({ node }: { node: Inline }): ReactNode {
  switch (node.kind) {
    case "text":
      return <MentionText text={node.text} />;
    case "br":
      return <br />;
    case "code":
      return <code>{node.text}</code>;
    case "strong":
      return (
        <strong>
          <Inlines nodes={node.children} />
        </strong>
      );
    case "em":
      return (
        <em>
          <Inlines nodes={node.children} />
        </em>
      );
    case "strike":
      return (
        <s>
          <Inlines nodes={node.children} />
        </s>
      );
    case "link": {
      const text = plainText(node.children);
      return (
        // dir="ltr" isolates the address from direction overrides in the text around it;
        // the title shows where a link goes when its text is not that address.
        <a href={node.href} target="_blank" rel="noopener noreferrer" dir="ltr" title={text === node.href ? undefined : node.href}>
          <Inlines nodes={node.children} />
        </a>
      );
    }
  }
}

/** Text with its `@mentions` marked (code and links are left as they are). */
function MentionText({ text }: { text: string }): ReactNode {
  const me = useContext(ReaderName);
  if (!text.includes("@")) return text;
  return splitMentions(text).map((part, i) =>
    part.mention ? (
      <span key={i} className={`mention ${part.mention === me || part.mention === ROOM_MENTION ? "mention-me" : ""}`}>
        {part.text}
      </span>
    ) : (
      part.text
    ),
  );
}

/** A stored message's text as the room and threads show it: "Message deleted", or its body with "(edited)". */
export function MessageText({ message: m }: { message: Message }) {
  if (m.deletedAt) return <p className="body hint">Message deleted</p>;
  return (
    <MessageBody body={m.body}>
      {m.editedAt && (
        <span className="edited hint" title={`Edited ${fullTime(m.editedAt)}`}>
          {" "}
          (edited)
        </span>
      )}
    </MessageBody>
  );
}
