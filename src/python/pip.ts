// pip install / uninstall into SAGE_VENV, always from the persistent wheelhouse and under the pip
// lock (shared for install, exclusive for uninstall), as Sage's sage-pip-install/-uninstall do.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EventBus } from '../events.js';
import type { PythonDist } from '../state/manifest.js';
import { runLocked } from '../proc/lockedstep.js';
import type { PipWorkers } from './pipworker.js';
import type { RunResult } from '../proc/spawn.js';
import { pipLockFile, wheelhouseOf } from '../state/layout.js';
import { readdirOrEmpty } from '../util/fs.js';
import { listWheels, normalizeName, parseWheelFilename } from '../wheelhouse.js';

export interface PipContext {
  venv: string;
  env: Record<string, string>;
  id: string;
  bus: EventBus;
  cwd: string;
  /** Ends a wait for the pip lock (LockWaitCanceled); a pip run that has started always completes. */
  cancel?: AbortSignal;
  /** The build run's pip workers: installs and uninstalls go through them when they can (python/pipworker.ts). */
  workers?: PipWorkers;
}

export class PipError extends Error {}

/** The venv's pip, or, while the venv has none yet (it is made --without-pip), pip run from its stored wheel. */
function pipArgv(venv: string): string[] {
  const python = path.join(venv, 'bin', 'python3');
  if (!existsSync(python)) throw new PipError(`the venv ${venv} has no bin/python3; build python3_venv first (add $(PYTHON) to the package's dependencies)`);
  if (hasPipPackage(venv)) return [python, '-m', 'pip'];
  const pipWheel = listWheels(wheelhouseOf(venv)).find((w) => normalizeName(parseWheelFilename(w)?.dist ?? '') === 'pip');
  if (pipWheel) return [python, path.join(wheelhouseOf(venv), pipWheel, 'pip')];
  throw new PipError(`pip is not installed in the venv ${venv} and no pip wheel is in its wheelhouse; add 'pip' to the package's dependencies`);
}

/**
 * lib/python<X.Y>/site-packages/pip/ exists for the venv's interpreter as pyvenv.cfg names it
 * (cheaper than starting Python to ask). After an interpreter change the old lib/python<X.Y>
 * may still hold a pip that the new interpreter cannot import.
 */
function hasPipPackage(venv: string): boolean {
  const lib = path.join(venv, 'lib');
  let version: string | undefined;
  try {
    version = /^\s*(?:version|version_info)\s*=\s*(\d+\.\d+)/m.exec(readFileSync(path.join(venv, 'pyvenv.cfg'), 'utf8'))?.[1];
  } catch {
    // no pyvenv.cfg: look at any lib/python*
  }
  try {
    const dirs = version ? [`python${version}`] : readdirSync(lib).filter((d) => d.startsWith('python'));
    return dirs.some((d) => existsSync(path.join(lib, d, 'site-packages', 'pip', '__init__.py')));
  } catch {
    return false;
  }
}

const NEVER = new AbortController().signal;

// --isolated: the user's pip configuration (extra indexes, find-links) must not decide what lands in
// the venv; everything comes from the wheelhouse.
const COMMON = ['--isolated', '--disable-pip-version-check', '--no-input'];

/** Installs dists from the wheelhouse (never from a temp path, so pip's records never name a build dir). */
export async function pipInstall(ctx: PipContext, dists: PythonDist[]): Promise<void> {
  if (!dists.length) return;
  const argv = [...pipArgv(ctx.venv), 'install', ...COMMON, '--no-index', '--no-deps', '--no-cache-dir', '--find-links', wheelhouseOf(ctx.venv), ...dists.map((d) => `${d.name}==${d.version}`)];
  const r = await pipStep(ctx, 'shared', argv, 'pip-install', dists);
  if (r.exitCode !== 0) throw new PipError(`pip install of ${dists.map((d) => `${d.name}==${d.version}`).join(' ')} failed (exit code ${r.exitCode})`);
}

/** Uninstalls dists under the exclusive lock; a dist that is not installed is not an error. */
export async function pipUninstall(ctx: PipContext, dists: PythonDist[]): Promise<void> {
  if (!dists.length) return;
  let argv: string[];
  try {
    argv = pipArgv(ctx.venv);
  } catch {
    return; // no python/pip left in the venv: nothing pip could know about
  }
  argv = [...argv, 'uninstall', ...COMMON, '--yes', ...dists.map((d) => d.name)];
  const r = await pipStep(ctx, 'exclusive', argv, 'pip-uninstall', dists);
  if (r.exitCode !== 0) throw new PipError(`pip uninstall of ${dists.map((d) => d.name).join(' ')} failed (exit code ${r.exitCode})`);
}

