// `<pkg>-clean` / `<pkg>-uninstall`, as Sage's sage-spkg-uninstall does it: the installed
// spkg-prerm (its failure stops everything), spkg-piprm, take the package out of pip's view
// (exclusive pip lock), remove exactly the files its manifest lists (its stored wheel included),
// spkg-postrm, then the hooks and the manifest. Every manifest is validated, and every prerm has
// run, before anything is deleted. A stamp with no file list gets the recipe's
// spkg-legacy-uninstall, when it has one.

import path from 'node:path';
import type { EventBus } from './events.js';
import type { InstalledDb } from './state/installed.js';
import type { Project } from './project.js';
import { checkManifestPaths, pythonDistsOf, readManifest, readManifestOrNull, removeFiles, removeRecord, treeOfManifest, writeManifest } from './state/manifest.js';
import { type HookTarget, removeHooks, runLegacyUninstall, runPrerm, runWarningHook } from './hooks.js';
import { pipUninstall, waitForPip } from './python/pip.js';
import { stillNeeded } from './python/needed.js';
import type { InstalledEntry, PythonDist } from './state/manifest.js';
import { storeInWheelCache } from './python/wheelcache.js';
import { normalizeName, refreshIndex } from './wheelhouse.js';
import { wheelhouseOf } from './state/layout.js';
import { UserError } from './diagnostics.js';
import { writableDirProblem } from './util/fs.js';

/** Some of a package's files could not be removed: its manifest lists those that remain. */
export class CleanIncomplete extends Error {}

export async function cleanPackage(name: string, db: InstalledDb, bus: EventBus, project: Project, env: Record<string, string>, cancel?: AbortSignal): Promise<number> {
  const venv = project.config.venv;
  const entries = db.get(name);
  if (!entries.length) {
    bus.emit({ type: 'clean-done', name, removed: 0, wasInstalled: false });
    return 0;
  }
  const recipe = project.recipes.get(name);
  // A prefix that cannot change (a read-only mount) is a setup problem: found before any
  // uninstall script runs or pip removes anything.
  for (const dir of new Set(entries.map((e) => path.dirname(e.file)))) {
    const problem = writableDirProblem(dir);
    if (problem) throw new UserError({ file: dir, message: `cannot clean ${name}: this folder of installation records cannot change (${problem}); nothing was removed`, hint: 'make the prefix writable (is it mounted read-only?)' });
  }
  const targetOf = (version: string, tree: string): HookTarget => ({ config: project.config, name, version, tree });
  // An old-style stamp (no file list) gets the recipe's spkg-legacy-uninstall; without one,
  // readManifest below refuses the stamp (its files are unknown).
  const legacy = entries.filter((e) => readManifestOrNull(e.file) === null && recipe?.scripts.legacyUninstall);
  const plans = entries
    .filter((e) => !legacy.includes(e))
    .map((e) => {
      const m = readManifest(e.file);
      const tree = treeOfManifest(e.file);
      const listed = checkManifestPaths(e.file, tree, m.files);
      const keep = db.keepOnRemoval(name, listed);
      if (keep.size) {
        const shown = [...keep].slice(0, 5).map(([f, why]) => `${path.relative(tree, f)} (${why})`);
        bus.emit({ type: 'warning', message: `${name}-${e.version}: its manifest ${e.file} lists ${keep.size} file(s) it does not own; they are kept: ${shown.join(', ')}${keep.size > 5 ? ', ...' : ''}` });
      }
      return { entry: e, tree, target: targetOf(e.version, tree), dists: pythonDistsOf(m), fingerprint: m.sagebuild?.fingerprint, abs: listed.filter((f) => !keep.has(f)) };
    });
  // Every pre-uninstall script may still say no: nothing has been removed yet.
  for (const p of plans) await runPrerm(p.target, { bus, signal: cancel });
  for (const e of legacy) {
    await runLegacyUninstall(targetOf(e.version, treeOfManifest(e.file)), recipe, { bus, signal: cancel });
    removeRecord(e.file);
  }
  const wheelhouse = wheelhouseOf(venv);
  await keepNeededDependencies(name, plans, db, bus, venv, wheelhouse, project);
  // A Ctrl-C may end the wait for the pip lock, but only before anything is removed.
  const withDists = plans.find((p) => p.dists.length);
  if (withDists) await waitForPip({ venv, env, id: `${name}-${withDists.entry.version}`, bus, cwd: venv, cancel }, 'exclusive');
  let removed = 0;
  let changed = false;
  for (const p of plans) {
    if (project.config.keepWheelsCache && typeof p.fingerprint === 'string') storeInWheelCache(venv, name, p.fingerprint, p.dists);
    await runWarningHook(p.target, 'piprm', { bus });
    if (p.dists.length) {
      bus.emit({ type: 'step', id: `${name}-${p.entry.version}`, step: 'pip-uninstall', detail: p.dists.map((d) => d.name).join(' ') });
      // Still cancellable if nothing has changed yet (another process took the lock meanwhile).
      await pipUninstall({ venv, env, id: `${name}-${p.entry.version}`, bus, cwd: venv, cancel: changed ? undefined : cancel }, p.dists);
    }
    changed = true;
    const r = removeFiles(p.tree, p.abs);
    removed += r.removed;
    if (r.left.length) {
      // What remains stays owned: the manifest lists it (and no Python distribution: pip has
      // removed them), and the next -clean can finish the job.
      const m = readManifest(p.entry.file);
      m.files = r.left.map((x) => path.relative(p.tree, x.file)).sort();
      m.sagebuild = { ...m.sagebuild!, python_dists: [] };
      writeManifest(p.tree, m);
      db.refresh(name);
      const shown = r.left.slice(0, 5).map((x) => `${x.file} (${x.code})`);
      throw new CleanIncomplete(`removed ${r.removed} file(s), but could not remove ${r.left.length}: ${shown.join(', ')}${r.left.length > 5 ? ', ...' : ''}; its manifest ${p.entry.file} now lists what remains`);
    }
    await runWarningHook(p.target, 'postrm', { bus });
    removeHooks(p.target);
    removeRecord(p.entry.file);
  }
  db.refresh(name);
  if (!plans.length) {
    bus.emit({ type: 'clean-done', name, removed: 0, wasInstalled: true });
    return 0;
  }
  if (plans.some((p) => p.abs.some((f) => path.dirname(f) === wheelhouse))) refreshIndex(wheelhouse, (message) => bus.emit({ type: 'warning', message: `${name}-clean: ${message}` }));
  bus.emit({ type: 'clean-done', name, removed, wasInstalled: true });
  return removed;
}

