// Recipes as recipes.ts read them, kept in the prefix's state folder (state/layout.ts's
// recipeCacheFile) so that an unchanged tree is not read again: a recipe folder is taken from the
// cache when the folder (so the names in it) and every entry have the identity they had when it
// was read (inode, size, mtime, ctime, mode; a patches/ folder's files too). A no-op's analysis
// then costs a stat per file instead of reads. Never trusted when in doubt: other code (a rebuilt
// sagebuild), another user, another folder, a file that could not be stat'ed, an entry changed
// within the racy window of its reading, a recipe with problems or one whose tarball depends on
// the interpreter: all are read as before. A damaged file is ignored (and rewritten). Beside
// them, project.ts's expansion of their dependencies and the graph, under a hash of everything
// they were computed from.
import { readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedDeps } from './deps.js';
import type { Recipe } from './recipes.js';
import { changedRecently, readJsonOrNull, statOrNull, writeFileAtomic } from './util/fs.js';

/** inode, size, mtime, ctime, mode: any write, rename, chmod or replacement changes one. */
type Key = [number, number, number, number, number];
/** A recipe folder's identity: the folder's, and each entry's ('dir' for a folder other than patches/). */
interface Snapshot {
  dir: Key;
  entries: Record<string, Key | 'dir'>;
  /** No folder in it: every input of the fingerprint is one of `entries`, followed as the fingerprint follows it. */
  flat: boolean;
}
interface Entry extends Snapshot {
  /** Whether the tree's bootstrap counted it as a Python package (recipes.ts's pythonNames). */
  python: boolean;
  recipe: Recipe;
  /** fingerprint.ts's hashes of the recipe's files (a flat folder only), as of `entries`. */
  inputs?: Record<string, string>;
}
/** project.ts's expansion and graph of the recipes, and the key of what they were computed from. */
export interface Analysis {
  deps: [string, ResolvedDeps][];
  order: string[];
  warnings: string[];
}
interface CacheFile {
  version: 1;
  code: string;
  /** Who reads (user, groups): what may be read depends on it. */
  user: string;
  pkgs: string;
  recipes: Record<string, Entry>;
  analysis?: { key: string } & Analysis;
}


const key = (s: Stats): Key => [s.ino, s.size, s.mtimeMs, s.ctimeMs, s.mode];
const same = (a: Key, b: Key): boolean => a.every((x, i) => x === b[i]);


/**
 * The code that reads recipes: this module's folder (dist/'s bundle and chunks, or src/ with
 * recipes.ts and kinds.ts beside this file), by its files' sizes and times. A rebuilt or edited
 * sagebuild reads every recipe again.
 */
function codeIdentity(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const s = statOrNull(path.join(dir, f));
      return s?.isFile() ? `${f}:${s.size}:${s.mtimeMs}` : '';
    })
    .join('/');
}

export class RecipeCache {
  readonly #file: string;
  readonly #write: boolean;
  readonly #head: Omit<CacheFile, 'recipes'>;
  #recipes: Record<string, Entry> = {};
  #analysis: CacheFile['analysis'];
  #dirty = false;
  /** Recipes whose entry matches their folder in this command (found unchanged, or just read). */
  readonly #current = new Set<string>();

  /** `write`: false on a dry run (read, never written). */
  constructor(file: string, pkgs: string, write: boolean) {
    this.#file = file;
    this.#write = write;
    this.#head = { version: 1, code: codeIdentity(), user: `${process.getuid?.()}:${process.getgid?.()}:${process.getgroups?.().join(',')}`, pkgs };
    const data = readJsonOrNull<CacheFile>(file);
    if (data && data.version === 1 && data.code === this.#head.code && data.user === this.#head.user && data.pkgs === pkgs && data.recipes && typeof data.recipes === 'object') {
      this.#recipes = data.recipes;
      this.#analysis = data.analysis;
    }
    else this.#dirty = true; // none yet, another code's or a damaged one: (re)written
  }