/**
 * An install or uninstall of `dists` under the pip lock, through the run's pip worker when it can.
 * pip itself changing runs as a process (the worker's pip would be the old one), and the venv's
 * workers go.
 */
async function pipStep(ctx: PipContext, mode: 'shared' | 'exclusive', argv: string[], phase: 'pip-install' | 'pip-uninstall', dists: PythonDist[]): Promise<RunResult> {
  const selfUpdate = dists.some((d) => normalizeName(d.name) === 'pip');
  const r = await timedLocked(ctx, mode, argv, phase, selfUpdate ? undefined : viaWorker(ctx, mode));
  if (selfUpdate) ctx.workers?.forget(argv[0]!);
  return r;
}

/** The step through the run's pip worker, for `python -m pip` (not pip run from its wheel). */
function viaWorker(ctx: PipContext, mode: 'shared' | 'exclusive') {
  const { workers } = ctx;
  if (!workers) return undefined;
  return (argv: string[], handOver: () => void) =>
    argv[1] === '-m' ? workers.run(argv[0]!, argv.slice(3), { cwd: ctx.cwd, env: ctx.env, id: ctx.id, bus: ctx.bus, lockFile: pipLockFile(ctx.venv), mode, onStarted: mode === 'exclusive' ? handOver : undefined }) : Promise.resolve(null);
}

/**
 * Removes what a pip killed mid-uninstall left in the venv's site-packages: the folders it was
 * removing, renamed aside to `~<name without its first letter>` (pip's stash, AdjacentTempDirectory),
 * which pip never removes afterwards (it warns "Ignoring invalid distribution ~..." ever after).
 * Listed first, removed under the exclusive pip lock: a pip still running then has finished (its
 * stash gone) or died (its stash left over too). Returns their names.
 */
export async function removePipStashes(ctx: PipContext): Promise<string[]> {
  const lib = path.join(ctx.venv, 'lib');
  const stashes = readdirOrEmpty(lib)
    .filter((d) => d.startsWith('python'))
    .flatMap((d) => readdirOrEmpty(path.join(lib, d, 'site-packages')).filter((n) => n.startsWith('~')).map((n) => path.join(lib, d, 'site-packages', n)));
  if (!stashes.length) return [];
  const r = await runLocked('exclusive', pipLockFile(ctx.venv), ['rm', '-rf', '--', ...stashes], { cwd: ctx.cwd, env: ctx.env, id: ctx.id, bus: ctx.bus, signal: NEVER }, ctx.cancel);
  if (r.exitCode !== 0) throw new PipError(`could not remove pip's leftover ${stashes.join(', ')} (exit code ${r.exitCode})`);
  return stashes.map((s) => path.basename(s));
}

/**
 * Waits (cancellably, with ctx.cancel) until an install ('shared') or uninstall ('exclusive')
 * could take the pip lock: done before anything changes, so that a Ctrl-C during a long wait
 * finds the prefix untouched.
 */
export async function waitForPip(ctx: PipContext, mode: 'shared' | 'exclusive'): Promise<void> {
  await timedLocked(ctx, mode, null, null);
}

/** runLocked on the pip lock, as phases for --trace: the wait for the lock, then `phase` (the step) once it is taken. */
async function timedLocked(ctx: PipContext, mode: 'shared' | 'exclusive', argv: string[] | null, phase: 'pip-install' | 'pip-uninstall' | null, via?: (argv: string[], handOver: () => void) => Promise<RunResult | null>): Promise<RunResult> {
  const { bus, id } = ctx;
  bus.emit({ type: 'phase', id, phase: 'pip-lock-wait', edge: 'begin', detail: mode });
  let waiting = true;
  const locked = () => {
    if (!waiting) return;
    waiting = false;
    bus.emit({ type: 'phase', id, phase: 'pip-lock-wait', edge: 'end', detail: mode });
    if (phase) bus.emit({ type: 'phase', id, phase, edge: 'begin' });
  };
  try {
    return await runLocked(mode, pipLockFile(ctx.venv), argv, { cwd: ctx.cwd, env: ctx.env, id, bus, signal: NEVER, onLocked: locked, via }, ctx.cancel);
  } finally {
    if (waiting) bus.emit({ type: 'phase', id, phase: 'pip-lock-wait', edge: 'end', detail: mode });
    else if (phase) bus.emit({ type: 'phase', id, phase, edge: 'end' });
  }
}
