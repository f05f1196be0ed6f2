// `<pkg>-clean` / `<pkg>-uninstall`: remove exactly the files a package's manifest lists, then
// the manifest. Every manifest is validated before anything is deleted.
import type { EventBus } from './events.js';
import type { InstalledDb } from './installed.js';
import { checkManifestPaths, readManifest, removeFiles } from './manifest.js';
import { rmSync } from 'node:fs';
import path from 'node:path';

export interface CleanHooks {
  /** Runs before files are removed (e.g. `pip uninstall` of a Python package). */
  beforeRemove?: (name: string, tree: string, files: string[]) => Promise<void>;
}

export async function cleanPackage(name: string, db: InstalledDb, bus: EventBus, hooks: CleanHooks = {}): Promise<number> {
  const entries = db.get(name);
  if (!entries.length) {
    bus.emit({ type: 'clean-done', name, removed: 0, wasInstalled: false });
    return 0;
  }
  const plans = entries.map((e) => {
    const m = readManifest(e.file);
    const tree = treeOfManifest(e.file);
    return { entry: e, tree, files: m.files, abs: checkManifestPaths(e.file, tree, m.files) };
  });
  let removed = 0;
  for (const p of plans) {
    await hooks.beforeRemove?.(name, p.tree, p.files);
    removed += removeFiles(p.tree, p.abs);
    rmSync(p.entry.file, { force: true });
  }
  db.refresh(name);
  db.setOwned(name, [], plans.flatMap((p) => p.abs));
  bus.emit({ type: 'clean-done', name, removed, wasInstalled: true });
  return removed;
}

/** <tree>/var/lib/sage/installed/<pkg>-<ver> -> <tree>. The manifest's location, not its content, decides. */
export function treeOfManifest(file: string): string {
  return path.resolve(path.dirname(file), '../../../..');
}
