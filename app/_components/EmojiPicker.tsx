"use client";

import type { EmojiMartData } from "@emoji-mart/data";
import { useEffect, useMemo, useState } from "react";
import { Dialog } from "./Dialog";

/** One emoji as the picker offers it. */
interface PickerEmoji {
  native: string;
  name: string;
  /** Lower-case words it is found by: its id, name and keywords. */
  terms: string;
}

interface PickerCategory {
  id: string;
  emoji: PickerEmoji[];
}

const CATEGORY_NAMES: Record<string, string> = {
  people: "Smileys & people",
  nature: "Animals & nature",
  foods: "Food & drink",
  activity: "Activities",
  places: "Travel & places",
  objects: "Objects",
  symbols: "Symbols",
  flags: "Flags",
};

const RECENT_KEY = "switchboard:recent-emoji";
/** What the quick picks hold before someone has reacted with anything. */
const DEFAULT_RECENT = ["👍", "❤️", "😂", "🎉", "👀", "🙏"];
const MAX_RECENT = 12;

/** The emoji this browser reacted with most recently, newest first. */
export function recentEmoji(): string[] {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "null");
    if (Array.isArray(stored) && stored.every((e) => typeof e === "string") && stored.length > 0) return stored.slice(0, MAX_RECENT);
  } catch {
    // Unreadable or unavailable storage: the defaults.
  }
  return DEFAULT_RECENT;
}

/** Puts an emoji first in the quick picks. */
export function rememberEmoji(emoji: string): void {
  try {
    const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, MAX_RECENT);
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // Private mode without storage: nothing to remember it in.
  }
}

/** The emoji catalogue, loaded on first use (430 kB: not part of the chat's first load). */
let catalogue: Promise<PickerCategory[]> | null = null;
function loadCatalogue(): Promise<PickerCategory[]> {
  catalogue ??= import("@emoji-mart/data").then((module) => {
    const data = (module.default ?? module) as unknown as EmojiMartData;
    return data.categories.map((c) => ({
      id: c.id,
      emoji: c.emojis.flatMap((id) => {
        const e = data.emojis[id];
        const native = e?.skins[0]?.native;
        return e && native ? [{ native, name: e.name, terms: [e.id, e.name, ...e.keywords].join(" ").toLowerCase() }] : [];
      }),
    }));
  });
  // A failed load (the network blinked) is tried again next time.
  catalogue.catch(() => (catalogue = null));
  return catalogue;
}

/**
 * Chooses one emoji: quick picks of the recent ones, a search by name or
 * keyword, and every emoji by category (from emoji-mart's maintained data,
 * in the default skin tone).
 */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [categories, setCategories] = useState<PickerCategory[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState("");
  const recent = useMemo(recentEmoji, []);

  useEffect(() => {
    let live = true;
    loadCatalogue().then(
      (c) => live && setCategories(c),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, []);

  const found = useMemo(() => {
    const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0 || !categories) return null;
    return categories.flatMap((c) => c.emoji).filter((e) => words.every((w) => e.terms.includes(w))).slice(0, 120);
  }, [query, categories]);

  const pick = (emoji: string) => {
    rememberEmoji(emoji);
    onPick(emoji);
  };
  const grid = (list: Array<{ native: string; name: string }>, label: string) => (
    <div className="emoji-grid" role="group" aria-label={label}>
      {list.map((e) => (
        <button key={e.native} type="button" className="emoji" title={e.name} aria-label={e.name} onClick={() => pick(e.native)}>
          {e.native}
        </button>
      ))}
    </div>
  );

  return (
    <Dialog title="Add a reaction" onClose={onClose}>
      <div className="emoji-picker">
        <input
          type="search"
          data-autofocus
          aria-label="Search emoji"
          placeholder="Search emoji"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            // Enter takes the first match, as in Slack's picker.
            if (e.key === "Enter" && found?.[0]) {
              e.preventDefault();
              pick(found[0].native);
            }
          }}
        />
        <div className="emoji-scroll">
          {found ? (
            found.length > 0 ? (
              grid(found, "Search results")
            ) : (
              <p className="hint">No emoji match “{query.trim()}”.</p>
            )
          ) : (
            <>
              <h3 className="emoji-heading">Recent</h3>
              {grid(
                recent.map((native) => ({ native, name: native })),
                "Recent",
              )}
              {failed && <p className="form-error">The emoji list could not be loaded; the recent ones still work.</p>}
              {!categories && !failed && <p className="hint">Loading emoji…</p>}
              {categories?.map((c) => (
                <section key={c.id} className="emoji-category">
                  <h3 className="emoji-heading">{CATEGORY_NAMES[c.id] ?? c.id}</h3>
                  {grid(c.emoji, CATEGORY_NAMES[c.id] ?? c.id)}
                </section>
              ))}
            </>
          )}
        </div>
      </div>
    </Dialog>
  );
}
