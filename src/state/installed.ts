// What is installed: stamps by package, and which package owns each installed file, so a package
// can never silently overwrite another's files. The ownership index re-syncs with the manifests on
// disk each time it is asked (a readdir and a stat per manifest; only changed manifests are
// re-read), so it also sees what another sagebuild process installed meanwhile.
import { statSync } from 'node:fs';
import path from 'node:path';
import { isReserved } from './layout.js';
import { readManifest, scanInstalled, treeOfManifest, type InstalledEntry } from './manifest.js';

interface Known {
  stamp: string; // mtime + size: re-read when it changes
  name: string;
  files: string[];
}

export class InstalledDb {
  readonly trees: string[];
  entries: Map<string, InstalledEntry[]>;
  readonly #known = new Map<string, Known>();
  readonly #owners = new Map<string, string>();

  constructor(trees: string[]) {
    this.trees = [...new Set(trees)];
    this.entries = scanInstalled(this.trees);
  }

  get(name: string): InstalledEntry[] {
    return this.entries.get(name) ?? [];
  }

  /** Absolute installed path -> owning package, as the manifests on disk say now. */
  owners(): Map<string, string> {
    const current = new Map<string, string>(); // manifest file -> package
    for (const list of scanInstalled(this.trees).values()) for (const { name, file } of list) current.set(file, name);
    // Vanished manifests first: forgetting p-1.0 after reading p-2.0 would drop what p-2.0 lists.
    for (const file of [...this.#known.keys()]) if (!current.has(file)) this.#forget(file);
    for (const [file, name] of current) {
      let stamp: string;
      try {
        const st = statSync(file);
        stamp = `${st.mtimeMs}:${st.size}`;
      } catch {
        continue;
      }
      if (this.#known.get(file)?.stamp === stamp) continue;
      this.#forget(file);
      let files: string[] = [];
      try {
        files = readManifest(file).files.map((x) => path.join(treeOfManifest(file), x));
      } catch {
        // a damaged manifest owns nothing we can know about
      }
      this.#known.set(file, { stamp, name, files });
      for (const x of files) this.#owners.set(x, name);
    }
    return this.#owners;
  }

  #forget(file: string): void {
    const k = this.#known.get(file);
    if (!k) return;
    this.#known.delete(file);
    for (const x of k.files) if (this.#owners.get(x) === k.name) this.#owners.delete(x);
    // Another manifest of the same package (an old and a new version) may list the same files.
    for (const o of this.#known.values()) if (o.name === k.name) for (const x of o.files) if (!this.#owners.has(x)) this.#owners.set(x, o.name);
  }

  /**
   * Which of `absFiles` (from `name`'s manifest) must survive removing `name`: files another
   * package's manifest lists too, and sagebuild's own state. A damaged or hand-edited manifest
   * can list them; deleting them would break the other package or the records.
   */
  keepOnRemoval(name: string, absFiles: string[]): Map<string, string> {
    this.owners(); // re-sync #known with the manifests on disk
    const others = new Map<string, string>();
    for (const k of this.#known.values()) if (k.name !== name) for (const f of k.files) others.set(f, k.name);
    const keep = new Map<string, string>();
    for (const f of absFiles) {
      const other = others.get(f);
      if (other) keep.set(f, `listed by ${other}`);
      else if (this.trees.some((t) => isReserved(path.relative(t, f)))) keep.set(f, "sagebuild's own state");
    }
    return keep;
  }

  /** Re-reads every stamp: what earlier actions of the command, or other processes, changed. */
  rescan(): void {
    this.entries = scanInstalled(this.trees);
  }

  /** Re-reads the stamps of one package after it was installed or removed. */
  refresh(name: string): void {
    const fresh = scanInstalled(this.trees).get(name);
    if (fresh) this.entries.set(name, fresh);
    else this.entries.delete(name);
  }
}
