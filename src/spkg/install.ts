// Landing a successful build in the prefix, as a transaction journaled in state/journal.ts.
// Nothing is lost if any step fails, nor if the process dies: the old version's files are moved
// aside (not deleted) and its Python dists reinstalled if the new version cannot be merged,
// pip-installed or recorded; the new manifest, written atomically at the very end, is the commit.
// A run killed mid-install leaves its journal record, which the next command replays
// (spkg/recover.ts).
import { inPhase } from '../events.js';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hashInputs, type FingerprintInputs } from '../fingerprint.js';
import { checkManifestPaths, manifestPath, newManifest, pruneEmptyParents, pythonDistsOf, readManifestOrNull, removeRecord, treeOfManifest, writeManifestAsync, type Manifest, type PythonDist } from '../state/manifest.js';
import { pipInstall, pipUninstall, waitForPip } from '../python/pip.js';
import { kindOf } from '../kinds.js';
import type { Recipe } from '../recipes.js';
import { holdLock } from '../proc/heldlock.js';
import { HookFailed, type HookTarget, installHooks, removeHooks, runLegacyUninstall, runPrerm, runWarningHook, scriptsDirOf } from '../hooks.js';
import { LockWaitCanceled, describeHolders } from '../proc/lockedstep.js';
import { dropClaim, liveClaims, writeClaim } from '../state/claims.js';
import { backupDir, isReserved, journalDir, treeLockFile, wheelhouseOf } from '../state/layout.js';
import { beginRecord, endRecord, markStep, rewriteRecord, type HandOver, type InstallIntent, type JournalRecord } from '../state/journal.js';
import { crashPoint } from '../util/crashpoint.js';
import { processStart } from '../util/proc.js';
import { lexists } from '../util/fs.js';
import { dropBackups, handOver, leftAfterRollBack, rollBackFiles, rollBackPip, saveHooks } from './recover.js';
import { SAGEBUILD_VERSION } from '../util/paths.js';
import { listWheels, normalizeName, parseWheelFilename, refreshIndex } from '../wheelhouse.js';
import { type BuildContext, StepFailure, pkgId } from './context.js';
import type { PkgPaths } from './env.js';
import { manifestFiles, mergeConflicts, mergeStage, moveFile, preserveCopy, type StagedEntry } from './stage.js';


/**
 * The inputs to record: a dependency counts with the fingerprint it is installed with (they are
 * the same after a normal build; `<pkg>-no-deps` may build against an older or missing one, and
 * then the next run must rebuild).
 */
function recordedInputs(ctx: BuildContext, r: Recipe): { hash: string; inputs: FingerprintInputs } {
  const cur = ctx.fingerprint(r.name).inputs;
  const deps: Record<string, string> = {};
  for (const d of Object.keys(cur.deps)) {
    const dr = ctx.project.recipes.get(d)!;
    // Dummies and packages the system provides have no manifest: their current fingerprint is
    // what a later plan compares with.
    if (!kindOf(dr).installs || ctx.project.system.has(d)) {
      deps[d] = cur.deps[d]!;
      continue;
    }
    const e = ctx.db.get(d).find((x) => x.version === dr.version);
    const fp = e ? readManifestOrNull(e.file)?.sagebuild?.fingerprint : undefined;
    deps[d] = typeof fp === 'string' ? fp : 'not installed';
  }
  const inputs = { ...cur, deps };
  return { hash: hashInputs(inputs), inputs };
}

/**
 * A distribution this package installs that another package had only as a dependency passes to
 * this one: a recipe for it takes it over, whatever its version. (The other way round, a
 * dependency another package owns or is installing stays the other's: checkTarget drops it.)
 * `takeable`: the holders' wheel files, which this install may overwrite; `held()`: the holders'
 * manifests and what passes from each, read afresh (recorded in the journal's intent, so that a
 * roll-forward finishes the hand-over and a roll-back puts those dists back: spkg/recover.ts).
 */
