/**
 * Writes the operation tables of docs/api.md from the gateway's table of
 * operations (server/core/gateway.ts), between marker comments:
 *
 *   <!-- operations: Clients -->   one table per tag: call, operation, answer
 *   <!-- queue commands -->        the queue inlet's commands and their fields
 *   <!-- end -->
 *
 * `npm run docs:api` rewrites them; `npm run docs:api -- --check` only says
 * whether they are current (a test does the same).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { type Operation, operationList, operations, pathParams } from "../server/core/gateway";
import { queueCommands } from "../server/inlet/commands";

const DOC = fileURLToPath(new URL("../docs/api.md", import.meta.url));

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}

const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as JsonSchema;

/** A compact shape: `{clients: [{id, userId, groups}], nextCursor?}`; small objects in lists are spelled out. */
function shape(schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, field]) => {
    const item = field.items;
    const small = item?.type === "object" && Object.keys(item.properties ?? {}).length <= 4;
    return `${name}${required.has(name) ? "" : "?"}${small ? `: [${shape(item)}]` : ""}`;
  });
  return `{${fields.join(", ")}}`;
}

const escape = (text: string) => text.replaceAll("|", "\\|");

function call(op: Operation): string {
  const query = Object.keys(op.query.shape);
  const body = op.body ? ` \`${shape(jsonSchema(op.body))}\`` : "";
  return `\`${op.http.method.toUpperCase()} ${op.http.path}${query.length ? `?${query.join("&")}` : ""}\`${body}`;
}

function answer(op: Operation): string {
  if (!op.output) return "204";
  const status = op.http.status && op.http.status !== 200 ? `${op.http.status} ` : "";
  return `\`${status}${shape(jsonSchema(op.output))}\``;
}

function operationTable(tag: string): string {
  const rows = operationList()
    .filter(([, op]) => op.tag === tag)
    .map(([name, op]) => `| ${escape(call(op))} | \`${name}\` | ${escape(answer(op))} — ${escape(op.summary)} |`);
  if (rows.length === 0) throw new Error(`docs/api.md names tag "${tag}", which no operation has`);
  return ["| call | operation | answer |", "| --- | --- | --- |", ...rows].join("\n");
}

function queueTable(): string {
  const rows = Object.entries(queueCommands).map(([name, command]) => {
    const { http } = operations[command.name];
    // Path parameters first, as the call names them.
    const schema = jsonSchema(command.schema);
    const first = Object.keys(pathParams(http.path));
    const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).sort(([a], [b]) => Number(first.includes(b)) - Number(first.includes(a))));
    const fields = shape({ ...schema, properties }).slice(1, -1);
    return `| \`${name}\` | ${escape(fields)} | \`${http.method.toUpperCase()} ${http.path}\` |`;
  });
  return ["| op | fields | the same as |", "| --- | --- | --- |", ...rows].join("\n");
}

/** The document with every marked table rewritten. */
export function renderApiDocs(markdown: string): string {
  return markdown.replace(/(<!-- (operations: (\w+)|queue commands) -->\n)(?:(?!<!--)[\s\S])*?(\n<!-- end -->)/g, (_, open: string, what: string, tag: string | undefined, close: string) =>
    `${open}${what === "queue commands" ? queueTable() : operationTable(tag!)}${close}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  const current = readFileSync(DOC, "utf8");
  const rendered = renderApiDocs(current);
  if (values.check) {
    if (rendered !== current) {
      console.error("docs/api.md: the operation tables are out of date; run `npm run docs:api`");
      process.exit(1);
    }
  } else if (rendered !== current) {
    writeFileSync(DOC, rendered);
    console.log("docs/api.md: operation tables rewritten");
  }
}
