"use client";

/** Shown when the React app fails: offer a reload and the basic (legacy) page. */
export default function AppError({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="centered" role="alert">
      <h1>Something went wrong</h1>
      <p>
        <button className="primary" onClick={() => reset()}>
          Try again
        </button>
      </p>
      <p className="hint">
        If it keeps happening, use the <a href="/legacy">basic version</a> of Switchboard.
      </p>
    </main>
  );
}
