/**
 * The web UI in a real browser (Debian's Chromium through playwright-core)
 * against the production build served by the real server process.
 * Needs `npm run build` first (`npm test` does it).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_LENGTH } from "../shared/limits";
import type { Room } from "../shared/protocol";
import { countCalls, launchBrowser, screenshot, watchRefusals } from "./support/browser";
import { api, call, closeAll, connect, next, register, request, uniqueName, type ChatSocket } from "./support/clients";
import { createTestDatabase, postgresAvailable } from "./support/postgres";
import { startServerProcess, type ServerProcess } from "./support/process";
import { TcpProxy } from "./support/tcp-proxy";

const PASSWORD = "correct horse battery";
const pgReady = await postgresAvailable();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Like `call`, but waits out the connection's rate limit (20 events/s, bursts of 40) instead of failing. */
async function callPaced<T extends object>(socket: ChatSocket, event: string, payload: unknown): Promise<T> {
  for (;;) {
    const res = await request<T>(socket, event, payload);
    if (res.ok) return res as T;
    if (res.error.code !== "rate_limited") throw new Error(`${event} failed: ${res.error.code} ${res.error.message}`);
    await sleep((res.error.retryAfter ?? 0.2) * 1000);
  }
}

/**
 * Message bodies of up to 4,000 characters built against a link finder:
 * the shapes that made the old regexes backtrack quadratically, many links,
 * bidi overrides and isolates, very long words, other schemes and HTML. Each
 * comes with the hrefs it must show, in order.
 */
function hostileMessages(count: number): { body: string; links: string[] }[] {
  const fill = (head: string, unit: string, tail = "") =>
    head + unit.repeat(Math.floor((MAX_BODY_LENGTH - head.length - tail.length) / unit.length)) + tail;
  const kinds: ((i: number) => { body: string; links: string[] })[] = [
    // The old TRAILING regex tried every start in a run of punctuation that ends in a letter.
    (i) => ({ body: fill(`#${i} http://`, ".,", "a"), links: [] }),
    (i) => ({ body: fill(`#${i} http://`, ")", "x"), links: [] }),
    (i) => ({ body: fill(`#${i} see https://example.com/t/${i}`, ".,;:!?)]}"), links: [`https://example.com/t/${i}`] }),
    (i) => {
      const links: string[] = [];
      let body = `#${i}`;
      while (body.length + 30 < MAX_BODY_LENGTH) {
        const url = `https://e.example/${i}/${links.length}`;
        links.push(url);
        body += ` ${url}`;
      }
      return { body, links };
    },
    // An override before a link leaves the link readable; one inside it makes it no link at all.
    (i) => ({
      body: fill(
        `#${i} \u202E https://example.com/rlo/${i} \u2067مرحبا\u2069 https://example.com/ar/${i} שלום https://evil.example/\u202Emoc.elgoog `,
        "\u200Fשלום \u202Bعربي\u202C ",
      ),
      links: [`https://example.com/rlo/${i}`, `https://example.com/ar/${i}`],
    }),
    (i) => ({ body: fill(`#${i} `, "w"), links: [] }),
    (i) => {
      const body = fill(`#${i} https://example.com/long/`, "a");
      return { body, links: [body.slice(body.indexOf("https://"))] };
    },
    (i) => ({
      body: fill(
        `#${i} javascript:alert(${i}) data:text/html,<b>x</b> vbscript:x file:///etc/passwd ftp://example.com/f <script>alert(1)</script> <img src=x onerror=alert(1)> `,
        "javascript:void(0)// ",
      ),
      links: [],
    }),
    (i) => ({
      body: fill(`#${i} mail ada@example.com or visit example.org/x${i} `, "a@"),
      links: ["mailto:ada@example.com", `https://example.org/x${i}`],
    }),
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!(i));
}

