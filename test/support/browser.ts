/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser).
 * Screenshots go to test-results/screenshots/ (git-ignored) for people to look at.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

const root = path.resolve(import.meta.dirname, "../..");
export const SCREENSHOTS = path.join(root, "test-results", "screenshots");

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (CI does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Counts calls of one function in the page's scripts; see {@link countCalls}. */
export interface CallCounter {
  /** Calls since the previous `take` (or since the counter started). */
  take(): Promise<number>;
}

/**
 * Counts how often the page calls one function of its (minified) scripts,
 * found as the innermost function whose source contains `marker`, a string
 * only it contains (a class name or text literal survives minification).
 * It uses V8's precise coverage through the Chrome DevTools Protocol: exact
 * call counts, nothing timed. Start it before the function first runs; the
 * first `take` after it ran locates it.
 *
 * @example
 * const renders = await countCalls(page, "delivery hint"); // MessageItem
 * // … do something …
 * expect(await renders.take()).toBe(0);
 */
export async function countCalls(page: Page, marker: string): Promise<CallCounter> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.startPreciseCoverage", { callCount: true, detailed: true });
  // Taking coverage resets the counters: from here on, only new calls count.
  await cdp.send("Profiler.takePreciseCoverage");
  const sources = new Map<string, Promise<string>>();
  let found: { url: string; startOffset: number } | null = null;

  const sourceOf = (url: string) => {
    let source = sources.get(url);
    if (!source) sources.set(url, (source = fetch(url).then((r) => (r.ok ? r.text() : ""))));
    return source;
  };

  return {
    async take() {
      const { result } = await cdp.send("Profiler.takePreciseCoverage");
      if (found) {
        const { url, startOffset } = found;
        const fn = result.find((s) => s.url === url)?.functions.find((f) => f.ranges[0]?.startOffset === startOffset);
        // Not reported: not called since the last take.
        return fn?.ranges[0]?.count ?? 0;
      }
      for (const script of result) {
        if (!script.url.startsWith("http")) continue;
        const at = (await sourceOf(script.url)).indexOf(marker);
        if (at < 0) continue;
        const containing = script.functions
          .flatMap((f) => (f.ranges[0] ? [f.ranges[0]] : []))
          .filter((r) => r.startOffset <= at && at < r.endOffset)
          .sort((a, b) => a.endOffset - a.startOffset - (b.endOffset - b.startOffset));
        const innermost = containing[0];
        // Count 0: the function itself is not reported yet (never ran), this is one around it.
        if (!innermost || innermost.count === 0) continue;
        found = { url: script.url, startOffset: innermost.startOffset };
        return innermost.count;
      }
      throw new Error(`no function containing ${JSON.stringify(marker)} has run in the page yet`);
    },
  };
}

/**
 * Counts the Socket.IO refusals with this `message` (CONNECT_ERROR packets,
 * e.g. "unavailable") that reach the page, over WebSocket or long-polling.
 * Call before the page connects.
 */
export function watchRefusals(page: Page, message: string): { readonly count: number } {
  // Engine.IO "message" (4) carrying a Socket.IO CONNECT_ERROR (4), then its JSON.
  const packet = `44{"message":${JSON.stringify(message)}`;
  const seen = { count: 0 };
  const scan = (payload: string | Buffer) => {
    seen.count += String(payload).split(packet).length - 1;
  };
  page.on("websocket", (ws) => ws.on("framereceived", ({ payload }) => scan(payload)));
  page.on("response", (res) => {
    if (!res.url().includes("/socket.io/") || res.request().method() !== "GET") return;
    res.text().then(scan, () => {});
  });
  return seen;
}
