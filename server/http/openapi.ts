/**
 * The OpenAPI 3.1 document of the HTTP API v1, served at /api/v1/openapi.json,
 * generated from the gateway's table of operations (core/gateway.ts).
 */
import { z } from "zod";
import { errorSchema } from "../../shared/gateway";
import { operationList, pathParams } from "../core/gateway";

const ERROR_RESPONSES = {
  "400": "invalid_payload: the body or a query parameter is invalid",
  "401": "unauthorized: missing or unknown API key",
  "404": "not_found: unknown client, room, user or namespace",
  "413": "too_large: body over 64 KiB, or a string over its limit",
  "429": "rate_limited: too many requests for this key",
};

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const [name, op] of operationList()) {
    const { method, path } = op.http;
    const parameters = [
      ...Object.entries(pathParams(path)).map(([param, s]) => ({ name: param, in: "path", required: true, schema: schema(s) })),
      ...Object.entries(op.query.shape as Record<string, z.ZodType>).map(([param, s]) => ({ name: param, in: "query", required: false, schema: schema(s) })),
    ];
    const success = op.output
      ? { [String(op.http.status ?? 200)]: { description: "success", content: { "application/json": { schema: schema(op.output) } } } }
      : { "204": { description: "success, no content" } };
    paths[path] ??= {};
    paths[path][method] = {
      operationId: name,
      summary: op.summary,
      tags: [op.tag],
      parameters,
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(op.body) } } } } : {}),
      responses: {
        ...success,
        ...Object.fromEntries(
          Object.entries(ERROR_RESPONSES).map(([code, description]) => [
            code,
            { description, content: { "application/json": { schema: schema(errorSchema) } } },
          ]),
        ),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard HTTP API",
      version: "1",
      description: "Push events to connections and manage them from any backend. See docs/api.md.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ apiKey: [] }],
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "an API key from SWITCHBOARD_API_KEYS" } } },
    paths,
  };
}
