// Builds one package the way Sage's sage-spkg does, made safe: everything is built and installed
// into a staging tree first; only when every step succeeded does install.ts land it in the prefix.
// A per-package lock keeps two sagebuild runs on one prefix out of each other's build directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanPackage } from '../clean.js';
import { LockWaitCanceled } from '../proc/lockedstep.js';
import { processEnv } from '../util/env.js';
import { holdLock } from '../proc/heldlock.js';
import { readManifestOrNull, writeManifest, type PythonDist } from '../state/manifest.js';
import { dropFromWheelCache, takeFromWheelCache } from '../python/wheelcache.js';
import { kindOf } from '../kinds.js';
import type { Recipe } from '../recipes.js';
import type { Reason } from '../reasons.js';
import { isInside } from '../util/paths.js';
import { packageLockFile, scriptsDir, wheelhouseOf } from '../state/layout.js';
import { type BuildContext, type BuildOutcome, StepFailure, pkgId, pkgPaths } from './context.js';
import { buildEnv, type PkgPaths } from './env.js';
import { install, requestedDists } from './install.js';
import { kindBuild } from './kinds.js';
import { runScript } from './scripts.js';
import { prepareSources } from './sources.js';
import { prepareStage, readStage } from './stage.js';

export { type BuildContext, type BuildOutcome, StepFailure, pkgId, pkgPaths, succeeded } from './context.js';

/**
 * With keep_wheels_cache: stages the wheels cached for this exact fingerprint, as the install
 * script would have (wheelhouse + spkg-requirements.txt), so nothing is rebuilt.
 */
function fromWheelCache(ctx: BuildContext, r: Recipe, p: PkgPaths, fingerprint: string): PythonDist[] | null {
  const venv = ctx.project.config.venv;
  prepareStage(p.destdir, p.tree);
  const dists = takeFromWheelCache(venv, r.name, fingerprint, p.destdir + wheelhouseOf(venv));
  if (!dists) {
    prepareStage(p.destdir, p.tree);
    return null;
  }
  const scripts = path.join(scriptsDir(p.destdir + p.tree), r.name);
  mkdirSync(scripts, { recursive: true });
  writeFileSync(path.join(scripts, 'spkg-requirements.txt'), dists.map((d) => `${d.name} @ file://${path.join(wheelhouseOf(venv), d.wheel)}\n`).join(''));
  ctx.bus.emit({ type: 'output', id: pkgId(r), line: `sagebuild: reusing cached wheel(s) ${dists.map((d) => d.wheel).join(', ')}: the fingerprint is unchanged` });
  return dists;
}

/** After waiting for another process: did it install exactly this build meanwhile? */
function builtMeanwhile(ctx: BuildContext, r: Recipe): boolean {
  ctx.db.refresh(r.name);
  const e = ctx.db.get(r.name).find((x) => x.version === r.version);
  return e !== undefined && readManifestOrNull(e.file)?.sagebuild?.fingerprint === ctx.fingerprint(r.name).hash;
}

/** After waiting for another process: a package that became a dummy, did it remove the old install? */
function removedMeanwhile(ctx: BuildContext, r: Recipe): boolean {
  ctx.db.refresh(r.name);
  return ctx.db.get(r.name).length === 0;
}

