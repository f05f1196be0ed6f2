// One rule for walking an in-tree source folder, used both to fingerprint it (fingerprint.ts) and
// to copy it into the build directory (spkg/copy.ts), so that what is hashed is what is built.
// Sage builds in-tree sources in place through chains of symlinks (sagemath_objects/src ->
// ../../../pkgs/sagemath-objects, whose files link into ../../src/...): a link that stays inside
// the tree (or dangles) is kept as a link; a link that leads out of it stands for what it points
// to. Anything that is not a file, a folder or a link (a FIFO, a device, a socket) is refused:
// reading one would block or never end.
import type { Stats } from 'node:fs';
import path from 'node:path';
import { isInside } from './paths.js';

export type Entry =
  /** Keep as a symlink with this text. */
  | { is: 'link' }
  | { is: 'file'; path: string }
  /** `inTree`: still inside the walked tree (links in it may stay links). */
  | { is: 'dir'; path: string; inTree: boolean }
  | { is: 'refused'; why: string };

/** Where a walk is: the real root of the tree, whether this folder is inside it, the folders followed through links so far. */
export interface WalkContext {
  root: string;
  inTree: boolean;
  open: Set<string>;
}

/**
 * Decides what the entry at `abs` is. `st` is its lstat; for a link, `real` is where it leads
 * (null when it dangles) and `target` the stat of that.
 */
export function classify(abs: string, st: Stats, real: string | null, target: Stats | null, at: WalkContext): Entry {
  if (!st.isSymbolicLink()) {
    if (st.isDirectory()) return { is: 'dir', path: abs, inTree: at.inTree };
    if (st.isFile()) return { is: 'file', path: abs };
    return { is: 'refused', why: `${abs} is not a regular file, folder or symlink (a FIFO, socket or device cannot be a build input)` };
  }
  if (real === null || target === null || (at.inTree && isInside(at.root, real))) return { is: 'link' };
  if (target.isFile()) return { is: 'file', path: real };
  if (!target.isDirectory()) return { is: 'refused', why: `${abs} leads to ${real}, which is not a regular file or folder (a FIFO, socket or device cannot be a build input)` };
  // A folder that holds the link (or the tree) would be walked forever; `abs`'s folder is a real path.
  if (at.open.has(real) || isInside(real, at.root) || isInside(real, path.dirname(abs))) return { is: 'refused', why: `symlink loop: ${abs} leads to ${real}, which contains the link itself` };
  return { is: 'dir', path: real, inTree: false };
}

/** The permission bits a build input keeps: set-user-ID, set-group-ID and sticky bits are dropped. */
export function keptMode(mode: number): number {
  return mode & ~0o7000;
}