interface CleanPlan {
  entry: InstalledEntry;
  tree: string;
  dists: PythonDist[];
  abs: string[];
}

/**
 * Dependencies a pip package installed that another installed distribution still needs stay in
 * the venv: they pass, wheel and all, to the package whose distribution needs them (its
 * manifest lists them from then on), so nothing that remains installed breaks.
 */
async function keepNeededDependencies(name: string, plans: CleanPlan[], db: InstalledDb, bus: EventBus, venv: string, wheelhouse: string, project: Project): Promise<void> {
  const leaving = plans.flatMap((p) => p.dists);
  // Other installed pip packages' requirements.txt name what they need: pip found a requirement
  // already installed (by this package) and so recorded nothing of it.
  const requiredBy = new Map<string, string>();
  for (const pkg of db.entries.keys()) {
    const rec = project.recipes.get(pkg);
    if (pkg === name || !rec?.requirements) continue; // only pip packages have requirements
    for (const line of rec.requirements.split('\n')) {
      const req = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.replace(/#.*/, ''))?.[1];
      if (req && !line.trim().startsWith('-')) requiredBy.set(normalizeName(req), pkg);
    }
  }
  const deps = leaving.filter((d) => d.dependency || requiredBy.has(normalizeName(d.name)));
  if (!deps.length) return;
  let needed: Map<string, string>;
  try {
    needed = await stillNeeded(venv, leaving, deps.filter((d) => d.dependency));
  } catch (e) {
    bus.emit({ type: 'warning', message: `${name}-clean: ${(e as Error).message}; its dependencies are removed with it` });
    needed = new Map();
  }
  // Which package's manifest lists each remaining distribution.
  const ownerOf = new Map<string, { file: string; tree: string }>();
  for (const [pkg, list] of db.entries) {
    if (pkg === name) continue;
    for (const e of list) {
      const m = readManifestOrNull(e.file);
      if (m) for (const d of pythonDistsOf(m)) ownerOf.set(normalizeName(d.name), { file: e.file, tree: treeOfManifest(e.file) });
      // A pip package that owns none of its requirements still takes over what they name.
      ownerOf.set(`package:${pkg}`, { file: e.file, tree: treeOfManifest(e.file) });
    }
  }
  for (const [dist, pkg] of requiredBy) if (!needed.has(dist) && leaving.some((d) => normalizeName(d.name) === dist)) needed.set(dist, `package:${pkg}`);
  for (const p of plans) {
    const kept = p.dists.filter((d) => needed.has(normalizeName(d.name)));
    for (const d of kept) {
      const needer = needed.get(normalizeName(d.name))!;
      const by = needer.startsWith('package:') ? `the requirements of ${needer.slice(8)}` : needer;
      const needs = needer.startsWith('package:') ? 'need' : 'needs';
      const wheel = path.join(wheelhouse, d.wheel);
      p.dists = p.dists.filter((x) => x !== d);
      p.abs = p.abs.filter((f) => f !== wheel);
      const owner = ownerOf.get(needer.startsWith('package:') ? needer : normalizeName(needer));
      const m = owner && readManifestOrNull(owner.file);
      if (!owner || !m) {
        bus.emit({ type: 'warning', message: `${name}-clean: kept ${d.name} ${d.version} in the venv: ${by} ${needs} it, and no package's manifest lists ${by}` });
        continue;
      }
      m.files = [...new Set([...m.files, path.relative(owner.tree, wheel)])].sort();
      m.sagebuild = { ...m.sagebuild!, python_dists: [...pythonDistsOf(m), { ...d, dependency: true }] };
      writeManifest(owner.tree, m);
      bus.emit({ type: 'info', message: `${name}-clean: kept ${d.name} ${d.version}: ${by} ${needs} it; ${m.package_name} owns it now` });
    }
  }
}
