/**
 * Every scenario, in the order `all` runs them, and the suites that run
 * some of them again in another shape:
 *
 * - two-instances: fan-out and chat-mix with users spread over two server
 *   processes sharing a private Redis (and, for Switchboard, one PostgreSQL
 *   database): the same scenario code, a target with `instances: 2`.
 */
import type { Scenario } from "../lib/scenario";
import { chatMix } from "./chat-mix";
import { fanOut } from "./fan-out";
import { httpPublish } from "./http-publish";
import { idle } from "./idle";
import { search } from "./search";
import { uploads } from "./uploads";

export const scenarios: Scenario[] = [fanOut, chatMix, idle, httpPublish, search, uploads];

export interface Suite {
  name: string;
  description: string;
  scenarios: Scenario[];
  instances: number;
}

export const suites: Suite[] = [
  {
    name: "two-instances",
    description: "fan-out and chat-mix with users split across two instances sharing Redis (Switchboard on PostgreSQL)",
    scenarios: [fanOut, chatMix],
    instances: 2,
  },
];
