// What is installed: stamps by package, and (read lazily, only when something is merged) which
// package owns each installed file, so a package can never silently overwrite another's files.
import path from 'node:path';
import { readManifest, scanInstalled, treeOfManifest, type InstalledEntry } from './manifest.js';

export class InstalledDb {
  readonly trees: string[];
  entries: Map<string, InstalledEntry[]>;
  #owners: Map<string, string> | null = null;

  constructor(trees: string[]) {
    this.trees = [...new Set(trees)];
    this.entries = scanInstalled(this.trees);
  }

  get(name: string): InstalledEntry[] {
    return this.entries.get(name) ?? [];
  }

  /** Absolute installed path -> owning package. */
  owners(): Map<string, string> {
    if (!this.#owners) {
      this.#owners = new Map();
      for (const [name, list] of this.entries) {
        for (const e of list) {
          let files: string[];
          try {
            files = readManifest(e.file).files;
          } catch {
            continue; // a damaged manifest owns nothing we can know about
          }
          const tree = treeOfManifest(e.file);
          for (const f of files) this.#owners.set(path.join(tree, f), name);
        }
      }
    }
    return this.#owners;
  }

  /** Re-reads the stamps of one package after it was installed or removed. */
  refresh(name: string): void {
    const fresh = scanInstalled(this.trees).get(name);
    if (fresh) this.entries.set(name, fresh);
    else this.entries.delete(name);
  }

  setOwned(name: string, absFiles: string[], removed: string[]): void {
    const owners = this.owners();
    for (const f of removed) if (owners.get(f) === name) owners.delete(f);
    for (const f of absFiles) owners.set(f, name);
  }
}
