/**
 * Every scenario, in the order `all` runs them. The one not built yet is
 * listed so that `list` and the docs name it; it slots in as a `Scenario`
 * like the others:
 *
 * - two-instances: fan-out and chat-mix with clients split over two
 *   Switchboard processes sharing Redis; `startTarget` gets an `instances`
 *   option and `Target.connect` spreads connections over the instances'
 *   URLs, so the scenarios themselves stay as they are.
 */
import type { Scenario } from "../lib/scenario";
import { chatMix } from "./chat-mix";
import { fanOut } from "./fan-out";
import { httpPublish } from "./http-publish";
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
  httpPublish,
  notYet(
    "two-instances",
    "fan-out and chat-mix with clients split across two instances sharing Redis",
    "not built yet (scale-out landed while the benchmarks were written; see bench/README.md)",
  ),
];
