"use client";

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type PointerEvent } from "react";
import { useChat, useStore } from "../_lib/use-chat";
import { Avatar } from "./Avatar";
import { Dialog, errorText } from "./Dialog";

/** Side of the square in which a new picture is framed, in CSS pixels. */
const FRAME = 240;

/**
 * My profile: my picture (a new one framed in a square: drag it, zoom it;
 * or back to initials) and my display name. Everyone who shares a room with
 * me sees a change at once.
 */
export function ProfileDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const me = useChat((s) => s.me);
  const [name, setName] = useState(me.displayName);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);

  async function run(what: string, task: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      await task();
      setSaved(what);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function saveName(event: FormEvent) {
    event.preventDefault();
    void run("Name saved.", () => store.updateProfile(name));
  }

  return (
    <Dialog title="Profile" onClose={onClose}>
      <div className="stack profile">
        {file ? (
          <Framer
            file={file}
            busy={busy}
            onCancel={() => setFile(null)}
            onSave={(crop) =>
              void run("Picture saved.", async () => {
                await store.setAvatar(file, crop);
                setFile(null);
              })
            }
          />
        ) : (
          <div className="row">
            <Avatar person={me} size={72} />
            <button type="button" onClick={() => picker.current?.click()}>
              {me.avatar ? "Change picture…" : "Add a picture…"}
            </button>
            {me.avatar && (
              <button type="button" className="ghost" disabled={busy} onClick={() => void run("Picture removed.", () => store.clearAvatar())}>
                Remove picture
              </button>
            )}
          </div>
        )}
        <input
          ref={picker}
          type="file"
          accept="image/jpeg,image/png,image/gif,image/webp,image/avif"
          hidden
          aria-label="Picture file"
          onChange={(e) => {
            const chosen = e.target.files?.[0];
            e.target.value = "";
            if (chosen) setFile(chosen);
          }}
        />
        <form className="row" onSubmit={saveName}>
          <label htmlFor="profile-name">Display name</label>
          <input id="profile-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} data-autofocus />
          <button type="submit" className="primary" disabled={busy || name.trim() === "" || name.trim() === me.displayName}>
            Save
          </button>
        </form>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {saved && (
          <p className="hint flush" role="status">
            {saved}
          </p>
        )}
      </div>
    </Dialog>
  );
}

/**
 * Frames a picture in a square: drag (or arrow keys) to move it, the slider
 * (or +/−) to zoom. Says which square of the upright picture to keep, in its
 * pixels — the browser shows pictures upright, as the server cuts them.
 */
function Framer({ file, busy, onSave, onCancel }: { file: File; busy: boolean; onSave: (crop: { x: number; y: number; size: number }) => void; onCancel: () => void }) {
  const [url, setUrl] = useState<string | null>(null);
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const [zoom, setZoom] = useState(1);
  const [offset, setOffset] = useState({ x: 0, y: 0 });
  const [failed, setFailed] = useState(false);
  const drag = useRef<{ x: number; y: number; from: { x: number; y: number } } | null>(null);

  useEffect(() => {
    const made = URL.createObjectURL(file);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [file]);

  const scale = natural ? (FRAME / Math.min(natural.w, natural.h)) * zoom : 1;
  /** Keeps the picture covering the frame. */
  const clamp = (o: { x: number; y: number }, s = scale) =>
    natural ? { x: Math.min(0, Math.max(FRAME - natural.w * s, o.x)), y: Math.min(0, Math.max(FRAME - natural.h * s, o.y)) } : o;

  function zoomTo(next: number) {
    const z = Math.min(4, Math.max(1, next));
    if (!natural) return setZoom(z);
    // Zoom about the frame's centre.
    const s = (FRAME / Math.min(natural.w, natural.h)) * z;
    const cx = (FRAME / 2 - offset.x) / scale;
    const cy = (FRAME / 2 - offset.y) / scale;
    setZoom(z);
    setOffset(clamp({ x: FRAME / 2 - cx * s, y: FRAME / 2 - cy * s }, s));
  }

  function onKey(event: KeyboardEvent) {
    const step = 10;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      const [dx, dy] = moves[event.key]!;
      setOffset((o) => clamp({ x: o.x + dx, y: o.y + dy }));
    } else if (event.key === "+" || event.key === "=") zoomTo(zoom + 0.25);
    else if (event.key === "-") zoomTo(zoom - 0.25);
  }

  function crop() {
    const size = Math.floor(FRAME / scale);
    const fit = (v: number, max: number) => Math.min(Math.max(0, Math.round(v)), max - size);
    return { x: fit(-offset.x / scale, natural!.w), y: fit(-offset.y / scale, natural!.h), size };
  }

  return (
    <div className="stack framer">
      <div
        className="frame"
        role="application"
        aria-label="Picture framing: drag or use the arrow keys to move it, + and − to zoom"
        tabIndex={0}
        style={{ width: FRAME, height: FRAME }}
        onKeyDown={onKey}
        onPointerDown={(e: PointerEvent<HTMLDivElement>) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          drag.current = { x: e.clientX, y: e.clientY, from: offset };
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d) setOffset(clamp({ x: d.from.x + e.clientX - d.x, y: d.from.y + e.clientY - d.y }));
        }}
        onPointerUp={() => (drag.current = null)}
      >
        {url && (
          <img
            src={url}
            alt="The new picture"
            draggable={false}
            onLoad={(e) => {
              const img = e.currentTarget;
              const n = { w: img.naturalWidth, h: img.naturalHeight };
              const s = FRAME / Math.min(n.w, n.h);
              setNatural(n);
              setOffset({ x: (FRAME - n.w * s) / 2, y: (FRAME - n.h * s) / 2 });
            }}
            onError={() => setFailed(true)}
            style={natural ? { width: natural.w * scale, height: natural.h * scale, transform: `translate(${offset.x}px, ${offset.y}px)` } : { visibility: "hidden" }}
          />
        )}
      </div>
      {failed && (
        <p className="form-error" role="alert">
          This file is not a picture the browser can show.
        </p>
      )}
      <label className="row">
        Zoom
        <input type="range" min={1} max={4} step={0.05} value={zoom} onChange={(e) => zoomTo(Number(e.target.value))} />
      </label>
      <div className="row end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={busy || !natural || failed} onClick={() => onSave(crop())}>
          Save picture
        </button>
      </div>
    </div>
  );
}
