// A package's build directory: a copy of its recipe, its sources in src/ (as its kind has them:
// spkg/kinds.ts), patches applied.
import { cpSync, existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { isInside } from '../util/paths.js';
import path from 'node:path';
import type { Recipe } from '../recipes.js';
import { type BuildContext, StepFailure, pkgId } from './context.js';
import type { PkgPaths } from './env.js';
import { kindBuild } from './kinds.js';
import { runLogged } from '../proc/spawn.js';

export async function prepareSources(ctx: BuildContext, r: Recipe, p: PkgPaths, env: Record<string, string>): Promise<void> {
  const id = pkgId(r);
  // A copy of the recipe (symlinks resolved, as Sage's `cp -RLp`) so scripts find patches/ and
  // helper files beside them; an in-tree src/ is the kind's to copy, so builds never write into pkgs/.
  const srcLink = path.join(r.dir, 'src');
  // A link that leads nowhere or in a circle is left out, said so in the log, as Sage's copy
  // does (cp prints "cannot stat" and goes on; Sage 10.10's gfortran/patches leads nowhere).
  const unreadable = (f: string): boolean => {
    try {
      if (statSync(f).isDirectory() && lstatSync(f).isSymbolicLink() && isInside(realpathSync(f), realpathSync(path.dirname(f)))) {
        ctx.bus.emit({ type: 'output', id, line: `sagebuild: warning: not copying ${f} from the recipe: a symlink to a folder that contains it` });
        return true;
      }
      return false;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      ctx.bus.emit({ type: 'output', id, line: `sagebuild: warning: not copying ${f} from the recipe: ${code === 'ELOOP' ? 'a symlink loop' : code === 'ENOENT' ? 'a symlink that leads nowhere' : code}` });
      return true;
    }
  };
  cpSync(r.dir, p.buildRoot, { recursive: true, dereference: true, preserveTimestamps: true, filter: (f) => f !== srcLink && !unreadable(f) });
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
