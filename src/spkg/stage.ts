// The staging tree (SAGE_DESTDIR): preparing it, listing what a package installed, and merging it
// into the prefix. The merge is synchronous on purpose: a signal handler cannot run in the middle
// of it, so Ctrl-C never leaves half a package in the prefix.
import { copyFileSync, chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';

export interface StagedEntry {
  rel: string;
  kind: 'file' | 'symlink' | 'dir';
}

export function prepareStage(destdir: string, tree: string): void {
  rmSync(destdir, { recursive: true, force: true });
  const local = destdir + tree;
  mkdirSync(path.join(local, 'lib'), { recursive: true });
  // Sage makes lib64 -> lib so that installers that pick lib64 still land in lib.
  symlinkSync('lib', path.join(local, 'lib64'));
}

/**
 * Cleans Sage's staging artifacts and lists the staged tree. `outside` lists anything the
 * recipe installed under SAGE_DESTDIR but outside SAGE_DESTDIR$SAGE_INST_LOCAL.
 */
export function readStage(destdir: string, tree: string): { entries: StagedEntry[]; outside: string[]; notUtf8: string[] } {
  const local = destdir + tree;
  try {
    if (lstatSync(path.join(local, 'lib64')).isSymbolicLink()) unlinkSync(path.join(local, 'lib64'));
  } catch {
    // no lib64
  }
  try {
    for (const f of readdirSync(path.join(local, 'lib'))) if (f.endsWith('.la')) unlinkSync(path.join(local, 'lib', f));
  } catch {
    // no lib
  }
  const outside: string[] = [];
  // Walk from destdir down the chain of folders leading to the staged tree.
  const chain = path.relative(destdir, local).split(path.sep);
  let dir = destdir;
  for (const part of chain) {
    for (const e of safeReaddir(dir)) if (e !== part) outside.push(path.join(dir, e));
    dir = path.join(dir, part);
  }
  const entries: StagedEntry[] = [];
  const notUtf8: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of utf8Names(abs, notUtf8).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(a);
      if (st.isSymbolicLink()) entries.push({ rel: r, kind: 'symlink' });
      else if (st.isDirectory()) {
        entries.push({ rel: r, kind: 'dir' });
        walk(a, r);
      } else entries.push({ rel: r, kind: 'file' });
    }
  };
  walk(local, '');
  return { entries, outside, notUtf8 };
}

/**
 * The names in a folder that are valid UTF-8; the others go to `bad`, shown with \xNN escapes.
 * Node's string paths cannot name them (a decoded name opens another file, or none), and
 * manifests are JSON text: such a file could be neither merged nor recorded faithfully.
 */
