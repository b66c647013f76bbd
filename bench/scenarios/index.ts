/**
 * Every scenario, in the order `all` runs them. The two that need features
 * Switchboard does not have yet are listed so that `list` and the docs name
 * them; they slot in as `Scenario`s like the others once the features exist:
 *
 * - http-publish: `POST /api/v1/publish` to single users with keep-alive
 *   (autocannon), next to the relay's equivalent `emit` from an HTTP handler.
 * - two-instances: fan-out and chat-mix with clients split over two
 *   Switchboard processes sharing Redis; `startTarget` gets an `instances`
 *   option and `Target.connect` spreads connections over the instances'
 *   URLs, so the scenarios themselves stay as they are.
 */
import type { Scenario } from "../lib/scenario";
import { chatMix } from "./chat-mix";
import { fanOut } from "./fan-out";
import { idle } from "./idle";

function notYet(name: string, description: string, reason: string): Scenario {
  return {
    name,
    description,
    available: reason,
    options: {},
    runTarget: () => Promise.reject(new Error(`${name} is not available yet: ${reason}`)),
    compare: () => [],
  };
}

export const scenarios: Scenario[] = [
  fanOut,
  chatMix,
  idle,
  notYet(
    "http-publish",
    "requests/s of POST /api/v1/publish to single users, keep-alive",
    "needs the gateway HTTP API (POST /api/v1/publish)",
  ),
  notYet(
    "two-instances",
    "fan-out and chat-mix with clients split across two instances sharing Redis",
    "needs multi-instance scale-out (Redis adapter and presence)",
  ),
];