// Real processes and a real browser on a shared 2-core machine: restarts and reconnect
// backoff (up to 10 s) need more than the default 30 s when every suite runs at once.
describe("web UI in Chromium", { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /**
   * A second server with tight limits, for the tests about them: 4 events a
   * second per connection, and a username locked after 2 wrong passwords.
   * One start for both, in the background meanwhile, on PostgreSQL when
   * there is one (quicker than creating a second embedded database).
   */
  let strictServer: Promise<ServerProcess> | undefined;
  let dropStrictDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!existsSync(path.resolve(import.meta.dirname, "../.next/BUILD_ID"))) {
      throw new Error("no production build: run `npm run build` first (`npm test` does)");
    }
    [server, browser] = await Promise.all([startServerProcess(), launchBrowser()]);
    strictServer = (async () => {
      const db = (await postgresAvailable()) ? await createTestDatabase() : null;
      dropStrictDatabase = db?.drop;
      return startServerProcess({ ...(db ? { DATABASE_URL: db.url } : {}), SWITCHBOARD_RATE_LIMIT: "4", SWITCHBOARD_LOGIN_FAILURE_LIMIT: "2" });
    })();
    // Awaited by the tests that use it, which then see its failure.
    strictServer.catch(() => {});
  });
  afterAll(async () => {
    closeAll();
    await browser?.close();
    await Promise.all([server?.destroy(), strictServer?.then((s) => s.destroy(), () => {})]);
    await dropStrictDatabase?.();
  });

  /** A fresh browser profile (cookies are per context), optionally without WebSocket. */
  async function newPage(
    options: { noWebSocket?: boolean; width?: number; dark?: boolean; baseURL?: string } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      baseURL: options.baseURL ?? server.url,
      viewport: { width: options.width ?? 1280, height: 800 },
      colorScheme: options.dark ? "dark" : "light",
    });
    contexts.push(context);
    if (options.noWebSocket) {
      await context.addInitScript(() => {
        // As on a network or browser without WebSocket: Socket.IO must stay on long-polling.
        delete (window as { WebSocket?: unknown }).WebSocket;
      });
    }
    const page = await context.newPage();
    page.on("dialog", (d) => {
      throw new Error(`unexpected dialog: ${d.message()}`);
    });
    return page;
  }

  async function signUp(page: Page, username = uniqueName("web")): Promise<string> {
    await page.goto("/signup");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("button", { name: "New room" }).waitFor();
    return username;
  }

  async function signIn(page: Page, username: string): Promise<void> {
    await page.goto("/login");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "New room" }).waitFor();
  }

  async function createRoom(page: Page, name: string, opts: { invite?: string[]; private?: boolean } = {}) {
    await page.getByRole("button", { name: "New room" }).click();
    const dialog = page.getByRole("dialog", { name: "New room" });
    await dialog.getByLabel("Name", { exact: true }).fill(name);
    if (opts.private) await dialog.getByLabel(/Private/).check();
    for (const username of opts.invite ?? []) {
      await dialog.getByLabel("Find people").fill(username);
      const row = dialog.getByRole("list", { name: "People" }).getByRole("listitem").filter({ hasText: `@${username}` });
      await row.getByRole("button", { name: "Add" }).click();
      await row.getByText("Invited").waitFor();
    }
    if (opts.invite) await screenshot(page, "new-room-dialog");
    await dialog.getByRole("button", { name: "Create room" }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
  }

  const log = (page: Page) => page.getByRole("log", { name: "Messages" });

  async function send(page: Page, text: string) {
    await page.getByLabel("Message", { exact: true }).fill(text);
    await page.getByLabel("Message", { exact: true }).press("Enter");
  }

  /** Opens the top bar's account menu and picks an item. */
  async function accountMenu(page: Page, item: string) {
    await page.getByRole("button", { name: /account menu/ }).click();
    await page.getByRole("menu", { name: "Account" }).getByRole("menuitem", { name: item, exact: true }).click();
  }

  /** The sign-in page's notice of why the session ended. */
  function sessionNotice(page: Page, text: string) {
    return page.getByRole("status").filter({ hasText: text }).waitFor();
  }

  /** Waits until the message is shown as stored (not pending). */
  async function seeMessage(page: Page, text: string) {
    await log(page).locator("li.message.stored .body", { hasText: text }).first().waitFor();
  }

  async function openRoom(page: Page, name: string) {
    await page.getByRole("navigation").getByRole("button", { name }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
  }

  it("shows clear errors on the sign-in and sign-up forms", async () => {
    const page = await newPage();
    const taken = await signUp(page);
    await accountMenu(page, "Sign out");
    await page.getByRole("button", { name: "Sign in" }).waitFor();

    await page.getByLabel("Username").fill(taken);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong username or password" }).waitFor();
    await screenshot(page, "sign-in-error");

    await page.goto("/signup");
    await page.getByLabel("Username").fill(taken);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("alert").filter({ hasText: "taken" }).waitFor();

    // Server unreachable: the request fails at the network level.
    await page.route("**/api/auth/register", (route) => route.abort("connectionrefused"));
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("alert").filter({ hasText: "reach the server" }).waitFor();
    await screenshot(page, "sign-up-unreachable");
  });

  it("changes the password from the account menu: the other browser is signed out and told why, this one stays", async () => {
    const { user } = await register(server.url);
    const [here, there] = await Promise.all([newPage(), newPage()]);
    await Promise.all([signIn(here, user.username), signIn(there, user.username)]);

    await accountMenu(here, "Change password…");
    const dialog = here.getByRole("dialog", { name: "Change password" });
    const submit = dialog.getByRole("button", { name: "Change password" });
    const newPassword = "a brand new passphrase";
    // Mistakes show under their fields: too short, not matching, not the current password.
    await dialog.getByLabel("Current password").fill("not my password");
    await dialog.getByLabel("New password", { exact: true }).fill("short");
    await submit.click();
    await dialog.getByText("Use at least 8 characters.").waitFor();
    await dialog.getByLabel("New password", { exact: true }).fill(newPassword);
    await dialog.getByLabel("Confirm new password").fill(`${newPassword}!`);
    await submit.click();
    await dialog.getByText("This does not match the new password.").waitFor();
    await dialog.getByLabel("Confirm new password").fill(newPassword);
    await submit.click();
    await dialog.getByText("That is not your current password.").waitFor();
    await screenshot(here, "change-password-error");

    await dialog.getByLabel("Current password").fill(PASSWORD);
    await submit.click();
    await dialog.getByRole("status").getByText(/Password changed\. Every other device and browser .* has been signed out/).waitFor();
    await screenshot(here, "change-password-done");

    // The other browser lands on sign-in, which says why; the new password signs it in.
    await sessionNotice(there, "Your password was changed on another device.");
    await screenshot(there, "signed-out-password-changed");
    await there.getByLabel("Username").fill(user.username);
    await there.getByLabel("Password").fill(newPassword);
    await there.getByRole("button", { name: "Sign in" }).click();
    await there.getByRole("button", { name: "New room" }).waitFor();

    // This browser is still signed in: after a reload it opens the chat, not sign-in.
    await dialog.getByRole("button", { name: "Done" }).click();
    await here.reload();
    await here.getByRole("button", { name: "New room" }).waitFor();
  });

  it("signs out everywhere from the account menu: every browser of the account goes to sign-in", async () => {
    const { user } = await register(server.url);
    const [here, there] = await Promise.all([newPage(), newPage()]);
    await Promise.all([signIn(here, user.username), signIn(there, user.username)]);

    await accountMenu(here, "Sign out everywhere…");
    await here.getByRole("dialog", { name: "Sign out everywhere?" }).getByRole("button", { name: "Sign out everywhere" }).click();
    await sessionNotice(here, "You signed out on every device.");
    await sessionNotice(there, "You were signed out in another tab or on another device.");
    // Signed out for real: the chat sends it back to sign-in.
    await there.goto("/");
    await there.waitForURL(/\/login$/);
  });

  it("lets two users chat in a new room, with typing shown", async () => {
    const alice = await newPage();
    const bob = await newPage();
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Project Apollo", { invite: [bobName] });
    await bob.getByRole("navigation").getByRole("button", { name: "Project Apollo" }).waitFor();
    await openRoom(bob, "Project Apollo");

    await bob.getByLabel("Message", { exact: true }).pressSequentially("hel");
    await alice.getByText(/is typing…/).waitFor();

    await send(alice, "Hello Bob!");
    await seeMessage(bob, "Hello Bob!");
    await send(bob, "Hi Alice,\nhow are you?");
    await seeMessage(alice, "how are you?");
    // Shift+Enter made a new line inside one message.
    const body = await log(alice).locator(".body", { hasText: "Hi Alice," }).innerText();
    expect(body).toBe("Hi Alice,\nhow are you?");
    // Both see each other online in the members panel.
    await alice.getByRole("list", { name: "Online members" }).getByText(bobName).waitFor();
    await screenshot(alice, "chat-two-users");
  });

  it("edits (Up in an empty composer, or the message's Edit) and deletes a message, and the other person sees both live", async () => {
    const alice = await newPage();
    const bob = await newPage();
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Typos", { invite: [bobName] });
    await bob.getByRole("navigation").getByRole("button", { name: "Typos" }).waitFor();
    await openRoom(bob, "Typos");
    await send(alice, "helo everyone");
    await seeMessage(bob, "helo everyone");

    // Up-arrow in the empty composer opens my last message for editing; Enter saves.
    const composer = alice.getByLabel("Message", { exact: true });
    await composer.press("ArrowUp");
    const editor = alice.getByLabel("Edit message");
    await editor.fill("hello everyone");
    await editor.press("Enter");
    await log(bob).locator(".message", { hasText: "hello everyone" }).getByText("(edited)").waitFor();
    await expect.poll(() => log(bob).getByText("helo everyone").count()).toBe(0);
    await expect.poll(() => composer.evaluate((el) => el === document.activeElement)).toBe(true);

    // Escape cancels an edit started from the message's own actions.
    await send(alice, "delete me");
    await seeMessage(bob, "delete me");
    const mine = log(alice).locator(".message", { hasText: "delete me" });
    await mine.hover();
    await mine.getByRole("button", { name: "Edit" }).click();
    await alice.getByLabel("Edit message").press("Escape");
    await expect.poll(() => alice.getByLabel("Edit message").count()).toBe(0);

    // Bob has read it: Alice sees it under her newest message.
    await log(alice).getByText("Seen by 1").waitFor();
    // Bob may not edit or delete Alice's message: no actions on it.
    const hers = log(bob).locator(".message", { hasText: "delete me" });
    await hers.hover();
    await hers.getByRole("button", { name: "Add reaction" }).waitFor();
    expect(await hers.getByRole("button", { name: /^(Edit|Delete)$/ }).count()).toBe(0);

    await mine.hover();
    await mine.getByRole("button", { name: "Delete" }).click();
    const confirm = alice.getByRole("dialog", { name: "Delete message?" });
    await confirm.getByRole("button", { name: "Delete" }).click();
    await log(bob).getByText("Message deleted").waitFor();
    await log(alice).getByText("Message deleted").waitFor();
    await expect.poll(() => log(bob).getByText("delete me").count()).toBe(0);
    await screenshot(bob, "edit-and-delete");
  });

  it("reacts with emoji from the picker (search, recent), toggles reactions, and the other person (long-polling) sees each live", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(alice, "Lunch", { invite: [bobName] });
    await bob.getByRole("navigation").getByRole("button", { name: "Lunch" }).waitFor();
    await openRoom(bob, "Lunch");
    await send(alice, "Pizza at noon?");
    await seeMessage(bob, "Pizza at noon?");

    // Bob picks 🍕 by searching the picker; Enter takes the first match.
    const atBob = log(bob).locator(".message", { hasText: "Pizza at noon?" });
    await atBob.hover();
    await atBob.getByRole("group", { name: "Message actions" }).getByRole("button", { name: "Add reaction" }).click();
    const picker = bob.getByRole("dialog", { name: "Add a reaction" });
    await picker.getByRole("group", { name: "Smileys & people" }).waitFor();
    await screenshot(bob, "emoji-picker");
    await picker.getByLabel("Search emoji").fill("pizza");
    await picker.getByRole("group", { name: "Search results" }).getByRole("button", { name: "Pizza" }).waitFor();
    await picker.getByLabel("Search emoji").press("Enter");
    await expect.poll(() => picker.count()).toBe(0);

    const atAlice = log(alice).locator(".message", { hasText: "Pizza at noon?" });
    const pizza = (where: typeof atAlice) => where.getByRole("group", { name: "Reactions" }).getByRole("button", { name: /^🍕/ });
    await expect.poll(() => pizza(atAlice).getAttribute("aria-label")).toBe(`🍕 1: ${bobName} reacted with 🍕`);
    expect(await pizza(atAlice).getAttribute("aria-pressed")).toBe("false");
    expect(await pizza(atBob).getAttribute("aria-pressed")).toBe("true");

    // Alice adds hers by clicking Bob's; Bob sees both names.
    await pizza(atAlice).click();
    await expect.poll(() => pizza(atBob).getAttribute("aria-label")).toBe(`🍕 2: You, ${aliceName} reacted with 🍕`);
    await expect.poll(() => pizza(atAlice).getAttribute("aria-pressed")).toBe("true");
    await screenshot(alice, "reactions");

    // Bob takes his back; Alice's stays.
    await pizza(atBob).click();
    await expect.poll(() => pizza(atAlice).getAttribute("aria-label")).toBe(`🍕 1: You reacted with 🍕`);

    // The picker remembers: 🍕 is first among Bob's recent emoji, and picking it from there adds it.
    await atBob.hover();
    await atBob.getByRole("group", { name: "Reactions" }).getByRole("button", { name: "Add reaction" }).click();
    const recent = bob.getByRole("dialog", { name: "Add a reaction" }).getByRole("group", { name: "Recent" }).getByRole("button");
    expect(await recent.first().innerText()).toBe("🍕");
    await recent.nth(1).click();
    await expect.poll(() => atAlice.getByRole("group", { name: "Reactions" }).getByRole("button", { name: /^(?!Add)/ }).count()).toBe(2);

    // After a reload, the reactions come from history.
    await alice.reload();
    await expect.poll(() => pizza(log(alice).locator(".message", { hasText: "Pizza at noon?" })).getAttribute("aria-pressed")).toBe("true");
  });

  it("marks where unread messages begin, searches, opens a result in place, reads forward to the present, and opens a link to a message", async () => {
    const alice = await newPage();
    const aliceName = await signUp(alice);
    const bob = await register(server.url, undefined, "Bob Archivist");
    const socket = await connect(server.url, bob.token);
    const { users } = await call<{ users: { id: string }[] }>(socket, "user:search", { query: aliceName });
    const { room } = await callPaced<{ room: Room }>(socket, "room:create", { name: "Archive", memberIds: [users[0]!.id] });
    const ids: string[] = [];
    for (let i = 0; i < 90; i++) {
      const body = i === 5 ? "the needle in the haystack" : `filler ${i}`;
      ids.push((await callPaced<{ message: { id: string } }>(socket, "message:send", { roomId: room.id, body })).message.id);
    }

    // All 90 are unread: the divider is above the newest page's view, and the jump brings it in.
    await openRoom(alice, "Archive");
    await log(alice).getByText("filler 89").waitFor();
    const jumpUnread = alice.getByRole("button", { name: "↑ Jump to first unread" });
    // Only the newest page is loaded: the divider is not shown at its top, where it would be wrong.
    expect(await log(alice).getByRole("separator", { name: "New messages" }).count()).toBe(0);
    await jumpUnread.click();
    const divider = log(alice).getByRole("separator", { name: "New messages" });
    await divider.waitFor();
    expect(await log(alice).locator(".unread-divider + li.message").innerText()).toContain("filler 0");
    const inView = () =>
      divider.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const view = el.closest('[role="log"]')!.getBoundingClientRect();
        // (A pixel of slack: scrolling lands on whole pixels, the lines above may end between two.)
        return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
      });
    await expect.poll(inView).toBe(true);
    await expect.poll(() => jumpUnread.count()).toBe(0);

    // Search by the beginning of a word; the result shows it marked and opens the room there.
    await alice.getByRole("button", { name: "Search messages" }).click();
    const search = alice.getByRole("dialog", { name: "Search messages" });
    await search.getByLabel("Search words").fill("NEEDL hay");
    const hit = search.getByRole("list", { name: "Search results" }).getByRole("button");
    await hit.filter({ hasText: "the needle in the haystack" }).waitFor();
    expect(await hit.locator("mark").allInnerTexts()).toEqual(["needl", "hay"]);
    expect(await hit.innerText()).toContain("Bob Archivist in #Archive");
    // Filtered by who wrote it: not Alice; Bob (whose name she has seen) again.
    await search.getByLabel("From").selectOption({ label: "Me" });
    await search.getByText("No messages match.").waitFor();
    await search.getByLabel("From").selectOption({ label: "Bob Archivist" });
    await hit.filter({ hasText: "the needle in the haystack" }).waitFor();
    await screenshot(alice, "search");
    await hit.click();
    await expect.poll(() => search.count()).toBe(0);
    const focused = log(alice).locator(".message.focused");
    await expect.poll(() => focused.innerText()).toContain("the needle in the haystack");
    expect(alice.url()).toContain(`message=${ids[5]}`);

    // In the past, live messages wait; "Jump to present" brings the newest, the live one included.
    await callPaced(socket, "message:send", { roomId: room.id, body: "live while Alice reads the past" });
    const present = alice.getByRole("button", { name: "Jump to present ↓" });
    await present.click();
    await log(alice).getByText("live while Alice reads the past").waitFor();
    await expect.poll(() => present.count()).toBe(0);

    // A link to a message opens the room at it, in a new tab.
    const tab = await alice.context().newPage();
    await tab.goto(`/#room=${encodeURIComponent(room.id)}&message=${ids[5]}`);
    await expect.poll(() => log(tab).locator(".message.focused").innerText()).toContain("the needle in the haystack");
    // Reading forward by scrolling down reaches the present.
    await expect
      .poll(async () => {
        await log(tab).evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        return log(tab).getByText("live while Alice reads the past").count();
      })
      .toBe(1);
    expect(await log(tab).locator("li.message .body").count()).toBe(91);
    await screenshot(tab, "opened-at-message");
  });

  it("suggests people to mention, counts and marks mentions, and notifies a hidden tab as the room's level says", async () => {
    const alice = await newPage();
    // The page cannot be hidden, nor an OS notification seen, from a test: record what the page asks of both.
    await alice.addInitScript(() => {
      const w = window as unknown as { __hidden: boolean; __notes: Array<{ title: string; body: string; click(): void }> };
      w.__hidden = false;
      w.__notes = [];
      Object.defineProperty(document, "visibilityState", { get: () => (w.__hidden ? "hidden" : "visible") });
      class Recorded {
        static permission: NotificationPermission = "default";
        static requestPermission = async () => (Recorded.permission = "granted");
        onclick: (() => void) | null = null;
        constructor(title: string, options: { body: string }) {
          w.__notes.push({ title, body: options.body, click: () => this.onclick?.() });
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = Recorded;
    });
    const bob = await newPage();
    const aliceName = await signUp(alice);
    const bobName = await signUp(bob);
    await createRoom(bob, "Standup", { invite: [aliceName] });
    await createRoom(alice, "Elsewhere");
    await alice.getByRole("navigation").getByRole("button", { name: /Standup/ }).waitFor();

    // Asked from a button, not on load.
    await alice.getByRole("button", { name: "Turn on notifications" }).click();
    await expect.poll(() => alice.getByRole("button", { name: "Turn on notifications" }).count()).toBe(0);
    await alice.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));

    const composer = bob.getByLabel("Message", { exact: true });
    await composer.pressSequentially(`Hey @${aliceName.slice(0, 5)}`);
    const suggestions = bob.getByRole("listbox", { name: "Mention someone" });
    await suggestions.getByRole("option", { name: new RegExp(aliceName) }).waitFor();
    await screenshot(bob, "mention-suggestions");
    await composer.press("Enter");
    await expect.poll(() => composer.inputValue()).toBe(`Hey @${aliceName} `);
    await composer.pressSequentially("standup in 5");
    await composer.press("Enter");
    await seeMessage(bob, "standup in 5");

    const standup = alice.getByRole("navigation").getByRole("button", { name: /Standup/ });
    await standup.getByLabel("1 mention").waitFor();
    const notes = () => alice.evaluate(() => (window as unknown as { __notes: Array<{ title: string; body: string }> }).__notes.map((n) => `${n.title}: ${n.body}`));
    await expect.poll(notes).toEqual([`${bobName} in #Standup: Hey @${aliceName} standup in 5`]);

    // The notice opens the room at the message, the mention marked.
    await alice.evaluate(() => (window as unknown as { __notes: Array<{ click(): void }> }).__notes[0]!.click());
    await alice.getByRole("heading", { level: 1, name: "Standup" }).waitFor();
    await log(alice).locator(".message.mentions-me .mention-me", { hasText: `@${aliceName}` }).waitFor();
    await screenshot(alice, "mention");

    // Back in the tab, the room is read. Muted: counted, not notified.
    await alice.evaluate(() => {
      (window as unknown as { __hidden: boolean }).__hidden = false;
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await expect.poll(() => standup.locator(".badge").count()).toBe(0);
    await alice.getByLabel("Notifications").selectOption("none");
    await openRoom(alice, "Elsewhere");
    await alice.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));
    await send(bob, `@${aliceName} one more thing`);
    await standup.getByLabel("1 mention").waitFor();
    await send(bob, "and that is all");
    await standup.getByLabel("2 unread").waitFor();
    expect(await notes()).toHaveLength(1);
  });

  it("replies in a thread beside the room, also to the room on request, and the other person (long-polling) follows it live", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Planning", { invite: [bobName] });
    await bob.getByRole("navigation").getByRole("button", { name: "Planning" }).waitFor();
    await openRoom(bob, "Planning");
    await send(alice, "Offsite in March?");
    await seeMessage(bob, "Offsite in March?");

    const atBob = log(bob).locator(".message", { hasText: "Offsite in March?" });
    await atBob.hover();
    await atBob.getByRole("button", { name: "Reply", exact: true }).click();
    const thread = bob.getByRole("complementary", { name: "Thread" });
    await thread.getByText("No replies yet").waitFor();
    await thread.getByLabel("Reply", { exact: true }).fill("March works for me");
    await thread.getByLabel("Reply", { exact: true }).press("Enter");
    await thread.getByRole("list", { name: "Replies" }).getByText("March works for me").waitFor();

    // Alice sees the count under her message, opens the thread, and answers also to the room.
    const atAlice = log(alice).locator(".message", { hasText: "Offsite in March?" });
    await atAlice.getByRole("button", { name: /^1 reply/ }).click();
    const aliceThread = alice.getByRole("complementary", { name: "Thread" });
    await aliceThread.getByRole("list", { name: "Replies" }).getByText("March works for me").waitFor();
    await aliceThread.getByLabel("Also send to #Planning").check();
    await aliceThread.getByLabel("Reply", { exact: true }).fill("Booked: March 12");
    await aliceThread.getByRole("button", { name: "Reply", exact: true }).click();
    await screenshot(alice, "thread");

    await thread.getByRole("list", { name: "Replies" }).getByText("Booked: March 12").waitFor();
    await log(bob).locator(".message", { hasText: "Booked: March 12" }).getByRole("button", { name: "Replied in a thread" }).waitFor();
    await atBob.getByRole("button", { name: /^2 replies/ }).waitFor();
    // The thread-only reply is not in the room's timeline.
    expect(await log(bob).getByText("March works for me").count()).toBe(0);
    await thread.getByRole("button", { name: "Close thread" }).click();
    await expect.poll(() => thread.count()).toBe(0);

    // A reply while Bob's thread is closed: his Threads list counts it until he opens the thread there.
    await aliceThread.getByLabel("Reply", { exact: true }).fill("Bring the slides");
    await aliceThread.getByLabel("Reply", { exact: true }).press("Enter");
    const threads = bob.getByRole("navigation").getByRole("button", { name: /^Threads/ });
    await threads.getByLabel("1 thread with unread replies").waitFor();
    await threads.click();
    const list = bob.getByRole("dialog", { name: "Threads" });
    const item = list.getByRole("button", { name: /Offsite in March\?/ });
    await item.getByLabel("1 unread reply").waitFor();
    await expect.poll(() => item.textContent()).toContain("3 replies · last by");
    await screenshot(bob, "threads-list");
    await item.click();
    await thread.getByRole("list", { name: "Replies" }).getByText("Bring the slides").waitFor();
    await expect.poll(() => threads.getByLabel(/unread replies/).count()).toBe(0);
  });

  it("opens a direct message from the people picker, shows Seen once the other person (long-polling) has read it, and hides it until a new message", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(bob, "Desk"); // Bob is busy elsewhere when Alice writes
    await alice.getByRole("button", { name: "New message", exact: true }).click();
    const dialog = alice.getByRole("dialog", { name: "New message" });
    await dialog.getByLabel("Find people").fill(bobName);
    await dialog.getByRole("listitem").filter({ hasText: bobName }).getByRole("button", { name: "Message" }).click();
    await alice.getByRole("heading", { level: 1, name: bobName }).waitFor();
    await send(alice, "are you there?");
    await seeMessage(alice, "are you there?");

    // Bob gets the conversation, unread; until he opens it, Alice's message is not seen.
    const atBob = bob.getByRole("navigation").getByRole("button", { name: aliceName });
    await atBob.getByLabel("1 unread").waitFor();
    expect(await log(alice).getByText("Seen", { exact: true }).count()).toBe(0);
    await atBob.click();
    await seeMessage(bob, "are you there?");
    await log(alice).getByText("Seen", { exact: true }).waitFor();
    await send(bob, "yes, here");
    await seeMessage(alice, "yes, here");
    await screenshot(alice, "dm-seen");

    // Alice hides the conversation; Bob's next message brings it back to her list, unread.
    await alice.getByRole("button", { name: "Hide", exact: true }).click();
    const atAlice = alice.getByRole("navigation").getByRole("button", { name: bobName });
    await expect.poll(() => atAlice.count()).toBe(0);
    await send(bob, "one more thing");
    await atAlice.getByLabel("1 unread").waitFor();
  });

  it("lets the owner rename a room, set its topic, name an admin, remove and ban people, and the other person (long-polling) sees each live", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Ops", { invite: [bobName] });
    await openRoom(bob, "Ops");
    await bob.getByRole("complementary", { name: "Members" }).getByRole("listitem").nth(1).waitFor();
    expect(await bob.getByRole("button", { name: "Settings" }).count()).toBe(0); // a member has none

    await alice.getByRole("button", { name: "Settings" }).click();
    const settings = alice.getByRole("dialog", { name: "Room settings" });
    await settings.getByLabel("Name").fill("Operations");
    await settings.getByLabel("Topic").fill("Deploys and incidents");
    await settings.getByRole("button", { name: "Save" }).click();
    await bob.getByRole("navigation").getByRole("button", { name: "Operations" }).waitFor();
    await bob.getByRole("heading", { level: 1, name: /Operations/ }).locator(".room-topic", { hasText: "Deploys and incidents" }).waitFor();

    // Alice makes Bob an admin: everyone's list says so, and Bob may change the room.
    const bobAtAlice = alice.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: bobName });
    await bobAtAlice.hover();
    await bobAtAlice.getByRole("button", { name: "Make admin" }).click();
    await bob.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: bobName }).getByText("· admin").waitFor();
    await screenshot(alice, "room-settings");
    await bob.getByRole("button", { name: "Settings" }).click();
    const bobSettings = bob.getByRole("dialog", { name: "Room settings" });
    await bobSettings.getByLabel("Topic").fill("");
    await bobSettings.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => alice.locator(".room-header .room-topic").count()).toBe(0);

    // The owner removes Bob (asked first): the room leaves his sidebar, and Alice's timeline says so.
    await bobAtAlice.hover();
    await bobAtAlice.getByRole("button", { name: "Remove", exact: true }).click();
    const removal = alice.getByRole("dialog", { name: /^Remove .* from #Operations\?$/ });
    await removal.getByLabel(/Also ban them/).check();
    await removal.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => bob.getByRole("navigation").getByRole("button", { name: "Operations" }).count()).toBe(0);
    await log(alice).locator(".room-event", { hasText: `removed ${bobName}` }).waitFor();
    // Banned: Settings lists him, and Unban lifts it.
    await alice.getByRole("button", { name: "Settings" }).click();
    const banned = alice.getByRole("dialog", { name: "Room settings" }).getByRole("list", { name: "Banned people" });
    await banned.getByText(bobName).first().waitFor();
    await banned.getByRole("button", { name: "Unban" }).click();
    await expect.poll(() => banned.count()).toBe(0);
  });

  it("lets the owner pin messages, rename the room and mute someone, and the other person (long-polling) sees the pin, the line and their composer turn read-only live", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(alice, "Crew", { invite: [bobName] });
    await openRoom(bob, "Crew");
    await send(alice, "Standup moves to 10:30");
    for (const body of ["one", "two", "three"]) await send(alice, body);
    await seeMessage(bob, "three");

    // Alice pins the standup note: Bob sees it marked, and in the room's Pinned list.
    const note = log(alice).locator(".message", { hasText: "Standup moves to 10:30" });
    await note.hover();
    await note.getByRole("group", { name: "Message actions" }).getByRole("button", { name: "Pin", exact: true }).click();
    const atBob = log(bob).locator(".message", { hasText: "Standup moves to 10:30" });
    await atBob.locator(".pinned-note", { hasText: `Pinned by ${aliceName}` }).waitFor();
    await bob.getByRole("button", { name: "📌 Pinned" }).click();
    const pins = bob.getByRole("dialog", { name: "Pinned messages" });
    await pins.getByRole("list", { name: "Pinned messages" }).getByText("Standup moves to 10:30").waitFor();
    await screenshot(bob, "pinned-messages");
    // Opening one opens the room at that message.
    await pins.getByRole("button", { name: /Standup moves to 10:30/ }).click();
    await expect.poll(() => pins.count()).toBe(0);
    await log(bob).locator("li.message.focused", { hasText: "Standup moves to 10:30" }).waitFor();

    // A rename leaves a line in Bob's timeline.
    await alice.getByRole("button", { name: "Settings" }).click();
    const settings = alice.getByRole("dialog", { name: "Room settings" });
    await settings.getByLabel("Name").fill("Crew ops");
    await settings.getByRole("button", { name: "Save" }).click();
    await log(bob).locator(".room-event", { hasText: `${aliceName} renamed the room to #Crew ops` }).waitFor();

    // Alice mutes Bob: his composer turns read-only at once, and he can no longer pin or react; the members list says so.
    const bobAtAlice = alice.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: bobName });
    await bobAtAlice.hover();
    await bobAtAlice.getByRole("button", { name: "Mute" }).click();
    await bob.getByText("You can’t send messages here: an admin muted you.").waitFor();
    await expect.poll(() => bob.getByLabel("Message", { exact: true }).count()).toBe(0);
    await bob.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: bobName }).getByText("· muted").waitFor();
    await atBob.hover();
    await atBob.getByRole("button", { name: "Link" }).waitFor();
    expect(await atBob.getByRole("button", { name: /^(Pin|Unpin|Add reaction)$/ }).count()).toBe(0);
    await screenshot(bob, "muted-composer");
    // He still reads.
    await send(alice, "you can still read this");
    await seeMessage(bob, "you can still read this");

    // Unmuted, he writes again; Alice unpins, and the mark leaves his view.
    await bobAtAlice.hover();
    await bobAtAlice.getByRole("button", { name: "Unmute" }).click();
    await send(bob, "thanks");
    await seeMessage(alice, "thanks");
    await note.hover();
    await note.getByRole("button", { name: "Unpin" }).click();
    await expect.poll(() => atBob.locator(".pinned-note").count()).toBe(0);
  });

  it("exchanges pictures and files (button, drop, paste), with progress, cancel and limits, and the other person (long-polling) sees them live", async () => {
    const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Photos", { invite: [bobName] });
    await openRoom(bob, "Photos");

    // By the button: a photo taken turned (EXIF) and a PDF, with a caption.
    const [chooser] = await Promise.all([alice.waitForEvent("filechooser"), alice.getByRole("button", { name: "Attach files" }).click()]);
    await chooser.setFiles([fixture("rotated.jpg"), fixture("report.pdf")]);
    const tray = alice.getByRole("list", { name: "Files to send" });
    await expect.poll(() => tray.locator(".upload.done").count()).toBe(2);
    await send(alice, "from the trip");

    const photo = log(bob).locator("li.message.stored", { hasText: "from the trip" }).locator(".attachment-image img");
    // The thumbnail is upright: 32 wide, 64 tall.
    await expect.poll(() => photo.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([32, 64]);
    const pdf = log(bob).locator(".attachment-file", { hasText: "report.pdf" });
    await pdf.getByText("application/pdf").waitFor();
    const [download] = await Promise.all([bob.waitForEvent("download"), pdf.click()]);
    expect(download.suggestedFilename()).toBe("report.pdf");
    expect(readFileSync(await download.path()).equals(readFileSync(fixture("report.pdf")))).toBe(true);
    // The viewer shows the picture at full size, upright.
    await log(bob).getByRole("button", { name: "Open picture rotated.jpg" }).click();
    const viewer = bob.getByRole("dialog", { name: "rotated.jpg" });
    await expect.poll(() => viewer.locator("img").evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([32, 64]);
    await screenshot(bob, "image-viewer");
    await viewer.getByRole("button", { name: "Close" }).click();

    // Bob drops a picture on the room and sends it without a caption.
    const dropped = await bob.evaluateHandle((bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "badge.png", { type: "image/png" }));
      return data;
    }, [...readFileSync(fixture("badge.png"))]);
    await bob.dispatchEvent("main.room", "dragover", { dataTransfer: dropped });
    await bob.dispatchEvent("main.room", "drop", { dataTransfer: dropped });
    await bob.getByRole("list", { name: "Files to send" }).locator(".upload.done").waitFor();
    await bob.getByRole("button", { name: "Send", exact: true }).click();
    await expect
      .poll(() => log(alice).getByRole("button", { name: "Open picture badge.png" }).locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBe(48);

    // Alice pastes a screenshot; one too large is refused before it is sent.
    await alice.getByLabel("Message", { exact: true }).evaluate((box, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "image.png", { type: "image/png" }));
      data.items.add(new File([new Uint8Array(11 * 1024 * 1024)], "huge.bin"));
      box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, [...readFileSync(fixture("badge.png"))]);
    await tray.locator(".upload.failed", { hasText: "Files may be at most 10 MB." }).waitFor();
    await tray.locator(".upload.done", { hasText: "image.png" }).waitFor();
    await alice.getByRole("button", { name: "Remove huge.bin" }).click();

    // A slow upload shows its progress and can be cancelled.
    const cdp = await alice.context().newCDPSession(alice);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await alice.getByLabel("Message", { exact: true }).evaluate((box) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(3 * 1024 * 1024).fill(7)], "slow.bin"));
      box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    const progress = tray.getByRole("progressbar", { name: "Uploading slow.bin" });
    await expect.poll(() => progress.evaluate((p: HTMLProgressElement) => p.value)).toBeGreaterThan(0);
    expect(await alice.getByRole("button", { name: "Send", exact: true }).isDisabled()).toBe(true);
    await screenshot(alice, "uploading");
    await alice.getByRole("button", { name: "Cancel slow.bin" }).click();
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    expect(await tray.locator(".upload").allTextContents()).toEqual([expect.stringContaining("image.png")]);
    await send(alice, "pasted");
    await log(bob).locator("li.message.stored", { hasText: "pasted" }).getByRole("button", { name: "Open picture image.png" }).waitFor();
    await screenshot(bob, "attachments");
  });

  it("changes a picture (framed in a square) and a name, and the other person (long-polling) sees both everywhere; a name opens a card", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(alice, "Faces", { invite: [bobName] });
    await send(alice, "hello from me");
    await openRoom(bob, "Faces");
    await seeMessage(bob, "hello from me");
    // Without a picture: initials on a colour.
    const aliceAtBob = log(bob).locator("li.message", { hasText: "hello from me" });
    await aliceAtBob.locator(".avatar .initials").waitFor();

    await accountMenu(alice, "Profile…");
    const profile = alice.getByRole("dialog", { name: "Profile" });
    const [chooser] = await Promise.all([alice.waitForEvent("filechooser"), profile.getByRole("button", { name: "Add a picture…" }).click()]);
    await chooser.setFiles(path.join(import.meta.dirname, "fixtures", "rotated.jpg"));
    const frame = profile.getByRole("application", { name: /Picture framing/ });
    // Upright the picture is 32×64: framed, it shows its middle; move it up to its bottom (green).
    await expect.poll(() => frame.locator("img").evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([32, 64]);
    await frame.focus();
    for (let i = 0; i < 20; i++) await frame.press("ArrowUp");
    await screenshot(alice, "profile-framing");
    await profile.getByRole("button", { name: "Save picture" }).click();
    await profile.getByRole("status").filter({ hasText: "Picture saved." }).waitFor();
    await profile.getByLabel("Display name").fill("Alice Liddell");
    await profile.getByRole("button", { name: "Save" }).click();
    await profile.getByRole("status").filter({ hasText: "Name saved." }).waitFor();
    await profile.getByRole("button", { name: "Close" }).click();

    // Bob sees both live: on her message, in the members panel.
    const picture = aliceAtBob.locator(".avatar img");
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(256);
    // The lower square: green, not the red top.
    const red = await picture.evaluate((img: HTMLImageElement) => {
      const canvas = document.createElement("canvas");
      [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
      const g = canvas.getContext("2d")!;
      g.drawImage(img, 0, 0);
      return g.getImageData(128, 200, 1, 1).data[0];
    });
    expect(red).toBeLessThan(100);
    await aliceAtBob.getByRole("button", { name: "Alice Liddell" }).waitFor();
    const members = bob.getByRole("complementary", { name: "Members" });
    await members.getByRole("listitem").filter({ hasText: "Alice Liddell" }).locator(".avatar img").waitFor();

    // Her name opens her card; Message opens a DM with her, her picture beside it in the sidebar.
    await aliceAtBob.getByRole("button", { name: "Alice Liddell" }).click();
    const card = bob.getByRole("dialog", { name: "Alice Liddell" });
    await card.getByText(`@${aliceName}`).waitFor();
    await card.getByText("Online").waitFor();
    await screenshot(bob, "user-card");
    await card.getByRole("button", { name: "Message", exact: true }).click();
    await bob.getByRole("heading", { level: 1, name: "Alice Liddell" }).waitFor();
    await bob.getByRole("navigation").getByRole("button", { name: /Alice Liddell/ }).locator(".avatar img").waitFor();
    await screenshot(bob, "profile");
  });

  it("lets the owner delete a room after typing its name, and it leaves the other person's (long-polling) sidebar", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Temporary", { invite: [bobName] });
    await openRoom(bob, "Temporary");
    await alice.getByRole("button", { name: "Settings" }).click();
    await alice.getByRole("dialog", { name: "Room settings" }).getByRole("button", { name: "Delete room…" }).click();
    const confirm = alice.getByRole("dialog", { name: "Delete #Temporary?" });
    const button = confirm.getByRole("button", { name: "Delete room" });
    expect(await button.isDisabled()).toBe(true);
    await confirm.getByLabel("Type the room’s name to confirm").fill("Temporary");
    await screenshot(alice, "delete-room");
    await button.click();
    await expect.poll(() => alice.getByRole("navigation").getByRole("button", { name: "Temporary" }).count()).toBe(0);
    await expect.poll(() => bob.getByRole("navigation").getByRole("button", { name: "Temporary" }).count()).toBe(0);
    await bob.getByRole("heading", { level: 1, name: "Welcome to Switchboard" }).waitFor();
  });

  it("blocks someone from their card (their messages fold, the DM closes) and archives a room, the other person (long-polling) seeing it read-only live", async () => {
    const alice = await newPage();
    const bob = await newPage({ noWebSocket: true });
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(alice, "Lounge", { invite: [bobName] });
    await openRoom(bob, "Lounge");
    await send(bob, "a word from bob");
    await seeMessage(alice, "a word from bob");

    await log(alice).locator("li.message", { hasText: "a word from bob" }).getByRole("button", { name: bobName }).click();
    const card = alice.getByRole("dialog", { name: bobName });
    // Blocking closes the card (the message it was opened from folds away).
    await card.getByRole("button", { name: "Block" }).click();
    await expect.poll(() => card.count()).toBe(0);
    const folded = log(alice).locator("li.message.folded");
    await folded.getByText("A message from someone you blocked.").waitFor();
    await folded.getByRole("button", { name: "Show" }).click();
    await seeMessage(alice, "a word from bob");

    // Their DM is closed: Bob cannot open one; Alice can read hers, and her box says why she cannot write.
    await bob.getByRole("complementary", { name: "Members" }).getByRole("button", { name: aliceName }).click();
    const aliceCard = bob.getByRole("dialog", { name: aliceName });
    await aliceCard.getByRole("button", { name: "Message", exact: true }).click();
    await aliceCard.getByRole("alert").filter({ hasText: "This person does not take direct messages from you." }).waitFor();
    await aliceCard.getByRole("button", { name: "Close" }).click();
    await log(alice).locator("li.message", { hasText: "a word from bob" }).getByRole("button", { name: bobName }).click();
    await alice.getByRole("dialog", { name: bobName }).getByRole("button", { name: "Message", exact: true }).click();
    await alice.getByRole("status").filter({ hasText: `You blocked ${bobName}.` }).waitFor();
    await openRoom(alice, "Lounge");
    await alice.getByRole("button", { name: "Settings" }).click();
    await alice.getByRole("dialog", { name: "Room settings" }).getByRole("button", { name: "Archive" }).click();
    await bob.getByRole("status").filter({ hasText: "This room is archived: it is read-only." }).waitFor();
    await alice.getByRole("heading", { level: 1, name: /Lounge/ }).getByText("Archived").waitFor();
    await screenshot(bob, "archived-room");
  });

  it("names the tab with the room and the unread count, has a favicon, focuses the message box, and asks before leaving", async () => {
    const alice = await newPage();
    const bob = await newPage();
    const failed: string[] = [];
    const errors: string[] = [];
    alice.on("response", (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`)));
    alice.on("pageerror", (err) => void errors.push(err.message));
    const bobName = await signUp(bob);
    const aliceName = await signUp(alice);
    await createRoom(alice, "Lobby", { invite: [bobName] });
    await expect.poll(() => alice.title()).toBe("#Lobby — Switchboard");
    // Creating a room leaves the cursor in its message box.
    await expect.poll(() => alice.getByLabel("Message", { exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
    await createRoom(alice, "Quiet");
    await openRoom(bob, "Lobby");
    await send(bob, "anyone here?");
    await expect.poll(() => alice.title()).toBe("(1) #Quiet — Switchboard");
    const icon = await alice.request.get("/favicon.ico");
    expect(icon.status()).toBe(200);
    expect(icon.headers()["content-type"]).toMatch(/icon/);

    // Leave asks first; Cancel keeps the room; a double click on Leave leaves once, without an error.
    await openRoom(alice, "Lobby");
    await expect.poll(() => alice.title()).toBe("#Lobby — Switchboard");
    await alice.getByRole("button", { name: "Leave", exact: true }).click();
    const confirm = alice.getByRole("dialog", { name: "Leave #Lobby?" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await alice.getByRole("heading", { level: 1, name: "Lobby" }).waitFor();
    await alice.getByRole("button", { name: "Leave", exact: true }).click();
    await confirm.getByRole("button", { name: "Leave" }).dblclick();
    await expect.poll(() => alice.getByRole("navigation").getByRole("button", { name: "Lobby" }).count()).toBe(0);
    // Bob's members panel follows at once, and his timeline says so where it happened.
    await expect.poll(() => bob.getByRole("complementary", { name: "Members" }).getByRole("listitem").count()).toBe(1);
    const timeline = bob.getByRole("log", { name: "Messages" });
    await expect
      .poll(() => timeline.locator(".room-event span, .message .body").allTextContents())
      .toEqual([`${aliceName} created the room`, `${aliceName} added ${bobName}`, "anyone here?", `${aliceName} left`]);
    await screenshot(bob, "membership-lines");
    expect(errors).toEqual([]);
    expect(failed).toEqual([]);
  });

  it("keeps two tabs of one user in step: messages, new rooms, read state", async () => {
    const tab1 = await newPage();
    await signUp(tab1);
    const tab2 = await tab1.context().newPage();
    await tab2.goto("/");
    await tab2.getByRole("button", { name: "New room" }).waitFor();

    // A room made in one tab appears in the other.
    await createRoom(tab1, "Two tabs");
    await tab2.getByRole("navigation").getByRole("button", { name: "Two tabs" }).waitFor();
    await createRoom(tab1, "Elsewhere");

    // Another user posts while neither tab looks at the room: both count it unread.
    const other = await register(server.url);
    const socket = await connect(server.url, other.token);
    const { rooms } = await call<{ rooms: { id: string; name: string }[] }>(socket, "room:browse", { query: "Two tabs" });
    await call(socket, "room:join", { roomId: rooms[0]!.id });
    await call(socket, "message:send", { roomId: rooms[0]!.id, body: "to every tab" });
    const badge = (page: Page) => page.getByRole("navigation").getByRole("button", { name: "Two tabs" }).getByLabel("1 unread");
    await badge(tab1).waitFor();
    await badge(tab2).waitFor();
    await screenshot(tab2, "unread-badge");

    // Reading it in one tab clears the badge in the other.
    await openRoom(tab1, "Two tabs");
    await seeMessage(tab1, "to every tab");
    await badge(tab2).waitFor({ state: "detached" });

    // A message typed in tab 1 shows in tab 2.
    await openRoom(tab2, "Two tabs");
    await send(tab1, "from tab one");
    await seeMessage(tab2, "from tab one");
  });

  it("says how long to wait when a username is locked, on the sign-in page and the legacy page", async () => {
    // There two wrong passwords lock a username (for 15 minutes).
    const strict = await strictServer!;
    const { user } = await register(strict.url);
    for (let i = 0; i < 2; i++) {
      const wrong = await api(strict.url, "POST", "/api/auth/login", { username: user.username, password: "not the password" });
      expect(wrong.status).toBe(401);
    }
    const wait = /^Too many attempts\. Try again in \d+ minutes\.$/;

    // Even the right password has to wait, and the form says how long.
    const page = await newPage({ baseURL: strict.url });
    await page.goto("/login");
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await page.getByRole("alert").filter({ hasText: "Too many attempts" }).innerText()).toMatch(wait);
    expect(await page.getByRole("button", { name: "Sign in" }).isDisabled()).toBe(true);
    await screenshot(page, "sign-in-locked");

    await page.goto("/legacy");
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await page.getByRole("alert").filter({ hasText: "Too many attempts" }).innerText()).toMatch(wait);
    expect(await page.getByRole("button", { name: "Sign in" }).isDisabled()).toBe(true);
  });

  it("shows a refused send with Retry, and Retry delivers it", async () => {
    // A tight per-connection rate limit there, so some sends are refused.
    const strict = await strictServer!;
    const page = await newPage();
    await page.goto(`${strict.url}/signup`);
    await page.getByLabel("Username").fill(uniqueName("strict"));
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("button", { name: "New room" }).waitFor();
    await createRoom(page, "Slow down");
    for (let i = 1; i <= 12; i++) await send(page, `burst ${i}`);
    const failed = log(page).locator("li.message.failed");
    await failed.first().waitFor();
    await failed.first().getByText(/Not sent\. You are sending too fast — wait a moment/).waitFor();
    await screenshot(page, "send-failed");
    const text = await failed.first().locator(".body").innerText();
    // Retry until the bucket has refilled; the message is then stored, once.
    for (let attempt = 0; attempt < 20; attempt++) {
      if ((await log(page).locator("li.message.stored .body", { hasText: new RegExp(`^${text}$`) }).count()) > 0) break;
      const retry = log(page).locator("li.message.failed", { hasText: text }).getByRole("button", { name: "Retry" });
      if (await retry.count()) await retry.click();
      await page.waitForTimeout(500);
    }
    await log(page).locator("li.message.stored .body", { hasText: new RegExp(`^${text}$`) }).waitFor();
    expect(await log(page).locator(".body", { hasText: new RegExp(`^${text}$`) }).count()).toBe(1);
  });

  it("keeps a private room invisible to a non-member", async () => {
    const alice = await newPage();
    const mallory = await newPage();
    await signUp(alice);
    await signUp(mallory);
    await createRoom(alice, "Secret plans", { private: true });
    await send(alice, "top secret");
    await seeMessage(alice, "top secret");

    await mallory.reload();
    await mallory.getByRole("button", { name: "Browse rooms" }).click();
    const dialog = mallory.getByRole("dialog", { name: "Browse public rooms" });
    await dialog.getByLabel("Search rooms").fill("Secret plans");
    await dialog.getByText("No public rooms match.").waitFor();
    expect(await mallory.getByText("Secret plans").count()).toBe(0);
    expect(await mallory.getByText("top secret").count()).toBe(0);
    await screenshot(mallory, "private-room-hidden");
  });

  it("loads older history when scrolling up, without losing the reading position", async () => {
    const { token, user } = await register(server.url);
    const socket = await connect(server.url, token);
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "Long history" });
    // The sockets' rate limit is 20/s with bursts of 40: send in paced chunks.
    for (let i = 1; i <= 130; i++) {
      await call(socket, "message:send", { roomId: room.id, body: `history line ${i}` });
      if (i % 30 === 0) await new Promise((r) => setTimeout(r, 1600));
    }
    const page = await newPage();
    await signIn(page, user.username);
    await openRoom(page, "Long history");
    await seeMessage(page, "history line 130");
    // Only the newest page is loaded at first.
    expect(await log(page).getByText("history line 1", { exact: true }).count()).toBe(0);

    for (let pages = 0; pages < 5; pages++) {
      if (await log(page).getByText("This is the beginning of the conversation.").count()) break;
      const anchor = log(page).locator("li.message").first();
      const anchorText = await anchor.locator(".body").innerText();
      await log(page).evaluate((el) => (el.scrollTop = 0));
      await log(page).locator("li.message").first().locator(".body").filter({ hasNotText: anchorText }).waitFor();
      // The message that was at the top is still in view: the list did not jump to the top.
      const box = await log(page).getByText(anchorText, { exact: true }).boundingBox();
      const view = await log(page).boundingBox();
      expect(box && view && box.y >= view.y - 5 && box.y <= view.y + view.height).toBe(true);
    }
    await log(page).getByText("history line 1", { exact: true }).waitFor();
    const bodies = await log(page).locator("li.message .body").allInnerTexts();
    expect(bodies).toEqual(Array.from({ length: 130 }, (_, i) => `history line ${i + 1}`));
    await screenshot(page, "history-paging");
  });

  it("shows message bodies as text, never HTML, and links safely", async () => {
    const page = await newPage();
    await signUp(page);
    await createRoom(page, "Safety");
    const xss = `<img src=x onerror=alert(1)> <script>alert(2)</script>`;
    await send(page, xss);
    await seeMessage(page, "<img src=x");
    expect(await log(page).locator(".body", { hasText: "onerror" }).innerText()).toBe(xss);
    expect(await log(page).locator("img, script").count()).toBe(0);

    await send(page, "docs at https://example.com/guide. and javascript:alert(3)");
    await seeMessage(page, "docs at");
    const links = log(page).locator("a");
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute("href")).toBe("https://example.com/guide");
    expect(await links.getAttribute("rel")).toBe("noopener noreferrer");
    await screenshot(page, "safe-rendering");
  });

  it("formats Markdown in message bodies (bold, italic, strike, code, quote, list, link), and tags stay text", async () => {
    const alice = await newPage();
    const bob = await newPage({ dark: true });
    const bobName = await signUp(bob);
    await signUp(alice);
    await createRoom(alice, "Formatting", { invite: [bobName] });
    await openRoom(bob, "Formatting");

    const tags = "<b onclick=alert(1)>raw</b> <img src=x onerror=alert(2)>";
    const longLine = `const line = "${"a long line of code that scrolls sideways ".repeat(5)}";`;
    await send(
      alice,
      [
        `**bold** _italic_ ~~struck~~ \`inline code\` ${tags}`,
        "> quoted line",
        "- first item",
        "- second item",
        "",
        "```js",
        longLine,
        "```",
        "See [the guide](https://example.com/guide)",
      ].join("\n"),
    );
    await seeMessage(bob, "quoted line");
    const body = log(bob).locator("li.message .body", { hasText: "quoted line" });
    expect(await body.locator("strong").innerText()).toBe("bold");
    expect(await body.locator("em").innerText()).toBe("italic");
    expect(await body.locator("s").innerText()).toBe("struck");
    expect(await body.locator(":not(pre) > code").innerText()).toBe("inline code");
    expect(await body.locator("blockquote").innerText()).toBe("quoted line");
    expect(await body.locator("ul > li").allInnerTexts()).toEqual(["first item", "second item"]);
    const code = body.locator("pre > code");
    expect(await code.innerText()).toBe(longLine);
    // A long line of code scrolls inside its block instead of wrapping.
    expect(await body.locator("pre").evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    const link = body.locator("a[href]");
    expect(await link.count()).toBe(1);
    expect(await link.innerText()).toBe("the guide");
    expect(await link.getAttribute("href")).toBe("https://example.com/guide");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("title")).toBe("https://example.com/guide");
    // Tags in the text are shown, not made.
    expect(await body.locator("p").first().innerText()).toContain(tags);
    expect(await log(bob).locator("b, img, script, [onclick], [onerror]").count()).toBe(0);
    await screenshot(bob, "formatting-dark");
    await seeMessage(alice, "quoted line");
    await screenshot(alice, "formatting");
  });

  it("renders 50 hostile messages once each, and none again during a typing and presence storm", { timeout: 240_000 }, async () => {
    const alice = await register(server.url);
    const sender = await register(server.url, uniqueName("mallory"), "Mallory");
    const typists = await Promise.all(Array.from({ length: 8 }, (_, i) => register(server.url, uniqueName("storm"), `Storm ${i + 1}`)));
    const flappers = await Promise.all(Array.from({ length: 3 }, (_, i) => register(server.url, uniqueName("flap"), `Flapper ${i + 1}`)));
    const mallory = await connect(server.url, sender.token);
    const { room } = await call<{ room: Room }>(mallory, "room:create", {
      name: "Hostile",
      memberIds: [alice, ...typists, ...flappers].map((u) => u.user.id),
    });
    const typing = await Promise.all(typists.map((u) => connect(server.url, u.token)));
    const flapping = await Promise.all(flappers.map((u) => connect(server.url, u.token)));

    const page = await newPage();
    await signIn(page, alice.user.username);
    await page.getByRole("heading", { level: 1, name: "Hostile" }).waitFor();
    await log(page).getByText("No messages yet. Write the first one below.").waitFor();
    // Calls of MessageItem, the one function that renders a message ("delivery hint" is in it only).
    const renders = await countCalls(page, "delivery hint");

    // Sent live by another user: each arriving message renders itself, and no other.
    const hostile = hostileMessages(50);
    for (const m of hostile) await callPaced(mallory, "message:send", { roomId: room.id, body: m.body });
    await log(page).locator("li.message.stored").nth(hostile.length - 1).waitFor();
    expect(await renders.take()).toBe(hostile.length);
    const shown = await log(page)
      .locator("li.message")
      .evaluateAll((items) =>
        items.map((li) => ({
          body: li.querySelector(".body")?.textContent,
          links: [...li.querySelectorAll(".body a")].map((a) => a.getAttribute("href")),
        })),
      );
    expect(shown).toEqual(hostile);
    expect(await log(page).locator("script, img, iframe").count()).toBe(0);
    await screenshot(page, "hostile-messages");

    // The storm: 8 people start and stop typing 36 times each while 3 others
    // go offline and online twice; every event acknowledged or observed
    // before the next, so that its order is known.
    const sockets = await Promise.all([
      ...typing.map(async (socket) => {
        for (let n = 0; n < 36; n++) await callPaced(socket, "typing", { roomId: room.id, typing: n % 2 === 0 });
        return socket;
      }),
      ...flapping.map(async (socket, i) => {
        const userId = flappers[i]!.user.id;
        for (let n = 0; n < 2; n++) {
          const offline = next(mallory, "presence", (p) => p.userId === userId && !p.online, 30_000);
          socket.close();
          await offline;
          const online = next(mallory, "presence", (p) => p.userId === userId && p.online, 30_000);
          socket = await connect(server.url, flappers[i]!.token);
          await online;
        }
        return socket;
      }),
    ]);
    // Where it ends: Storm 1 and 2 still typing (repeated as the composer does,
    // so it does not expire while we look), Flapper 3 gone.
    const stillTyping = () => Promise.all(typing.slice(0, 2).map((s) => callPaced(s, "typing", { roomId: room.id, typing: true })));
    await stillTyping();
    const repeat = setInterval(() => void stillTyping().catch(() => {}), 2000);
    try {
      const gone = next(mallory, "presence", (p) => p.userId === flappers[2]!.user.id && !p.online, 30_000);
      sockets.at(-1)!.close();
      await gone;
      // One connection delivers in order: once the page shows this, it has handled the whole storm.
      await page.getByRole("list", { name: "Offline members" }).getByText("Flapper 3").waitFor({ timeout: 60_000 });
      expect(await renders.take()).toBe(0);
      expect(await page.locator("p.typing").innerText()).toMatch(/^Storm ([12]) and Storm (?!\1)[12] are typing…$/);
      // Names only (each row also shows the person's initials).
      const online = await page.getByRole("list", { name: "Online members" }).locator("li .member-name").allInnerTexts();
      expect(online.map((t) => t.trim()).sort()).toEqual(
        ["Mallory", alice.user.displayName, ...typists.map((u) => u.user.displayName), "Flapper 1", "Flapper 2"].sort(),
      );
      const offline = await page.getByRole("list", { name: "Offline members" }).locator("li .member-name").allInnerTexts();
      expect(offline.map((t) => t.trim())).toEqual(["Flapper 3"]);
    } finally {
      clearInterval(repeat);
    }

    // Still responsive: the composer sends, and the message shows.
    await send(page, "still here after the storm");
    await seeMessage(page, "still here after the storm");
    expect(await renders.take()).toBeGreaterThan(0);
    await screenshot(page, "after-storm");
  });

  it("works with WebSocket unavailable (long-polling only)", async () => {
    const polling = await newPage({ noWebSocket: true });
    const normal = await newPage();
    const normalName = await signUp(normal);
    await signUp(polling);
    expect(await polling.evaluate(() => typeof (window as { WebSocket?: unknown }).WebSocket)).toBe("undefined");
    await createRoom(polling, "No sockets here", { invite: [normalName] });
    await openRoom(normal, "No sockets here");
    await send(polling, "sent over polling");
    await seeMessage(normal, "sent over polling");
    await send(normal, "received over polling");
    await seeMessage(polling, "received over polling");
    await screenshot(polling, "polling-only");
  });

  it("catches up after a server restart: shows reconnecting, no gaps, no duplicates, pending sent", async () => {
    const page = await newPage();
    const name = await signUp(page);
    await createRoom(page, "Restarts");
    await send(page, "before restart");
    await seeMessage(page, "before restart");

    await server.stop();
    await page.getByRole("status").getByText("Reconnecting…").waitFor();
    // Written while disconnected: stays pending, then is sent once.
    await send(page, "typed while offline");
    await log(page).locator("li.message.pending", { hasText: "typed while offline" }).waitFor();
    await screenshot(page, "reconnecting");

    server = await server.restart();
    // Another member posts before the page is back: only history can bring it.
    const other = await register(server.url);
    const socket = await connect(server.url, other.token);
    const { rooms } = await call<{ rooms: { id: string }[] }>(socket, "room:browse", { query: "Restarts" });
    await call(socket, "room:join", { roomId: rooms[0]!.id });
    for (const body of ["missed one", "missed two"]) await call(socket, "message:send", { roomId: rooms[0]!.id, body });

    await seeMessage(page, "typed while offline");
    await seeMessage(page, "missed two");
    await page.getByRole("status").getByText("Reconnecting…").waitFor({ state: "detached" });
    const bodies = await log(page).locator("li.message .body").allInnerTexts();
    expect(bodies.filter((b) => b !== "typed while offline")).toEqual(["before restart", "missed one", "missed two"]);
    expect(bodies.filter((b) => b === "typed while offline")).toHaveLength(1);
    expect(name).toBeTruthy();
  });

  it("fits a phone screen: rooms open from the menu", async () => {
    const page = await newPage({ width: 390 });
    await signUp(page);
    await createRoom(page, "Pocket");
    await send(page, "from my phone");
    await seeMessage(page, "from my phone");
    await screenshot(page, "phone-room");
    // No room beside the messages for the members panel: a button shows them.
    await page.getByRole("button", { name: "Members" }).click();
    await page.getByRole("dialog", { name: "Members" }).getByRole("list", { name: "Online members" }).getByRole("listitem").waitFor();
    await page.getByRole("dialog", { name: "Members" }).getByRole("button", { name: "Close" }).click();
    // A shorter view (the keyboard opening) keeps the newest message in sight.
    // (Eight: each send is also typing events, and the server allows 40 events in a burst.)
    for (let i = 0; i < 8; i++) await send(page, `line ${i}`);
    await seeMessage(page, "line 7");
    await page.setViewportSize({ width: 390, height: 420 });
    const newest = log(page).locator("li.message", { hasText: "line 7" });
    await expect
      .poll(() =>
        newest.evaluate((el) => {
          const box = el.getBoundingClientRect();
          const view = el.closest('[role="log"]')!.getBoundingClientRect();
          return box.bottom <= view.bottom + 1 && box.top >= view.top;
        }),
      )
      .toBe(true);
    await page.getByRole("button", { name: "Rooms" }).click();
    await page.getByRole("navigation").getByRole("button", { name: "Pocket" }).waitFor();
    await screenshot(page, "phone-menu");
  });

  it("jumps to a room or a person with Ctrl+K", async () => {
    const page = await newPage();
    await signUp(page);
    const friend = await register(server.url, undefined, "Quentin Switcher");
    await createRoom(page, "Alpha team");
    await createRoom(page, "Beta testers");
    await page.keyboard.press("Control+k");
    const switcher = page.getByRole("dialog", { name: "Jump to a conversation" });
    await switcher.getByLabel("Room or person").fill("alp");
    await switcher.getByRole("option", { name: /Alpha team/ }).waitFor();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Alpha team" }).waitFor();
    await expect.poll(() => page.getByLabel("Message", { exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);

    // Someone without a conversation yet: Enter opens a new DM.
    await page.getByLabel("Message", { exact: true }).press("Control+k");
    await switcher.getByLabel("Room or person").fill("Quentin");
    await switcher.getByRole("option", { name: /Quentin Switcher/ }).waitFor();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Quentin Switcher" }).waitFor();
    void friend;
  });

  it("follows the system's dark theme", async () => {
    const light = await newPage();
    const dark = await newPage({ dark: true });
    await light.goto("/login");
    await dark.goto("/login");
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background(light)).toBe("rgb(255, 255, 255)");
    expect(await background(dark)).toBe("rgb(22, 24, 29)");
    await signUp(dark);
    await createRoom(dark, "Night shift");
    await send(dark, "dark mode works");
    await seeMessage(dark, "dark mode works");
    await screenshot(dark, "dark-theme");
  });

  it("serves a legacy page that signs in, reads and sends, and downloads files", async () => {
    const modern = await newPage();
    const { user, token } = await register(server.url);
    const modernName = await signUp(modern);
    const socket = await connect(server.url, token);
    const { users } = await call<{ users: { id: string }[] }>(socket, "user:search", { query: modernName });
    const { room } = await call<{ room: Room }>(socket, "room:create", { name: "Old school", memberIds: [users[0]!.id] });
    const { message: first } = await call<{ message: { id: string } }>(socket, "message:send", { roomId: room.id, body: "already here" });
    await call(socket, "reaction:add", { roomId: room.id, messageId: first.id, emoji: "👋" });

    const legacy = await newPage();
    await legacy.goto("/legacy");
    await legacy.getByLabel("Username").fill(user.username);
    await legacy.getByLabel("Password").fill(PASSWORD);
    await legacy.getByRole("button", { name: "Sign in" }).click();
    await legacy.getByRole("list", { name: "Messages" }).getByText("already here").waitFor();
    // Reactions show as counts, from history and then live (reacting is the web UI's).
    const reactionsOf = (text: string) => legacy.getByRole("list", { name: "Messages" }).locator(".text", { hasText: text }).locator(".reactions");
    expect(await reactionsOf("already here").innerText()).toBe("👋 1");
    await call(socket, "reaction:add", { roomId: room.id, messageId: first.id, emoji: "🎉" });
    await expect.poll(() => reactionsOf("already here").innerText()).toBe("👋 1  🎉 1");
    await call(socket, "reaction:remove", { roomId: room.id, messageId: first.id, emoji: "👋" });
    await expect.poll(() => reactionsOf("already here").innerText()).toBe("🎉 1");

    await legacy.getByLabel("Message", { exact: true }).fill("hello from an old browser");
    await legacy.getByRole("button", { name: "Send" }).click();
    await openRoom(modern, "Old school");
    await seeMessage(modern, "hello from an old browser");
    await send(modern, "hello back");
    await legacy.getByRole("list", { name: "Messages" }).getByText("hello back").waitFor();
    // Edits and deletions made elsewhere show here too (live).
    const { message } = await call<{ message: { id: string } }>(socket, "message:send", { roomId: room.id, body: "teh" });
    await legacy.getByRole("list", { name: "Messages" }).getByText("teh", { exact: true }).waitFor();
    await call(socket, "message:edit", { roomId: room.id, messageId: message.id, body: "the" });
    await legacy.getByRole("list", { name: "Messages" }).getByText("the (edited)").waitFor();
    await call(socket, "message:delete", { roomId: room.id, messageId: message.id });
    await legacy.getByRole("list", { name: "Messages" }).getByText("Message deleted").waitFor();
    // A file comes as a link that downloads it.
    const sent = await fetch(`${server.url}/api/rooms/${room.id}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/pdf", "content-disposition": 'attachment; filename="notes.pdf"' },
      body: "%PDF-1.4 notes",
    });
    const { attachment } = (await sent.json()) as { attachment: { id: string } };
    await call(socket, "message:send", { roomId: room.id, body: "the notes", attachmentIds: [attachment.id] });
    const [download] = await Promise.all([legacy.waitForEvent("download"), legacy.getByRole("link", { name: "📎 notes.pdf" }).click()]);
    expect(download.suggestedFilename()).toBe("notes.pdf");
    await screenshot(legacy, "legacy-page");
  });

  // The server refuses connections in its middleware while PostgreSQL is away
  // ("unavailable"); socket.io-client does not retry a refusal by itself.
  describe.runIf(pgReady)("after the server refused the connection (database down)", () => {
    const API_KEY = "browser-test-api-key-0123456789";
    let pg: ServerProcess;
    let proxy: TcpProxy;
    let dropDatabase: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const db = await createTestDatabase();
      dropDatabase = db.drop;
      const through = await TcpProxy.forUrl(db.url);
      proxy = through.proxy;
      pg = await startServerProcess({ DATABASE_URL: through.proxied, SWITCHBOARD_API_KEYS: API_KEY });
    });
    afterAll(async () => {
      await pg?.destroy();
      await proxy?.cut();
      await dropDatabase?.();
    });
    // A test that failed midway must not leave the next one without a database.
    let databaseDown = false;
    afterEach(async () => {
      if (databaseDown) await restoreDatabase();
    });

    async function restoreDatabase(): Promise<void> {
      await proxy.start(); // same port: the database is back
      databaseDown = false;
    }

    /** Cuts the database, then has the server close the user's connections: each of their tabs reconnects into a refusal. */
    async function cutDatabaseAndDisconnect(userId: string): Promise<void> {
      await proxy.cut();
      databaseDown = true;
      const auth = { authorization: `Bearer ${API_KEY}` };
      const { status, body } = await api(pg.url, "GET", `/api/v1/users/${userId}/clients`, undefined, auth);
      expect(status).toBe(200);
      expect(body.clients.length).toBeGreaterThan(0);
      for (const client of body.clients as { id: string }[]) {
        expect((await api(pg.url, "POST", `/api/v1/clients/${client.id}/close`, undefined, auth)).status).toBe(204);
      }
    }

    /** Two refusals: the page saw the server refuse, and tried again while the database was still down. */
    async function refusedTwice(refusals: { readonly count: number }): Promise<void> {
      await expect.poll(() => refusals.count, { timeout: 45_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    }

    it("web UI: reconnects by itself once the database is back, and sends", async () => {
      const { user } = await register(pg.url);
      const page = await newPage({ baseURL: pg.url });
      const refusals = watchRefusals(page, "unavailable");
      await signIn(page, user.username);
      await createRoom(page, "Outage");
      await send(page, "before the outage");
      await seeMessage(page, "before the outage");

      await cutDatabaseAndDisconnect(user.id);
      await page.getByRole("status").getByText("Reconnecting…").waitFor();
      await refusedTwice(refusals);
      await screenshot(page, "refused-reconnecting");

      await restoreDatabase();
      await page.getByRole("status").getByText("Reconnecting…").waitFor({ state: "detached", timeout: 60_000 });
      await send(page, "after the outage");
      await seeMessage(page, "after the outage");
      expect(await log(page).locator("li.message .body").allInnerTexts()).toEqual(["before the outage", "after the outage"]);
    });

    it("legacy page: reconnects by itself once the database is back, and sends", async () => {
      const owner = await register(pg.url);
      const { user } = await register(pg.url);
      const socket = await connect(pg.url, owner.token);
      const { room } = await call<{ room: Room }>(socket, "room:create", { name: "Old outage", memberIds: [user.id] });
      await call(socket, "message:send", { roomId: room.id, body: "before the outage" });

      const legacy = await newPage({ baseURL: pg.url });
      const refusals = watchRefusals(legacy, "unavailable");
      await legacy.goto("/legacy");
      await legacy.getByLabel("Username").fill(user.username);
      await legacy.getByLabel("Password").fill(PASSWORD);
      await legacy.getByRole("button", { name: "Sign in" }).click();
      const messages = legacy.getByRole("list", { name: "Messages" });
      await messages.getByText("before the outage").waitFor();

      await cutDatabaseAndDisconnect(user.id);
      await legacy.getByRole("status").getByText("Reconnecting…").waitFor();
      await refusedTwice(refusals);

      await restoreDatabase();
      await legacy.getByRole("status").getByText(/^Connected/).waitFor({ timeout: 60_000 });
      await legacy.getByLabel("Message", { exact: true }).fill("after the outage");
      await legacy.getByRole("button", { name: "Send" }).click();
      await messages.getByText("after the outage").waitFor();
      const { messages: stored } = await call<{ messages: { body: string }[] }>(socket, "message:history", { roomId: room.id });
      expect(stored.map((m) => m.body)).toEqual(["before the outage", "after the outage"]);
    });
  });
});
