// Undoing or completing an install from its journal record (state/journal.ts): used by install.ts
// when a step fails, and at the start of every command for the records that interrupted runs
// left behind (spkg/openstate.ts, when a command opens the installed state), under the tree lock, pip's part under the pip lock.
//
// The rule: the new manifest is the commit point. Written (it carries the record's txn), the
// install is rolled forward: the old manifests and the backups go. Not written, it is rolled
// back: what the merge landed goes, the old files come back from the backup, the old hooks from
// their copy, and in the venv the new distributions are uninstalled and the old ones reinstalled
// from their (restored) wheels.
import { cpSync, existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { lexists, removeDeadTemps } from '../util/fs.js';
import path from 'node:path';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import { holdLock } from '../proc/heldlock.js';
import { pipInstall, pipUninstall, removePipStashes, type PipContext } from '../python/pip.js';
import { endRecord, hasRecords, leftoverRecords, type InstallIntent, type JournalRecord } from '../state/journal.js';
import { installedDir, pipRecordsDir, treeLockFile, wheelhouseOf } from '../state/layout.js';
import { pythonDistsOf, readManifestOrNull, removeFiles, removeRecord, treeOfManifest, writeManifest, type PythonDist } from '../state/manifest.js';
import { refreshIndex } from '../wheelhouse.js';
import { moveFile } from './stage.js';

/** The record's manifest is written: the install committed. */
export function committed(rec: JournalRecord): boolean {
  return readManifestOrNull(rec.intent.manifest)?.sagebuild?.txn === rec.intent.txn;
}

/** Copies the hook folders aside before they change (a roll-back puts them back). */
export function saveHooks(rec: JournalRecord): void {
  for (const h of rec.intent.hooks) {
    rmSync(h.saved, { recursive: true, force: true });
    if (existsSync(h.dir)) cpSync(h.dir, h.saved, { recursive: true, verbatimSymlinks: true });
  }
}

/**
 * The tree-side roll-back: merged files out, old files and hooks back. Idempotent (a replay may be
 * interrupted too). Returns the landed files it could not remove (with the errno), for the caller
 * to report: they stay in the tree, owned by no package.
 */
export function rollBackFiles(rec: JournalRecord): { file: string; code: string }[] {
  const { intent } = rec;
  const left = rec.steps.has('merge') ? removeFiles(intent.tree, intent.add).left : [];
  for (const m of intent.moves) {
    if (!lexists(m.to)) continue; // never moved, or restored already
    mkdirSync(path.dirname(m.from), { recursive: true });
    moveFile(m.to, m.from);
  }
  for (const d of [...intent.newDirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      // not empty (restored files are in it), or never made
    }
  }
  for (const h of intent.hooks) {
    if (!existsSync(h.saved)) {
      // No copy: there were none before (or the copy was never made, and the folder is unchanged).
      if (rec.steps.has('merge')) rmSync(h.dir, { recursive: true, force: true });
      continue;
    }
    rmSync(h.dir, { recursive: true, force: true });
    mkdirSync(path.dirname(h.dir), { recursive: true });
    moveFile(h.saved, h.dir);
  }
  return left;
}

/** The warning for files a roll-back could not remove (none: null). */
export function leftAfterRollBack(left: { file: string; code: string }[]): string | null {
  if (!left.length) return null;
  const named = left.slice(0, 5).map((l) => `${l.file} (${l.code})`).join(', ');
  return `could not remove ${left.length} file(s) the undone install had landed: ${named}${left.length > 5 ? ', ...' : ''}; they are left in place, owned by no package: remove them by hand`;
}

/**
 * The venv-side roll-back (under the pip lock, as every pip run): new distributions out, old ones
 * back, and so are those other packages held as a dependency and this install took over (their
 * wheels are back in the wheelhouse by now: rollBackFiles).
 */
export async function rollBackPip(rec: JournalRecord, pip: PipContext): Promise<void> {
  const p = rec.intent.pip;
  if (!p) return;
  if (rec.steps.has('pip-install')) await pipUninstall(pip, p.install);
  const held = rec.steps.has('pip-install') ? (rec.intent.handOver ?? []).flatMap((h) => h.dists) : [];
  if (rec.steps.has('pip-uninstall') || rec.steps.has('pip-install')) await pipInstall(pip, [...p.uninstall, ...held]);
}

/**
 * The hand-over of a committed install: the other packages' manifests drop the distributions they
 * held only as a dependency and this package now installs, and a wheel of another version leaves
 * the wheelhouse with them (one wheel per installed distribution). Idempotent: a roll-forward
 * redoes it. Returns what passed.
 */
export function handOver(intent: InstallIntent): (PythonDist & { pkg: string })[] {
  const passed: (PythonDist & { pkg: string })[] = [];
  const installed = new Set((intent.pip?.install ?? []).map((d) => d.wheel));
  for (const h of intent.handOver ?? []) {
    const m = readManifestOrNull(h.manifest);
    if (!m || !intent.pip) continue;
    const wheels = new Set(h.dists.map((d) => d.wheel));
    const taken = pythonDistsOf(m).filter((d) => d.dependency && wheels.has(d.wheel));
    if (!taken.length) continue;
    const t = treeOfManifest(h.manifest);
    const gone = new Set(taken.map((d) => path.relative(t, path.join(wheelhouseOf(intent.pip!.venv), d.wheel))));
    m.files = m.files.filter((f) => !gone.has(f));
    m.sagebuild = { ...m.sagebuild!, python_dists: pythonDistsOf(m).filter((d) => !taken.includes(d)) };
    writeManifest(t, m);
    for (const d of taken) {
      if (!installed.has(d.wheel)) rmSync(path.join(wheelhouseOf(intent.pip.venv), d.wheel), { force: true });
      passed.push({ ...d, pkg: h.pkg });
    }
  }
  return passed;
}

/** What is left of a finished install (either way): the backups, the record. */
export function dropBackups(rec: JournalRecord): void {
  for (const b of rec.intent.backups) rmSync(b, { recursive: true, force: true });
}

/** Finishes a committed install: the old manifests go, the hand-over is done; returns what passed in it. */
function rollForward(rec: JournalRecord): (PythonDist & { pkg: string })[] {
  for (const o of rec.intent.old) if (o.manifest !== rec.intent.manifest) removeRecord(o.manifest);
  return handOver(rec.intent);
}

/** Replays one leftover record; returns the line that says what was done. */
async function replay(rec: JournalRecord, bus: EventBus): Promise<string> {
  const { intent } = rec;
  const id = `${intent.pkg}-${intent.version}`;
  let outcome: string;
  let stashes: string[] = [];
  if (committed(rec)) {
    const passed = rollForward(rec);
    outcome = `completed (its manifest was written)${intent.old.length ? `; ${intent.old.map((o) => `${intent.pkg}-${o.version}`).join(', ')} removed` : ''}${passed.map((d) => `; took over ${d.name} (${d.pkg} had ${d.version} as a dependency)`).join('')}`;
  } else {
    const left = leftAfterRollBack(rollBackFiles(rec));
    if (left) bus.emit({ type: 'warning', message: `${id}: ${left}` });
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (intent.pip) {
      const pip = { venv: intent.pip.venv, env, id, bus, cwd: intent.pip.venv };
      try {
        await rollBackPip(rec, pip);
        // A pip killed with sagebuild left its stash of what it was uninstalling.
        if (rec.steps.has('pip-uninstall') || rec.steps.has('pip-install')) stashes = await removePipStashes(pip);
      } catch (e) {
        bus.emit({ type: 'warning', message: `${id}: could not restore the venv: ${(e as Error).message}; rebuild ${intent.pkg}` });
      }
    }
    outcome = intent.old.length ? `rolled back to ${intent.old.map((o) => `${intent.pkg}-${o.version}`).join(', ')}` : 'rolled back (nothing of it is installed)';
    if (stashes.length) outcome += `; removed pip's leftover ${stashes.join(', ')}`;
  }
  dropBackups(rec);
  if (intent.wheelhouse) refreshIndex(intent.wheelhouse, (message) => bus.emit({ type: 'warning', message: `${id}: ${message}` }));
  endRecord(rec);
  return `recovered an interrupted install of ${id}: ${outcome}`;
}

/**
 * Replays the records interrupted runs left in the config's trees, under each tree's install
 * lock; a dry run only says what it would do. Returns how many were replayed.
 */
export async function recoverInterrupted(config: Pick<Config, 'prefix' | 'venv'>, bus: EventBus, dryRun: boolean): Promise<number> {
  const trees = [...new Set([config.prefix, config.venv])];
  // A kill between writing a record and renaming it into place leaves its temp file beside it.
  if (!dryRun) for (const t of trees) for (const d of [installedDir(t), pipRecordsDir(t)]) removeDeadTemps(d);
  if (!hasRecords(trees)) return 0;
  if (dryRun) {
    for (const rec of leftoverRecords(trees, false).records) bus.emit({ type: 'warning', message: `an interrupted install of ${rec.intent.pkg}-${rec.intent.version} is recorded in ${rec.file}; the next command that may change the prefix recovers it` });
    return 0;
  }
  let n = 0;
  for (const tree of trees) {
    if (!hasRecords([tree])) continue;
    const lock = await holdLock(treeLockFile(tree), new AbortController().signal, () => {});
    try {
      // Read under the lock: another command may have replayed them meanwhile.
      const { records, foreign } = leftoverRecords([tree]);
      for (const f of foreign) bus.emit({ type: 'warning', message: `${f} is not an install record sagebuild can read; it is left alone` });
      for (const rec of records) {
        bus.emit({ type: 'warning', message: await replay(rec, bus) });
        n++;
      }
    } finally {
      await lock?.release();
    }
  }
  return n;
}
