// A package's build directory: a copy of its recipe, its sources in src/ (as its kind has them:
// spkg/kinds.ts), patches applied.
import { type Stats, chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync, utimesSync } from 'node:fs';
import { isInside } from '../util/paths.js';
import path from 'node:path';
import type { Recipe } from '../recipes.js';
import { type BuildContext, StepFailure, pkgId } from './context.js';
import type { PkgPaths } from './env.js';
import { kindBuild } from './kinds.js';
import { runLogged } from '../proc/spawn.js';

/**
 * `cp -RLp` of a recipe folder into an existing `to`, `skip` left out: files with their mode and
 * times, folders with their mode. A copy of its own rather than cpSync, which stats each file
 * three times more (its options, then ours) for a folder of a few small files per package.
 */
function copyRecipe(dir: string, to: string, skip: string, copyable: (f: string) => Stats | null): void {
  for (const name of readdirSync(dir)) {
    const f = path.join(dir, name);
    const st = f === skip ? null : copyable(f);
    if (!st) continue;
    const dest = path.join(to, name);
    if (st.isDirectory()) {
      mkdirSync(dest);
      copyRecipe(f, dest, skip, copyable);
      chmodSync(dest, st.mode & 0o7777);
    } else {
      copyFileSync(f, dest); // with f's mode
      utimesSync(dest, st.atime, st.mtime);
    }
  }
}

export async function prepareSources(ctx: BuildContext, r: Recipe, p: PkgPaths, env: Record<string, string>): Promise<void> {
  const id = pkgId(r);
  // A copy of the recipe (symlinks resolved, as Sage's `cp -RLp`) so scripts find patches/ and
  // helper files beside them; an in-tree src/ is the kind's to copy, so builds never write into pkgs/.
  const srcLink = path.join(r.dir, 'src');
  // A link that leads nowhere or in a circle is left out, said so in the log, as Sage's copy
  // does (cp prints "cannot stat" and goes on; Sage 10.10's gfortran/patches leads nowhere).
  const warn = (f: string, why: string) => ctx.bus.emit({ type: 'output', id, line: `sagebuild: warning: not copying ${f} from the recipe: ${why}` });
  const copyable = (f: string): Stats | null => {
    try {
      const st = statSync(f);
      if (st.isDirectory() && lstatSync(f).isSymbolicLink() && isInside(realpathSync(f), realpathSync(path.dirname(f)))) {
        warn(f, 'a symlink to a folder that contains it');
        return null;
      }
      if (!st.isDirectory() && !st.isFile()) {
        warn(f, 'not a file or folder');
        return null;
      }
      return st;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      warn(f, code === 'ELOOP' ? 'a symlink loop' : code === 'ENOENT' ? 'a symlink that leads nowhere' : String(code));
      return null;
    }
  };
  copyRecipe(r.dir, p.buildRoot, srcLink, copyable);
  await kindBuild(r).sources(ctx, r, p);
  const src = path.join(p.buildRoot, 'src');
  for (const patch of r.patches) {
    ctx.bus.emit({ type: 'step', id, step: 'patch', detail: path.basename(patch) });
    if (!existsSync(src)) throw new StepFailure(`cannot apply ${patch}: the package has no src/ to patch`);
    const res = await runLogged('patch', ['-p1', '--batch', '--forward', '-i', patch], { cwd: src, env, id, bus: ctx.bus, signal: ctx.signal });
    if (res.canceled) throw new StepFailure('interrupted while patching', true);
    if (res.exitCode !== 0) throw new StepFailure(`patch ${patch} failed to apply (exit code ${res.exitCode})`);
  }
}
