// Copying an in-tree src/ into the build directory, asynchronously (a large tree must not stall
// the other packages' builds or a Ctrl-C), by util/linkpolicy.ts's rule (the one fingerprints
// hash by): links inside the tree stay links, links out of it are copied as what they lead to.
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { classify, keptMode, type WalkContext } from '../util/linkpolicy.js';

class CopyError extends Error {}

/** Where a symlink at `link` leads, and what is there, or nulls when it dangles. */
async function follow(link: string): Promise<[string | null, Stats | null]> {
  try {
    const real = await fs.realpath(link);
    return [real, await fs.stat(real)];
  } catch {
    return [null, null];
  }
}

/** Copies the tree at `from` (its real location) to `to`, which must not exist. */
export async function copyTree(from: string, to: string, signal: AbortSignal): Promise<void> {
  const root = await fs.realpath(from);
  await copyDir(root, to, signal, { root, inTree: true, open: new Set([root]) });
}

async function copyDir(dir: string, to: string, signal: AbortSignal, at: WalkContext): Promise<void> {
  if (signal.aborted) throw new CopyError('interrupted');
  await fs.mkdir(to, { recursive: true });
  const entries = await fs.readdir(dir);
  await Promise.all(
    entries.map(async (name) => {
      const src = path.join(dir, name);
      const dest = path.join(to, name);
      const st = await fs.lstat(src);
      const [real, target] = st.isSymbolicLink() ? await follow(src) : [null, null];
      const e = classify(src, st, real, target, at);
      if (e.is === 'link') await fs.symlink(await fs.readlink(src), dest); // inside the tree, or dangling as in the original
      else if (e.is === 'file') await copyFile(e.path, dest);
      else if (e.is === 'refused') throw new CopyError(e.why);
      else if (e.path === src) await copyDir(src, dest, signal, at.inTree === e.inTree ? at : { ...at, inTree: e.inTree });
      else {
        // Followed out of the tree: its contents are copied as real files. `open` is shared by
        // the concurrent walks, so a link is a loop only if one of its own ancestors holds it.
        const open = new Set(at.open).add(e.path);
        await copyDir(e.path, dest, signal, { ...at, inTree: e.inTree, open });
      }
    }),
  );
  const st = await fs.stat(dir);
  await fs.utimes(to, st.atime, st.mtime);
}

async function copyFile(src: string, dest: string): Promise<void> {
  await fs.copyFile(src, dest);
  const st = await fs.stat(src);
  await fs.chmod(dest, keptMode(st.mode & 0o7777));
  await fs.utimes(dest, st.atime, st.mtime);
}
