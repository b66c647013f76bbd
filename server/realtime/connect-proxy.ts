/**
 * The connect proxy (a host application's check of every connection): before a connection to a
 * namespace is accepted, Switchboard POSTs its handshake to the host
 * application, which answers who the user is and what to join, or refuses.
 */
import { z } from "zod";
import { channelName } from "../../shared/gateway";
import type { User } from "../../shared/protocol";
import { displayName, identifier, text } from "../../shared/text";
import type { NamespaceSettings } from "../config";
import { AppError } from "../core/errors";
import type { AnySocket } from "./types";

type ProxySettings = NonNullable<NamespaceSettings["connectProxy"]>;

/** What the host application answers. */
const proxyAnswer = z.union([
  z.object({ reject: z.object({ reason: text().max(500).default("refused") }) }),
  z.object({
    user: z.object({ id: identifier(64), name: displayName().optional() }).optional(),
    groups: z.array(channelName).max(100).default([]),
    channels: z.array(channelName).max(100).default([]),
  }),
]);

export interface ProxyDecision {
  user: User | null;
  groups: string[];
  channels: string[];
}

/**
 * Asks the app about a connection. Throws `forbidden` when it refuses and
 * `unavailable` when it does not answer in time or answers nonsense.
 */
export async function askConnectProxy(
  proxy: ProxySettings,
  namespace: string,
  socket: AnySocket,
  user: User | null,
  /** The client's address (the first proxy's view behind trusted proxies). */
  remoteAddress: string,
): Promise<ProxyDecision> {
  const headers = Object.fromEntries(
    proxy.forwardHeaders.flatMap((h) => {
      const v = socket.handshake.headers[h];
      return v === undefined ? [] : [[h, Array.isArray(v) ? v.join(", ") : v]];
    }),
  );
  let res: Response;
  try {
    res = await fetch(proxy.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        clientId: socket.id,
        namespace,
        auth: socket.handshake.auth,
        headers,
        remoteAddress,
        user: user ? { id: user.id, name: user.displayName } : null,
      }),
      signal: AbortSignal.timeout(proxy.timeoutMs),
    });
  } catch {
    throw new AppError("unavailable", "the application's connect check did not answer");
  }
  if (res.status === 401 || res.status === 403) throw new AppError("forbidden", "the application refused the connection");
  if (!res.ok) throw new AppError("unavailable", `the application's connect check answered ${res.status}`);
  const parsed = proxyAnswer.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new AppError("unavailable", "the application's connect check answered an unexpected body");
  const answer = parsed.data;
  if ("reject" in answer) throw new AppError("forbidden", answer.reject.reason);
  const proxied = answer.user
    ? { id: answer.user.id, username: `${answer.user.id}@host`, displayName: answer.user.name ?? answer.user.id }
    : user;
  return { user: proxied, groups: answer.groups, channels: answer.channels };
}
