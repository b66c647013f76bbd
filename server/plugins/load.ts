import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SwitchboardPlugin } from "./api";

/** Loads plugins: the given files, or every module in `dir`, sorted by file name. */
export async function loadPlugins(files: string[], dir: string | null): Promise<SwitchboardPlugin[]> {
  const paths =
    files.length > 0
      ? files
      : dir && existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => /\.(m?js|ts)$/.test(f) && !/\.(test|d)\.ts$/.test(f))
            .sort()
            .map((f) => path.join(dir, f))
        : [];
  const plugins: SwitchboardPlugin[] = [];
  for (const file of paths) {
    const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
    const plugin = mod.default as SwitchboardPlugin | undefined;
    if (!plugin || typeof plugin !== "object" || typeof plugin.name !== "string") {
      throw new Error(`${file}: a plugin module must \`export default definePlugin({ name, ... })\``);
    }
    plugins.push(plugin);
  }
  const seen = new Set<string>();
  for (const p of plugins) {
    for (const event of Object.keys(p.events ?? {})) {
      if (seen.has(event)) throw new Error(`plugin ${p.name}: event "${event}" is defined twice`);
      seen.add(event);
    }
  }
  return plugins;
}