function sharedDists(ctx: BuildContext, r: Recipe, dists: PythonDist[]): { held: () => HandOver[]; takeable: Set<string> } {
  if (!dists.some((d) => !d.dependency)) return { held: () => [], takeable: new Set() };
  const wheelhouse = wheelhouseOf(ctx.project.config.venv);
  const owners = ctx.db.owners();
  // Other packages holding one of this package's distributions only as a dependency: found from
  // the owners of the wheelhouse's files (the ownership index), so only their manifests are read.
  const mine = new Set(dists.filter((d) => !d.dependency).map((d) => normalizeName(d.name)));
  const holders = new Set<string>();
  for (const w of listWheels(wheelhouse)) {
    const o = owners.get(path.join(wheelhouse, w));
    if (o !== undefined && o !== r.name && mine.has(normalizeName(parseWheelFilename(w)?.dist ?? ''))) holders.add(o);
  }
  const held = (): HandOver[] =>
    [...holders].flatMap((pkg) =>
      ctx.db.get(pkg).flatMap((e) => {
        const m = readManifestOrNull(e.file);
        const taken = m ? pythonDistsOf(m).filter((d) => d.dependency && mine.has(normalizeName(d.name))) : [];
        return m && taken.length ? [{ pkg, manifest: e.file, dists: taken }] : [];
      }),
    );
  return { held, takeable: new Set(held().flatMap((h) => h.dists.map((d) => path.join(wheelhouse, d.wheel)))) };
}

