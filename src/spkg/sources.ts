// A package's build directory: a copy of its recipe, its sources in src/ (verified tarball
// unpacked, or the in-tree src/ copied), patches applied.
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Recipe } from '../recipes.js';
import { UnsafeArchiveError } from './archive.js';
import { copyTree } from './copy.js';
import { type BuildContext, StepFailure, pkgId } from './context.js';
import { DownloadError, ensureTarball } from './download.js';
import type { PkgPaths } from './env.js';
import { unpack } from './unpack.js';
import { runLogged } from '../proc/spawn.js';

export async function prepareSources(ctx: BuildContext, r: Recipe, p: PkgPaths, env: Record<string, string>): Promise<void> {
  const id = pkgId(r);
  const { config } = ctx.project;
  // A copy of the recipe (symlinks resolved, as Sage's `cp -RLp`) so scripts find patches/ and
  // helper files beside them; in-tree src/ is copied too, so builds never write into pkgs/.
  const srcLink = path.join(r.dir, 'src');
  cpSync(r.dir, p.buildRoot, { recursive: true, dereference: true, preserveTimestamps: true, filter: (f) => f !== srcLink });
  const src = path.join(p.buildRoot, 'src');
  if (r.kind === 'normal' || r.kind === 'wheel') {
    let tarball: string;
    try {
      tarball = (await ensureTarball({ config, bus: ctx.bus, id, signal: ctx.signal, offline: ctx.offline }, r)).file;
    } catch (e) {
      if (e instanceof DownloadError) throw new StepFailure(e.message, ctx.signal.aborted);
      throw e;
    }
    if (r.kind === 'wheel') {
      // Sage copies a wheel to dist/ instead of unpacking it.
      mkdirSync(path.join(p.buildRoot, 'dist'), { recursive: true });
      copyFileSync(tarball, path.join(p.buildRoot, 'dist', path.basename(tarball)));
    } else {
      ctx.bus.emit({ type: 'step', id, step: 'unpack', detail: tarball });
      try {
        const stripped = await unpack(tarball, src);
        if (stripped.length) ctx.bus.emit({ type: 'output', id, line: `sagebuild: dropped set-user/group-ID bits of ${stripped.length} member(s) of ${path.basename(tarball)}: ${stripped.slice(0, 5).join(', ')}${stripped.length > 5 ? ', ...' : ''}` });
      } catch (e) {
        if (e instanceof UnsafeArchiveError) throw new StepFailure(e.message);
        throw new StepFailure(`cannot unpack ${tarball}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } else if (r.src) {
    // Sage links src/ to sources elsewhere (sagelib/src -> ../../../src): copy what it points to.
    try {
      await copyTree(r.src, src, ctx.signal);
    } catch (e) {
      if (ctx.signal.aborted) throw new StepFailure('interrupted while copying src/', true);
      throw new StepFailure(`cannot copy the in-tree sources ${r.src}: ${(e as Error).message}`);
    }
  }
  for (const patch of r.patches) {
    ctx.bus.emit({ type: 'step', id, step: 'patch', detail: path.basename(patch) });
    if (!existsSync(src)) throw new StepFailure(`cannot apply ${patch}: the package has no src/ to patch`);
    const res = await runLogged('patch', ['-p1', '--batch', '--forward', '-i', patch], { cwd: src, env, id, bus: ctx.bus, signal: ctx.signal });
    if (res.canceled) throw new StepFailure('interrupted while patching', true);
    if (res.exitCode !== 0) throw new StepFailure(`patch ${patch} failed to apply (exit code ${res.exitCode})`);
  }
}
