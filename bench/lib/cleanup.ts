/**
 * Everything a run creates (server processes, temp dirs, databases) registers
 * its undo here; it runs on normal exit, on failure and on Ctrl-C / SIGTERM.
 */
type Undo = () => Promise<void> | void;

const undos: Array<{ label: string; undo: Undo }> = [];
let running: Promise<void> | null = null;

/** Registers `undo`; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label: string, undo: Undo): () => Promise<void> {
  const entry = { label, undo };
  undos.push(entry);
  return async () => {
    const i = undos.indexOf(entry);
    if (i < 0) return;
    undos.splice(i, 1);
    await entry.undo();
  };
}

/** Runs every registered undo, newest first; errors are printed, never thrown. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (undos.length > 0) {
      const { label, undo } = undos.pop()!;
      try {
        await undo();
      } catch (err) {
        console.error(`cleanup "${label}" failed:`, err);
      }
    }
  })();
  return running;
}

let installed = false;

/** On SIGINT/SIGTERM: clean up, then exit 130/143. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping servers, removing temp data…`);
      const force = setTimeout(() => process.exit(code), 20_000);
      force.unref();
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}