export async function install(ctx: BuildContext, r: Recipe, p: PkgPaths, env: Record<string, string>, stagedEntries: StagedEntry[], stagedDists: PythonDist[], afterInstall?: () => Promise<void>): Promise<Manifest> {
  const id = pkgId(r);
  // Copies: a dependency another package installs meanwhile is dropped from them (checkTarget).
  const entries = [...stagedEntries];
  const dists = [...stagedDists];
  const { held, takeable } = sharedDists(ctx, r, dists);
  const files = manifestFiles(entries);
  const absNew = files.map((f) => path.join(p.tree, f));
  const reserved = files.filter(isReserved);
  if (reserved.length) throw new StepFailure(`the package installs into sagebuild's own state folders: ${reserved.slice(0, 5).join(', ')}; nothing was installed`);
  // Validate the old manifests before touching anything.
  const old = ctx.db.get(r.name).map((e) => {
    const tree = treeOfManifest(e.file);
    const m = readManifestOrNull(e.file);
    if (!m) {
      // An old-style stamp: the new version replaces it; files it does not install itself stay.
      ctx.bus.emit({ type: 'warning', message: `${id}: ${e.file} lists no files (an old-style Sage stamp or a damaged manifest); files of ${r.name}-${e.version} that the new version does not install are left in place` });
      const stub: Manifest = { package_name: r.name, package_version: e.version, install_date: '', system_uname: '', test_result: '', files: [] };
      return { entry: e, manifest: stub, abs: [] as string[], tree, legacy: true };
    }
    const listed = checkManifestPaths(e.file, tree, m.files);
    const keep = ctx.db.keepOnRemoval(r.name, listed);
    return { entry: e, manifest: m, abs: listed.filter((f) => !keep.has(f)), tree, legacy: false };
  });
  const hookTarget = (version: string, tree: string): HookTarget => ({ config: ctx.project.config, name: r.name, version, tree });
  const hookRun = { bus: ctx.bus, signal: ctx.signal };
  const removing = new Set(old.flatMap((o) => o.abs));
  const checkTarget = () => {
    // Claims first: a claim is dropped only after its manifest is written, so a package
    // finishing between the two reads is seen in one or the other.
    const claims = liveClaims(ctx.db.trees);
    const owners = ctx.db.owners();
    const ownerOf = (f: string) => owners.get(f) ?? claims.get(f);
    // Checked again here, under the tree lock: a package built in parallel may have claimed a
    // dependency both pulled in since; it stays that package's.
    const wheelhouseDir = wheelhouseOf(ctx.project.config.venv);
    for (const d of [...dists]) {
      const f = path.join(wheelhouseDir, d.wheel);
      const o = ownerOf(f);
      if (!d.dependency || o === undefined || o === r.name || takeable.has(f)) continue;
      ctx.bus.emit({ type: 'output', id, line: `sagebuild: ${d.name} ${d.version} is installed by ${o} already; it stays that package's` });
      const rel = path.relative(p.tree, f);
      const drop = <T>(a: T[], i: number) => i >= 0 && a.splice(i, 1);
      drop(dists, dists.indexOf(d));
      drop(entries, entries.findIndex((e) => e.rel === rel));
      drop(files, files.indexOf(rel));
      drop(absNew, absNew.indexOf(f));
    }
    const stolen = absNew.filter((f) => ownerOf(f) !== undefined && ownerOf(f) !== r.name && !takeable.has(f)).map((f) => `${f} (${owners.has(f) ? 'owned' : 'being installed'} by ${ownerOf(f)})`);
    if (stolen.length) {
      throw new StepFailure(`refusing to overwrite ${stolen.length} file(s) installed by other packages: ${stolen.slice(0, 5).join(', ')}${stolen.length > 5 ? ', ...' : ''}; nothing was installed`);
    }
    const blocked = mergeConflicts(entries, p.tree, removing);
    if (blocked.length) throw new StepFailure(`cannot install: ${blocked.slice(0, 5).join(', ')}; nothing was installed`);
  };
  checkTarget();
  const { hash, inputs } = recordedInputs(ctx, r);

  const venv = ctx.project.config.venv;
  const wheelhouse = wheelhouseOf(venv);
  const touchesWheelhouse = () => [...removing, ...absNew].some((f) => path.dirname(f) === wheelhouse);
  const pipCtx = { venv, env, id, bus: ctx.bus, cwd: p.buildRoot, workers: ctx.pipWorkers };
  const warn = (message: string) => ctx.bus.emit({ type: 'warning', message: `${id}: ${message}` });
  const oldDists = old.flatMap((o) => pythonDistsOf(o.manifest));
  const backupName = `${id}-${process.pid}`;
  // The journal's intent (state/journal.ts): written before the prefix changes, exact once the
  // files are checked under the tree lock, removed once the manifest is written.
  const intent = (): InstallIntent => ({
    format: 1,
    txn,
    pid: process.pid,
    start: processStart(process.pid),
    pkg: r.name,
    version: r.version,
    tree: p.tree,
    manifest: manifestPath(p.tree, r.name, r.version, r.kind),
    old: old.map((o) => ({ version: o.entry.version, manifest: o.entry.file })),
    moves: [
      ...old.flatMap((o) => o.abs.filter(lexists).map((f) => ({ from: f, to: path.join(backupDir(o.tree, backupName), path.relative(o.tree, f)) }))),
      // A holder's wheel this install replaces (the same file name): kept aside for a roll-back.
      ...absNew.filter((f) => takeable.has(f) && !removing.has(f) && lexists(f)).map((f) => ({ from: f, to: path.join(backupDir(p.tree, backupName), path.relative(p.tree, f)) })),
    ],
    backups: [...new Set([...old.map((o) => backupDir(o.tree, backupName)), backupDir(p.tree, backupName), ...hookDirs.map((h) => h.saved)])],
    add: [...absNew],
    newDirs: entries.filter((e) => e.kind === 'dir').map((e) => path.join(p.tree, e.rel)).filter((d) => !lexists(d)),
    hooks: hookDirs,
    pip: dists.length || oldDists.length ? { venv, uninstall: oldDists, install: [...dists] } : null,
    handOver: held(),
    wheelhouse: dists.length || touchesWheelhouse() ? wheelhouse : null,
  });
  const txn = `${r.name}-${r.version}-${process.pid}-${Date.now().toString(36)}`;
  const hookDirs = [...new Set([p.tree, ...old.map((o) => o.tree)])].map((t) => ({ dir: scriptsDirOf(t, r.name), saved: backupDir(t, `${backupName}.hooks`) }));
  let rec: JournalRecord | undefined;
  let claim: string | undefined;
  let manifest: Manifest;
  let manifestFile: string;
  try {
    // Until the prefix changes, a Ctrl-C ends a wait for the pip lock; from then on the steps complete.
    const cancellable = { ...pipCtx, cancel: ctx.signal };
    // The old version's uninstall hooks, as sage-spkg-uninstall runs them before an upgrade: a
    // failing spkg-prerm (or spkg-legacy-uninstall) stops the upgrade, the old version stays.
    for (const o of old) {
      const t = hookTarget(o.entry.version, o.tree);
      if (o.legacy) {
        await runLegacyUninstall(t, r, hookRun);
        continue;
      }
      await runPrerm(t, hookRun);
      await runWarningHook(t, 'piprm', hookRun);
    }
    mkdirSync(journalDir(p.tree), { recursive: true });
    rec = await beginRecord(intent());
    crashPoint('journal', r.name);
    if (oldDists.length) {
      ctx.bus.emit({ type: 'step', id, step: 'pip-uninstall', detail: oldDists.map((d) => d.name).join(' ') });
      await markStep(rec, 'pip-uninstall');
      try {
        await pipUninstall(cancellable, oldDists);
      } catch (e) {
        if (e instanceof LockWaitCanceled) rec.steps.delete('pip-uninstall'); // a Ctrl-C while waiting: pip never ran
        throw e;
      }
      crashPoint('pip-uninstall', r.name);
    } else if (dists.length) {
      await waitForPip(cancellable, 'shared');
    }
    // Check again, claim the files, and merge, all under a per-tree flock shared with other
    // sagebuild processes: packages installing meanwhile, here or in another run, cannot have
    // taken the same files, nor put a symlink in the way, unnoticed; and the claim keeps them
    // from taking the files until this package's manifest is written. The steps under the lock
    // are synchronous and take milliseconds: only a wait that lasts is worth a message.
    const lockFile = treeLockFile(p.tree);
    let slow: NodeJS.Timeout | undefined;
    const lock = await holdLock(lockFile, ctx.signal, (holders) => {
      slow = setTimeout(() => ctx.bus.emit({ type: 'lock-wait', id, lockFile, mode: 'exclusive', holders: holders || describeHolders(lockFile) }), 2000);
    });
    clearTimeout(slow);
    if (!lock) throw new StepFailure('interrupted while waiting to install', true);
    try {
      checkTarget();
      rec.intent = intent(); // exactly what will move and land, now that nothing else may change it
      await rewriteRecord(rec);
      claim = writeClaim(p.tree, r.name, absNew);
      // The old version's files go aside (same file system, so this is cheap), not away. A file
      // the new version installs too stays in place (its backup is a hard link) and the merge
      // renames the new one over it: readers never see it missing, as they would mid-upgrade.
      const replaced = new Set(entries.filter((e) => e.kind !== 'dir').map((e) => path.join(p.tree, e.rel)));
      for (const m of rec.intent.moves) {
        mkdirSync(path.dirname(m.to), { recursive: true });
        if (replaced.has(m.from) && !lstatSync(m.from).isDirectory()) preserveCopy(m.from, m.to);
        else moveFile(m.from, m.to);
      }
      for (const o of old) pruneEmptyParents(o.tree, o.abs);
      saveHooks(rec);
      crashPoint('backup', r.name);
      // spkg-postrm once the old files are gone, before the new ones land (as in Sage, where the
      // uninstall precedes the build). It runs under the tree lock: hooks are short scripts.
      for (const o of old) if (!o.legacy) await runWarningHook(hookTarget(o.entry.version, o.tree), 'postrm', hookRun);
      ctx.bus.emit({ type: 'step', id, step: 'merge', detail: p.tree });
      await markStep(rec, 'merge');
      try {
        await inPhase(ctx.bus, id, 'merge', p.tree, () => mergeStage(p.destdir + p.tree, p.tree, entries, () => crashPoint('mid-merge', r.name)));
      } catch (e) {
        rec.steps.delete('merge'); // the merge took back what it had placed
        throw e;
      }
      crashPoint('merge', r.name);
    } finally {
      await lock.release();
    }
    if (dists.length) {
      ctx.bus.emit({ type: 'step', id, step: 'pip-install', detail: dists.map((d) => `${d.name}==${d.version}`).join(' ') });
      await markStep(rec, 'pip-install');
      await pipInstall(pipCtx, dists);
      crashPoint('pip-install', r.name);
    }
    await afterInstall?.();
    crashPoint('postinst', r.name);
    // The new version's hooks replace the old one's (sage-spkg's install_scripts), outside the manifest.
    for (const o of old) if (o.tree !== p.tree) removeHooks(hookTarget(o.entry.version, o.tree));
    // (Pip packages get no generated spkg-piprm: Sage keeps no record of them, so its tools never run one.)
    installHooks(hookTarget(r.version, p.tree), r, dists.length > 0 && kindOf(r).sageRecord);
    manifest = newManifest(r.name, r.version, files, ctx.project.config.root, {
      tool_version: SAGEBUILD_VERSION,
      kind: r.kind,
      tree: p.tree,
      deps: Object.fromEntries(ctx.project.deps.get(r.name)!.normal.map((d) => [d, ctx.project.recipes.get(d)!.version])),
      ...(dists.length ? { python_dists: dists } : {}),
      fingerprint: hash,
      inputs,
      txn,
    });
    // The commit: once this rename is on disk, a crash completes the install instead of undoing it.
    manifestFile = await writeManifestAsync(p.tree, manifest);
  } catch (e) {
    if (rec) {
      const left = leftAfterRollBack(rollBackFiles(rec));
      if (left) warn(left);
      if (claim) dropClaim(claim); // only now: until the new files are gone, they are this package's
      await rollBackPip(rec, pipCtx).catch(() => warn(`could not reinstall the previous version's Python packages; rebuild ${r.name}`));
      dropBackups(rec);
      endRecord(rec);
    }
    if (touchesWheelhouse()) refreshIndex(wheelhouse, warn);
    const message = (e as Error).message;
    const restored = e instanceof HookFailed ? ' Nothing was installed.' : old.length ? ` The previously installed ${old.map((o) => `${r.name}-${o.entry.version}`).join(', ')} was restored.` : message.endsWith('nothing was installed') ? '' : ' Nothing was installed.';
    throw new StepFailure(`${message}.${restored}`, (e instanceof StepFailure && e.canceled) || (e instanceof HookFailed && e.canceled) || e instanceof LockWaitCanceled);
  } finally {
    if (claim) dropClaim(claim);
  }
  crashPoint('manifest', r.name);
  for (const o of old) if (o.entry.file !== manifestFile) removeRecord(o.entry.file);
  for (const h of handOver(rec.intent)) ctx.bus.emit({ type: 'output', id, line: `sagebuild: takes over ${h.name} (${h.pkg} had ${h.version} as a dependency)` });
  dropBackups(rec);
  crashPoint('unjournal', r.name);
  endRecord(rec);
  ctx.db.refresh(r.name);
  if (touchesWheelhouse() || dists.length) refreshIndex(wheelhouse, warn);
  return manifest;
}

/** Wheels the install script asked to pip-install (sdh_store_and_pip_install_wheel), checked against the stage. */
export function requestedDists(r: Recipe, p: PkgPaths, venv: string, entries: StagedEntry[]): PythonDist[] {
  let lines: string[];
  try {
    lines = readFileSync(path.join(p.buildRoot, '.sagebuild-pipinst'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
  const rel = path.relative(p.tree, wheelhouseOf(venv));
  if (rel.startsWith('..')) {
    throw new StepFailure(`package ${r.name} pip-installs wheels but installs into ${p.tree}, not the venv ${venv}; give it a version_requirements.txt to make it a Python package`);
  }
  return lines.map((line) => {
    const [w = '', role] = line.split(' ');
    const n = parseWheelFilename(w);
    if (!n) throw new StepFailure(`'${w}' is not a valid wheel file name`);
    if (!entries.some((e) => e.rel === `${rel}/${w}`)) throw new StepFailure(`wheel ${w} is not in the staged wheelhouse`);
    return { name: n.dist, version: n.version, wheel: w, ...(role === 'dependency' ? { dependency: true } : {}) };
  });
}
