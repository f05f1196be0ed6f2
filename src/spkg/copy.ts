// Copying an in-tree src/ into the build directory, asynchronously (a large tree must not stall
// the other packages' builds or a Ctrl-C). Sage builds in-tree sources in place, through chains
// of symlinks (sagemath_objects/src -> ../../../pkgs/sagemath-objects, whose files link into
// ../../src/...): a link that stays inside the tree is copied as a link, a link that leads out of
// it is copied as what it points to, so the copy builds as the original would.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isInside } from '../util/paths.js';

class CopyError extends Error {}

/** Where a symlink at `link` leads, or null when it dangles. */
async function linkTarget(link: string): Promise<string | null> {
  try {
    return await fs.realpath(link);
  } catch {
    return null;
  }
}

/** Copies the tree at `from` (its real location) to `to`, which must not exist. */
export async function copyTree(from: string, to: string, signal: AbortSignal): Promise<void> {
  const root = await fs.realpath(from);
  await copyDir(root, to, root, signal, new Set([root]), true);
}

/** `inTree`: `dir` is inside the copied tree, so links that stay in it can be kept as links. */
async function copyDir(dir: string, to: string, root: string, signal: AbortSignal, open: Set<string>, inTree: boolean): Promise<void> {
  if (signal.aborted) throw new CopyError('interrupted');
  await fs.mkdir(to, { recursive: true });
  const entries = await fs.readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      const src = path.join(dir, e.name);
      const dest = path.join(to, e.name);
      if (e.isSymbolicLink()) {
        const target = await linkTarget(src);
        if (target === null || (inTree && isInside(root, target))) {
          await fs.symlink(await fs.readlink(src), dest); // inside the tree, or dangling as in the original
          return;
        }
        await copyOutside(target, dest, root, signal, open);
      } else if (e.isDirectory()) {
        await copyDir(src, dest, root, signal, open, inTree);
      } else if (e.isFile()) {
        await copyFile(src, dest);
      } else {
        throw new CopyError(`${src} is not a regular file, folder or symlink (a FIFO, socket or device cannot be copied into the build directory)`);
      }
    }),
  );
  const st = await fs.stat(dir);
  await fs.utimes(to, st.atime, st.mtime);
}

/** What a link out of the tree points to, copied as real files. */
async function copyOutside(target: string, dest: string, root: string, signal: AbortSignal, open: Set<string>): Promise<void> {
  const st = await fs.stat(target);
  if (!st.isDirectory()) {
    await copyFile(target, dest);
    return;
  }
  if (open.has(target)) throw new CopyError(`symlink loop: ${target} contains a link back to itself`);
  open.add(target);
  try {
    await copyDir(target, dest, root, signal, open, false);
  } finally {
    open.delete(target);
  }
}

async function copyFile(src: string, dest: string): Promise<void> {
  await fs.copyFile(src, dest);
  const st = await fs.stat(src);
  await fs.chmod(dest, st.mode & 0o7777);
  await fs.utimes(dest, st.atime, st.mtime);
}
