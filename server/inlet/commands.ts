/**
 * The commands a backend can append to the queue inlet: every operation of
 * the gateway that is not a GET, under its name, taking the HTTP call's
 * fields in one object (path parameters become fields).
 * `{"op": "sendToUser", "namespace": "/push", "userId": "42", "event": "notice", "data": {...}}`.
 */
import type { z } from "zod";
import { inputSchema, type OperationName, operationList } from "../core/gateway";

export interface QueueCommand {
  /** The operation it runs (its `op`). */
  name: OperationName;
  /** Every field but `op`. */
  schema: z.ZodType;
}

export const queueCommands: Record<string, QueueCommand> = Object.fromEntries(
  operationList()
    .filter(([, op]) => op.http.method !== "get")
    .map(([name, op]) => [name, { name, schema: inputSchema(op) }]),
);