function utf8Names(d: string, bad: string[]): string[] {
  let raw: Buffer[];
  try {
    raw = readdirSync(d, { encoding: 'buffer' });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const b of raw) {
    const s = b.toString('utf8');
    if (Buffer.from(s, 'utf8').equals(b)) out.push(s);
    else bad.push(path.join(d, [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('')));
  }
  return out;
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** The files and symlinks of a stage, sorted: what the manifest records. */
export function manifestFiles(entries: StagedEntry[]): string[] {
  return entries.filter((e) => e.kind !== 'dir').map((e) => e.rel).sort();
}

/** lstat that answers null for a missing path. */
function lstatOr(p: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** Every file and symlink below `dir` (recursively). */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const name of safeReaddir(dir)) {
    const p = path.join(dir, name);
    if (lstatOr(p)?.isDirectory()) out.push(...filesBelow(p));
    else out.push(p);
  }
  return out;
}

/**
 * Reasons the stage cannot be merged as it is: a destination whose type does not fit (a directory
 * where a file goes or the reverse), or a destination reached through a symlink in the prefix,
 * which could lead outside the prefix or into another package's files. Paths in `removing` (the
 * package's old version) do not count, nor do directories holding nothing else.
 */
export function mergeConflicts(entries: StagedEntry[], tree: string, removing: Set<string>): string[] {
  const out: string[] = [];
  const linkOf = new Map<string, boolean>();
  const isLink = (p: string) => {
    let v = linkOf.get(p);
    if (v === undefined) {
      v = !removing.has(p) && lstatOr(p)?.isSymbolicLink() === true;
      linkOf.set(p, v);
    }
    return v;
  };
  // The first symlink on the way to a folder, by its relative path: each folder asks its parent
  // once (memoised), so a deep tree costs depth, not depth squared, per entry.
  const throughOf = new Map<string, string | null>([['', null]]);
  const through = (relDir: string): string | null => {
    const hit = throughOf.get(relDir);
    if (hit !== undefined) return hit;
    const chain: string[] = [];
    let d = relDir;
    while (!throughOf.has(d)) {
      chain.push(d);
      const cut = d.lastIndexOf('/');
      d = cut < 0 ? '' : d.slice(0, cut);
    }
    let v = throughOf.get(d)!;
    for (const c of chain.reverse()) {
      if (v === null) {
        const abs = path.join(tree, c);
        if (isLink(abs)) v = abs;
      }
      throughOf.set(c, v);
    }
    return v;
  };
  for (const e of entries) {
    const dest = path.join(tree, e.rel);
    const cut = e.rel.lastIndexOf('/');
    const via = through(cut < 0 ? '' : e.rel.slice(0, cut));
    if (via) {
      out.push(`${dest} (would be written through the symlink ${via})`);
      continue;
    }
    if (removing.has(dest)) continue;
    const st = lstatOr(dest);
    if (!st) continue;
    if (e.kind === 'dir') {
      if (!st.isDirectory()) out.push(`${dest} (a ${st.isSymbolicLink() ? 'symlink' : 'file'} is in the way of the staged directory)`);
    } else if (st.isDirectory() && !filesBelow(dest).every((f) => removing.has(f))) {
      out.push(`${dest} (a directory is in the way of the staged ${e.kind})`);
    }
  }
  return out;
}

/** rename, or copy and delete across file systems; symlinks are moved as links. */
export function moveFile(src: string, dest: string): void {
  try {
    renameSync(src, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyAcross(src, dest, lstatSync(src).isSymbolicLink() ? 'symlink' : 'file');
    rmSync(src, { force: true });
  }
}

/** A copy of a file or symlink that keeps the original in place: a hard link where possible. */
export function preserveCopy(src: string, dest: string): void {
  if (lstatSync(src).isSymbolicLink()) {
    copyAcross(src, dest, 'symlink');
    return;
  }
  try {
    linkSync(src, dest);
  } catch {
    copyAcross(src, dest, 'file');
  }
}

/**
 * Moves the staged entries into the tree; on error, removes what it had placed, and the folders
 * it made, and rethrows. `midway` is called once, half-way (the crash-point tests use it).
 */
export function mergeStage(local: string, tree: string, entries: StagedEntry[], midway?: () => void): void {
  const placed: string[] = [];
  const made: string[] = [];
  const half = Math.floor(entries.length / 2);
  try {
    for (const [i, e] of entries.entries()) {
      if (i === half) midway?.();
      const src = path.join(local, e.rel);
      const dest = path.join(tree, e.rel);
      if (e.kind === 'dir') {
        const first = mkdirSync(dest, { recursive: true });
        if (first) for (let d = dest; d.length >= first.length; d = path.dirname(d)) made.push(d);
        continue;
      }
      moveFile(src, dest);
      placed.push(dest);
    }
  } catch (err) {
    for (const p of placed) rmSync(p, { force: true });
    for (const d of made.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        // not empty
      }
    }
    throw err;
  }
}

function copyAcross(src: string, dest: string, kind: 'file' | 'symlink'): void {
  rmSync(dest, { force: true });
  if (kind === 'symlink') {
    symlinkSync(readlinkSync(src), dest);
    return;
  }
  const st = statSync(src);
  copyFileSync(src, dest);
  chmodSync(dest, st.mode & 0o7777);
  utimesSync(dest, st.atime, st.mtime);
}
