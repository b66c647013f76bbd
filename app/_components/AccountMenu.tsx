"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { User } from "../../shared/protocol";
import type { SignOutAction } from "../_lib/auth";
import { Avatar } from "./Avatar";
import { ChangePasswordDialog } from "./ChangePasswordDialog";
import { ProfileDialog } from "./ProfileDialog";
import { SignOutEverywhereDialog } from "./SignOutEverywhereDialog";

/**
 * The top bar's account menu, a menu button (WAI-ARIA "menu button" pattern):
 * Enter, Space or ↓ opens it on the first item, ↑ on the last; arrows, Home
 * and End move; Esc closes it and returns to the button; Tab or a click
 * elsewhere closes it.
 */
export function AccountMenu({ me, onSignOut }: { me: User; onSignOut: SignOutAction }) {
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<"profile" | "password" | "everywhere" | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const focusOnOpen = useRef<"first" | "last">("first");

  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];

  useEffect(() => {
    if (!open) return;
    const list = items();
    (focusOnOpen.current === "last" ? list.at(-1) : list[0])?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  function openAt(where: "first" | "last") {
    focusOnOpen.current = where;
    setOpen(true);
  }

  /** Closes the menu and does `action` with focus back on the button (where a dialog returns it when it closes). */
  function choose(action: () => void) {
    setOpen(false);
    button.current?.focus();
    action();
  }

  function onButtonKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    openAt(event.key === "ArrowUp" ? "last" : "first");
  }

  function onMenuKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const list = items();
    const at = list.indexOf(document.activeElement as HTMLElement);
    const move = (i: number) => list[(i + list.length) % list.length]?.focus();
    switch (event.key) {
      case "ArrowDown":
        move(at + 1);
        break;
      case "ArrowUp":
        move(at - 1);
        break;
      case "Home":
        move(0);
        break;
      case "End":
        move(list.length - 1);
        break;
      case "Escape":
        setOpen(false);
        button.current?.focus();
        break;
      case "Tab":
        setOpen(false); // and let focus move on
        return;
      default:
        return;
    }
    event.preventDefault();
  }

  return (
    <div className="account">
      <button
        ref={button}
        id="account-button"
        className="ghost account-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? "account-menu" : undefined}
        title={`Signed in as ${me.username}`}
        onClick={() => (open ? setOpen(false) : openAt("first"))}
        onKeyDown={onButtonKeyDown}
      >
        <Avatar person={me} size={24} />
        <span className="me">{me.displayName}</span>
        <span className="visually-hidden">, account menu</span>
        <span className="caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <ul id="account-menu" ref={menu} className="menu" role="menu" aria-label="Account" onKeyDown={onMenuKeyDown}>
          <li role="none">
            <button role="menuitem" tabIndex={-1} onClick={() => choose(() => setDialog("profile"))}>
              Profile…
            </button>
          </li>
          <li role="none">
            <button role="menuitem" tabIndex={-1} onClick={() => choose(() => setDialog("password"))}>
              Change password…
            </button>
          </li>
          <li role="none">
            <button role="menuitem" tabIndex={-1} onClick={() => choose(() => void onSignOut(false))}>
              Sign out
            </button>
          </li>
          <li role="none">
            <button role="menuitem" tabIndex={-1} onClick={() => choose(() => setDialog("everywhere"))}>
              Sign out everywhere…
            </button>
          </li>
        </ul>
      )}
      {dialog === "profile" && <ProfileDialog onClose={() => setDialog(null)} />}
      {dialog === "password" && <ChangePasswordDialog me={me} onClose={() => setDialog(null)} />}
      {dialog === "everywhere" && <SignOutEverywhereDialog onSignOut={onSignOut} onClose={() => setDialog(null)} />}
    </div>
  );
}