  /** The recipe in `dir` as cached, if the folder is exactly as it was; else null. */
  get(name: string, dir: string, python: boolean): Recipe | null {
    const e = this.#recipes[name];
    if (!e || e.python !== python || !Array.isArray(e.dir)) return null;
    const d = statOrNull(dir);
    if (!d || !same(key(d), e.dir)) return null;
    for (const [rel, k] of Object.entries(e.entries ?? {})) {
      const s = statOrNull(path.join(dir, rel));
      if (!s || (k === 'dir' ? !s.isDirectory() : !Array.isArray(k) || !same(key(s), k))) return null;
    }
    this.#current.add(name);
    return e.recipe;
  }

  /** The folder's identity, taken before it is read (a change while reading then shows next time); null when it cannot be trusted. */
  snapshot(dir: string): Snapshot | null {
    const now = Date.now();
    const racy = (s: Stats) => changedRecently(s, now);
    const d = statOrNull(dir);
    if (!d || racy(d)) return null;
    const entries: Snapshot['entries'] = {};
    let flat = true;
    try {
      for (const name of readdirSync(dir)) {
        const s = statOrNull(path.join(dir, name));
        if (!s || racy(s)) return null;
        if (!s.isDirectory()) {
          entries[name] = key(s);
          continue;
        }
        flat = false;
        if (name !== 'patches') entries[name] = 'dir';
        else {
          // Its files are the recipe's patches.
          entries[name] = key(s);
          for (const f of readdirSync(path.join(dir, name))) {
            const p = statOrNull(path.join(dir, name, f));
            if (!p || racy(p)) return null;
            entries[`${name}/${f}`] = p.isDirectory() ? 'dir' : key(p);
          }
        }
      }
    } catch {
      return null;
    }
    return { dir: key(d), entries, flat };
  }

  put(name: string, snap: Snapshot, python: boolean, recipe: Recipe): void {
    this.#recipes[name] = { ...snap, python, recipe };
    this.#current.add(name);
    this.#dirty = true;
  }

  /** The recipe's input hashes as fingerprint.ts last computed them, if its folder is as it was then. */
  inputsOf(name: string): Record<string, string> | undefined {
    const e = this.#recipes[name];
    return this.#current.has(name) && e?.inputs && typeof e.inputs === 'object' ? e.inputs : undefined;
  }

  /**
   * Kept for a flat folder found unchanged (or read) in this command: a file changed since its
   * identity was taken shows at the next get(). A folder inside (src/, patches/) is walked by
   * the fingerprint's link rules each time.
   */
  keepInputs(name: string, inputs: Record<string, string>): void {
    const e = this.#recipes[name];
    if (!this.#current.has(name) || !e?.flat) return;
    e.inputs = inputs;
    this.#dirty = true;
  }

  /** The analysis computed from inputs of this key, if it was the last one. */
  analysis(key: string): Analysis | null {
    const a = this.#analysis;
    return a?.key === key && Array.isArray(a.deps) && Array.isArray(a.order) && Array.isArray(a.warnings) ? a : null;
  }

  setAnalysis(key: string, a: Analysis): void {
    this.#analysis = { key, ...a };
    this.#dirty = true;
  }

  /** Recipes no longer in the tree are dropped when the cache is written. */
  save(names?: Set<string>): void {
    if (names) for (const n of Object.keys(this.#recipes)) {
      if (!names.has(n)) {
        delete this.#recipes[n];
        this.#dirty = true;
      }
    }
    // Only into a prefix sagebuild has built into (its state folder exists).
    if (!this.#write || !this.#dirty || statOrNull(path.dirname(this.#file)) === null) return;
    try {
      writeFileAtomic(this.#file, JSON.stringify({ ...this.#head, recipes: this.#recipes, analysis: this.#analysis } satisfies CacheFile), { durable: false });
      this.#dirty = false;
    } catch {
      // a cache that cannot be written only costs time
    }
  }
}
