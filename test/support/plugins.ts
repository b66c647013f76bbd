/** Plugins written by a test: modules inside the repository (so they can import the plugin API), removed afterwards. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export interface TestPlugins {
  /** Writes a plugin module (its source imports `../../server/plugins/api`) and returns its path. */
  write(name: string, source: string): string;
  remove(): void;
}

export function testPlugins(): TestPlugins {
  const dir = mkdtempSync(path.join(root, "test", ".tmp-plugins-"));
  return {
    write(name, source) {
      const file = path.join(dir, `${name}.ts`);
      writeFileSync(file, source);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