export async function buildPackage(ctx: BuildContext, name: string, reasons: Reason[]): Promise<BuildOutcome> {
  const { project, bus } = ctx;
  const r = project.recipes.get(name)!;
  const id = pkgId(r);
  const p = pkgPaths(project, r);
  let waited = false;
  const lockFile = packageLockFile(project.config.buildDir, name);
  let lock;
  try {
    lock = await holdLock(lockFile, ctx.signal, (holders) => {
      waited = true;
      bus.emit({ type: 'lock-wait', id, lockFile, mode: 'exclusive', holders: holders ? `another sagebuild building it: ${holders}` : 'another sagebuild building it' });
    });
  } catch (e) {
    // Never a failure without a reason: say which lock could not be taken, and why.
    bus.emit({ type: 'pkg-failed', id, name, error: `cannot take the package's lock ${lockFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, logFile: p.logFile, buildDir: null, canceled: false });
    return 'failed';
  }
  if (!lock) {
    bus.emit({ type: 'pkg-failed', id, name, error: 'interrupted while waiting for another sagebuild process', logFile: p.logFile, buildDir: null, canceled: true });
    return 'interrupted';
  }
  try {
    if (waited && !kindOf(r).installs && removedMeanwhile(ctx, r)) {
      bus.emit({ type: 'info', message: `${id}: its old install was removed meanwhile by another sagebuild process; nothing to do` });
      return 'built-elsewhere';
    }
    if (waited && kindOf(r).installs && !reasons.some((x) => x.kind === 'no-deps') && builtMeanwhile(ctx, r)) {
      bus.emit({ type: 'info', message: `${id}: built meanwhile by another sagebuild process; nothing to do` });
      return 'built-elsewhere';
    }
    return await build(ctx, r, p, reasons);
  } finally {
    await lock.release();
  }
}

/** Off the main thread: rm(1) through the run's trash, else libuv's pool. */
function removeBuildDir(ctx: BuildContext, dir: string): Promise<void> {
  return ctx.trash ? ctx.trash.discard(dir) : rm(dir, { recursive: true, force: true });
}

async function build(ctx: BuildContext, r: Recipe, p: PkgPaths, reasons: Reason[]): Promise<BuildOutcome> {
  const { project, bus } = ctx;
  const id = pkgId(r);
  const started = Date.now();
  bus.emit({ type: 'pkg-start', id, name: r.name, logFile: p.logFile, reasons });
  let keepBuildDir = false;
  try {
    if (!kindOf(r).installs) {
      ctx.db.refresh(r.name);
      await cleanPackage(r.name, ctx.db, bus, project, processEnv(), ctx.signal);
      bus.emit({ type: 'pkg-done', id, name: r.name, ok: true, durationMs: Date.now() - started, removed: true });
      return 'removed';
    }
    if (!isInside(project.config.buildDir, p.buildRoot) || p.buildRoot === project.config.buildDir) {
      throw new StepFailure(`build dir ${p.buildRoot} is not inside ${project.config.buildDir}`);
    }
    await removeBuildDir(ctx, p.buildRoot);
    mkdirSync(p.buildRoot, { recursive: true });
    keepBuildDir = true;
    const check = ctx.check && r.scripts.check !== undefined;
    const builtHere = (pkg: string) => {
      const dep = project.recipes.get(pkg);
      return dep !== undefined && kindOf(dep).installs && !project.system.has(pkg);
    };
    const env = buildEnv(project.config, r, p, ctx.check, ctx.offline, ctx.jobserver?.makeflags, builtHere, project.systemExports);
    Object.assign(env, kindBuild(r).fromInstalled?.(ctx.db, r));
    bus.emit({ type: 'step', id, step: 'prepare' });
    const venv = project.config.venv;
    const fingerprint = ctx.fingerprint(r.name).hash;
    // Checks need the sources, so a package to be checked is really built.
    const cached = r.python && project.config.keepWheelsCache && !check ? fromWheelCache(ctx, r, p, fingerprint) : null;
    if (!cached) {
      await prepareSources(ctx, r, p, env);
      prepareStage(p.destdir, p.tree);
      await runScript(ctx, r, p, env, 'preinst');
      await runScript(ctx, r, p, env, 'build');
      await runScript(ctx, r, p, env, 'install');
    }
    const { entries, outside, notUtf8 } = readStage(p.destdir, p.tree);
    if (notUtf8.length) {
      throw new StepFailure(`the package installed file names that are not UTF-8, which sagebuild cannot merge or record: ${notUtf8.slice(0, 5).join(', ')}${notUtf8.length > 5 ? ', ...' : ''}`);
    }
    if (outside.length) {
      throw new StepFailure(`the package installed outside its tree ${p.tree}: ${outside.slice(0, 5).join(', ')}; install under $SAGE_DESTDIR$SAGE_INST_LOCAL (sdh_make_install does)`);
    }
    const dists = cached ?? requestedDists(r, p, venv, entries);
    if (ctx.signal.aborted) throw new StepFailure('interrupted before installing', true);
    // spkg-postinst runs once the install has landed (merge, pip), before it is recorded: if it
    // fails, the install is rolled back as any other failed step would be.
    const manifest = await install(ctx, r, p, env, entries, dists, () => runScript(ctx, r, p, env, 'postinst'));
    if (cached) dropFromWheelCache(venv, fingerprint);
    if (check) {
      try {
        await runScript(ctx, r, p, env, 'check');
        manifest.test_result = 'passed';
      } catch (e) {
        // An interrupted check proves nothing: leave test_result empty so the next --check reruns it.
        if (!(e instanceof StepFailure && e.canceled)) {
          manifest.test_result = 'failed';
          writeManifest(p.tree, manifest);
        }
        throw e;
      }
      writeManifest(p.tree, manifest);
    } else if (ctx.check) {
      // Checks were asked for but the recipe has none.
      manifest.test_result = 'not available';
      writeManifest(p.tree, manifest);
    }
    await removeBuildDir(ctx, p.buildRoot);
    keepBuildDir = false;
    bus.emit({ type: 'pkg-done', id, name: r.name, ok: true, durationMs: Date.now() - started });
    return 'built';
  } catch (e) {
    const canceled = (e instanceof StepFailure && e.canceled) || e instanceof LockWaitCanceled;
    const message = e instanceof Error ? e.message : String(e);
    // The build dir (sources and the unmerged stage) is kept for inspection, as Sage does.
    bus.emit({ type: 'pkg-failed', id, name: r.name, error: message, logFile: p.logFile, buildDir: keepBuildDir ? p.buildRoot : null, canceled });
    return canceled ? 'interrupted' : 'failed';
  }
}
