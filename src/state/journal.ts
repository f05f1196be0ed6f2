// The install journal: what an install is about to do to a tree, written (and fsynced) before
// the tree changes, and removed once the package's manifest is written. A record left behind is
// an install that was interrupted (kill -9, power loss); the next command replays it
// (spkg/recover.ts): rolled forward if its manifest was written, else rolled back.
//
// A record is one file, journalDir(<tree>)/<pkg>-<pid>.json: its first line the intent (JSON,
// written atomically), then one line per step begun (`merge`, `pip-uninstall`, `pip-install`),
// each appended and fdatasynced before the step starts, and the exact intent (a JSON line again,
// appended under the tree lock: one fdatasync, not a rewrite), which replaces the first. A step
// without its line never started; a torn last line is ignored (its step had not started either).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { appendLineDurableAsync, readdirOrEmpty, readTextOrNull, removeDeadTemps, writeFileAtomicAsync } from '../util/fs.js';
import { processAlive, processStart } from '../util/proc.js';
import { journalDir } from './layout.js';
import type { PythonDist } from './manifest.js';

export type JournalStep = 'merge' | 'pip-uninstall' | 'pip-install';
const STEPS: readonly string[] = ['merge', 'pip-uninstall', 'pip-install'] satisfies JournalStep[];

export interface InstallIntent {
  format: 1;
  /** Unique per install; the new manifest carries it (sagebuild.txn): found there, the install committed. */
  txn: string;
  /** The installing process: a live one's record is its own business, never replayed. */
  pid: number;
  start: string | null;
  pkg: string;
  version: string;
  /** The tree the package installs into (the record lives in its journal folder). */
  tree: string;
  /** The new manifest's path. */
  manifest: string;
  /** The versions being replaced and their manifests (left alone until the commit; removed by a roll-forward). */
  old: { version: string; manifest: string }[];
  /** The old files that go aside (absolute): `from` is restored from `to` on a roll-back. */
  moves: { from: string; to: string }[];
  /** The backup folders (`moves`' targets and the hooks' copies), removed at the end either way. */
  backups: string[];
  /** What the merge lands (absolute): removed on a roll-back once the merge has begun. */
  add: string[];
  /** Folders the merge creates (it found them missing): removed on a roll-back when empty. */
  newDirs: string[];
  /** Installed hook folders and where their previous content is copied. */
  hooks: { dir: string; saved: string }[];
  /** pip's part: the old version's distributions (uninstalled) and the new one's (installed) in `venv`. */
  pip: { venv: string; uninstall: PythonDist[]; install: PythonDist[] } | null;
  /** The wheelhouse whose index is rewritten afterwards (the install changes wheels), or null. */
  wheelhouse: string | null;
  /**
   * Distributions other packages hold only as a dependency that this install takes over: their
   * manifests drop them once it commits (a roll-forward finishes that); a roll-back reinstalls
   * them. (Absent in records of older versions: none.)
   */
  handOver?: HandOver[];
}

/** Another package's manifest and the distributions it held only as a dependency that pass to the installing package. */
export interface HandOver {
  pkg: string;
  manifest: string;
  dists: PythonDist[];
}

export interface JournalRecord {
  file: string;
  intent: InstallIntent;
  steps: Set<JournalStep>;
  /** The intent as the file has it now (what recovery would read), when this process wrote it. */
  recorded?: string;
}

/** Writes the intent (fsynced, atomically); returns the record to mark and finish. */
export async function beginRecord(intent: InstallIntent): Promise<JournalRecord> {
  const file = path.join(journalDir(intent.tree), `${intent.pkg}-${intent.pid}.json`);
  const recorded = JSON.stringify(intent);
  await writeFileAtomicAsync(file, recorded + '\n');
  return { file, intent, steps: new Set(), recorded };
}

/**
 * Records the intent as the install now knows it exactly (under the tree lock, before the tree
 * changes). Usually (a new package, nothing installed meanwhile) it is what the file says
 * already: then nothing is written, which spares a wait for the disk per package.
 */
export async function rewriteRecord(rec: JournalRecord): Promise<void> {
  const text = JSON.stringify(rec.intent);
  if (text === rec.recorded) return;
  await appendLineDurableAsync(rec.file, text);
  rec.recorded = text;
}

/** Records that a step begins (before it does). */
export async function markStep(rec: JournalRecord, step: JournalStep): Promise<void> {
  await appendLineDurableAsync(rec.file, step);
  rec.steps.add(step);
}

/** The install is recorded in its manifest, or fully undone: the record goes. */
export function endRecord(rec: JournalRecord): void {
  rmSync(rec.file, { force: true });
}

export function readRecord(file: string): JournalRecord | null {
  const text = readTextOrNull(file);
  if (text === null) return null;
  const [first = '', ...rest] = text.split('\n');
  let intent: InstallIntent;
  try {
    intent = JSON.parse(first) as InstallIntent;
  } catch {
    return null; // written atomically: only a foreign file reads so
  }
  if (intent?.format !== 1 || typeof intent.txn !== 'string') return null;
  // A later intent line replaces the first (a torn one does not parse, and is ignored).
  for (const l of rest) {
    if (!l.startsWith('{')) continue;
    try {
      const later = JSON.parse(l) as InstallIntent;
      if (later?.format === 1 && later.txn === intent.txn) intent = later;
    } catch {
      // torn: its install had not gone on
    }
  }
  const steps = new Set(rest.filter((l) => STEPS.includes(l)) as JournalStep[]);
  return { file, intent, steps };
}

/**
 * Records left by processes that are gone (a live process's record is an install in progress),
 * in these trees. Unreadable files (not records) are listed in `foreign`; temp files of dead
 * processes are removed unless `removeStaleTemps` is false (a dry run).
 */
export function leftoverRecords(trees: string[], removeStaleTemps = true): { records: JournalRecord[]; foreign: string[] } {
  const records: JournalRecord[] = [];
  const foreign: string[] = [];
  for (const tree of new Set(trees)) {
    const dir = journalDir(tree);
    if (removeStaleTemps) removeDeadTemps(dir);
    for (const n of readdirOrEmpty(dir)) {
      if (n.startsWith('.')) continue; // a temp file of a record being written (removeDeadTemps below)
      const rec = readRecord(path.join(dir, n));
      if (!rec) {
        foreign.push(path.join(dir, n));
        continue;
      }
      const { pid, start } = rec.intent;
      if (processAlive(pid) && (!start || processStart(pid) === start)) continue;
      records.push(rec);
    }
  }
  return { records, foreign };
}

/** Whether a tree has any record at all (cheap: one readdir), so that most commands skip the lock. */
export function hasRecords(trees: string[]): boolean {
  return [...new Set(trees)].some((t) => readdirOrEmpty(journalDir(t)).length > 0);
}
