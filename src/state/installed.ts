// What is installed: stamps by package, and which package owns each installed file, so a package
// can never silently overwrite another's files. Read in full once per command; then kept in step
// with the disk through each tree's record-changes log (manifest.ts's noteRecordChange: every
// sagebuild process appends the records it writes or removes), so an install re-reads only the
// records that changed, here or in another sagebuild process, not all of them: the work per
// install does not grow with what is installed. A log that was replaced (rotated, or removed
// when it could not be written) or shrank means a full re-scan.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { isReserved, recordChangesFile } from './layout.js';
import { entryOf, readManifest, scanInstalled, treeOfManifest, type InstalledEntry } from './manifest.js';

interface Known {
  stamp: string; // mtime + size: re-read when it changes
  name: string;
  files: string[];
}

/** Where a reader is in a tree's log: the file (by inode) and how far it has read. */
interface LogPos {
  ino: number;
  offset: number;
}

function logPos(tree: string): LogPos {
  try {
    const st = statSync(recordChangesFile(tree));
    return { ino: st.ino, offset: st.size };
  } catch {
    return { ino: 0, offset: 0 };
  }
}

export class InstalledDb {
  readonly trees: string[];
  entries: Map<string, InstalledEntry[]>;
  readonly #known = new Map<string, Known>();
  readonly #owners = new Map<string, string>();
  readonly #logs = new Map<string, LogPos>();
  /** The ownership index has been built (owners() was asked once). */
  #indexed = false;

  constructor(trees: string[]) {
    this.trees = [...new Set(trees)];
    // The log's position first: a change made during the scan is then read again, harmlessly.
    for (const t of this.trees) this.#logs.set(t, logPos(t));
    this.entries = scanInstalled(this.trees);
  }

  get(name: string): InstalledEntry[] {
    return this.entries.get(name) ?? [];
  }

  /** Absolute installed path -> owning package, as the manifests on disk say now. */
  owners(): Map<string, string> {
    if (!this.#indexed) {
      this.#indexed = true;
      this.#fullSync();
    } else this.#follow();
    return this.#owners;
  }

  /** Every record read (or its stamp checked): at first, and when a log cannot be followed. */
  #fullSync(): void {
    for (const t of this.trees) this.#logs.set(t, logPos(t));
    this.entries = scanInstalled(this.trees);
    const current = new Set<string>();
    for (const list of this.entries.values()) for (const { file } of list) current.add(file);
    // Vanished manifests first: forgetting p-1.0 after reading p-2.0 would drop what p-2.0 lists.
    for (const file of [...this.#known.keys()]) if (!current.has(file)) this.#forget(file);
    for (const file of current) this.#reread(file);
  }

  /** The records the logs name since last time; false if a log cannot be followed (then a full sync). */
  #follow(): void {
    const changed: string[] = [];
    for (const t of this.trees) {
      const pos = this.#logs.get(t)!;
      const now = logPos(t);
      // No log (never written, or removed by a writer that could not append): nothing to follow.
      if (!now.ino || now.ino !== pos.ino || now.offset < pos.offset) return this.#fullSync();
      if (now.offset === pos.offset) continue;
      const buf = Buffer.alloc(now.offset - pos.offset);
      let fd: number;
      try {
        fd = openSync(recordChangesFile(t), 'r');
      } catch {
        return this.#fullSync();
      }
      try {
        readSync(fd, buf, 0, buf.length, pos.offset);
      } finally {
        closeSync(fd);
      }
      // Only whole lines: a line being appended is read next time.
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      pos.offset += Buffer.byteLength(text.slice(0, end));
      changed.push(...text.slice(0, end).split('\n').filter(Boolean));
    }
    const files = [...new Set(changed)].filter((f) => this.trees.includes(treeOfManifest(f)));
    for (const f of files) this.#forget(f);
    for (const f of files) {
      this.#updateEntry(f);
      this.#reread(f);
    }
  }

  /** entries: the record `file` as it is on disk now (there or gone). */
  #updateEntry(file: string): void {
    const e = entryOf(file);
    if (!e) return;
    let exists = true;
    try {
      statSync(file);
    } catch {
      exists = false;
    }
    const list = (this.entries.get(e.name) ?? []).filter((x) => x.file !== file);
    if (exists) list.push(e);
    if (list.length) this.entries.set(e.name, list);
    else this.entries.delete(e.name);
  }

  /** Reads one record into the ownership index, unless its stamp is unchanged. */
  #reread(file: string): void {
    const name = entryOf(file)?.name;
    if (!name) return;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      this.#forget(file);
      return;
    }
    if (this.#known.get(file)?.stamp === stamp) return;
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
    this.owners(); // in step with the manifests on disk
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
    if (this.#indexed) this.#fullSync();
    else {
      for (const t of this.trees) this.#logs.set(t, logPos(t));
      this.entries = scanInstalled(this.trees);
    }
  }

  /**
   * In step again after `name` was installed or removed (here, or by another process): the logs
   * followed, and `name`'s own records checked on disk (a tool that keeps no log, such as
   * Sage's, may have removed them).
   */
  refresh(name: string): void {
    if (!this.#indexed) {
      // No index to keep in step yet: the stamps alone, as a scan finds them.
      const fresh = scanInstalled(this.trees).get(name);
      if (fresh) this.entries.set(name, fresh);
      else this.entries.delete(name);
      return;
    }
    this.#follow();
    for (const e of [...this.get(name)]) this.#updateEntry(e.file);
  }
}
