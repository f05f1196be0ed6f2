// Installation records in a tree's INSTALLED_RELDIR (<pkg>-<version>, Sage's JSON format plus
// a `sagebuild` block; pip packages' in PIP_RECORDS_RELDIR, see layout.ts), their safe reading,
// atomic writing, and safe file removal.
import { appendFileSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { mtimeMsOr0, readdirOrEmpty, readTextOrNull, writeFileAtomic, writeFileAtomicAsync } from '../util/fs.js';
import { uname } from '../util/uname.js';
import { dateAsDatePrints } from './date.js';
import path from 'node:path';
import { INSTALLED_RELDIR, PIP_RECORDS_RELDIR, installedDir, pipRecordsDir, recordChangesFile } from './layout.js';
import { UserError } from '../diagnostics.js';
import { recordedKind } from '../kinds.js';
import { isInside } from '../util/paths.js';

export interface Manifest {
  package_name: string;
  package_version: string;
  install_date: string;
  system_uname: string;
  /** SAGE_ROOT/VERSION.txt, as sage-spkg records it (absent in manifests of older sagebuild versions). */
  sage_version?: string;
  /** `passed`, `failed`, `not available` (checks asked for, the recipe has none), or empty: checks did not run. */
  test_result: string;
  files: string[];
  sagebuild?: {
    tool_version: string;
    kind: string;
    /** The tree the files are relative to. */
    tree: string;
    [k: string]: unknown;
  };
}

/** A Python distribution a package installed into the venv with pip. */
export interface PythonDist {
  /** As in the wheel file name. */
  name: string;
  version: string;
  wheel: string;
  /** Installed only because a requirement needs it (pip packages): kept on -clean while others need it. */
  dependency?: boolean;
}

export function pythonDistsOf(m: Manifest): PythonDist[] {
  const d = m.sagebuild?.python_dists;
  return Array.isArray(d) ? (d as PythonDist[]) : [];
}

/*
 * The records of *pip* packages (requirements.txt) go to pipRecordsDir. Sage keeps no installation
 * record for them ("in addition to what pip is already doing", build/make/Makefile.in), so
 * sagebuild keeps theirs in its own state folder, where Sage's tools (sage-spkg-uninstall, the
 * make stamps) do not see them; sagebuild needs them for fingerprints, ownership and -clean.
 */

/** <tree>/INSTALLED_RELDIR/<pkg>-<ver> (or a pip record) -> <tree>. The manifest's location, not its content, decides. */
export function treeOfManifest(file: string): string {
  const dir = path.dirname(path.resolve(file));
  for (const rel of [INSTALLED_RELDIR, PIP_RECORDS_RELDIR]) if (dir.endsWith(`/${rel}`)) return dir.slice(0, -rel.length - 1);
  return path.resolve(dir, '../../../..');
}

export interface InstalledEntry {
  name: string;
  version: string;
  file: string;
  mtimeMs: number;
}

/** The stamp a record file's name stands for (`<pkg>-<version>`), or null for temp files and others. */
export function entryOf(file: string): InstalledEntry | null {
  const f = path.basename(file);
  if (f.startsWith('.')) return null; // .dummy, temp files
  const dash = f.indexOf('-');
  if (dash <= 0) return null;
  return {
    name: f.slice(0, dash),
    version: f.slice(dash + 1),
    file,
    // Rarely needed (which of several versions is newest): stat only on demand.
    get mtimeMs(): number {
      return mtimeMsOr0(file);
    },
  };
}

/** Stamps found in the installed/ dirs of the given trees, by package name. */
export function scanInstalled(trees: string[]): Map<string, InstalledEntry[]> {
  const out = new Map<string, InstalledEntry[]>();
  for (const dir of [...new Set(trees)].flatMap((tree) => [installedDir(tree), pipRecordsDir(tree)])) {
    for (const f of readdirOrEmpty(dir)) {
      const e = entryOf(path.join(dir, f));
      if (!e) continue;
      const list = out.get(e.name) ?? [];
      list.push(e);
      out.set(e.name, list);
    }
  }
  return out;
}

/** Log rotation size: readers that see the log replaced scan every record once. */
const CHANGES_MAX = 1 << 20;

/**
 * Says which record changed, for every InstalledDb reading the tree (this process's and other
 * sagebuild processes'): a line appended to the tree's record-changes log after the record is
 * written or removed. Not durable: a command starts with a full scan anyway.
 */
export function noteRecordChange(file: string): void {
  const log = recordChangesFile(treeOfManifest(file));
  try {
    mkdirSync(path.dirname(log), { recursive: true });
    appendFileSync(log, file + '\n');
    if (statSync(log).size > CHANGES_MAX) renameSync(log, `${log}.old`);
  } catch {
    // A reader must not miss the change: without the log it scans every record.
    rmSync(log, { force: true });
  }
}

/** Removes an installation record, and says so (noteRecordChange). */
export function removeRecord(file: string): void {
  rmSync(file, { force: true });
  noteRecordChange(file);
}

export function readManifest(file: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError({ file, message: `cannot read installation manifest: ${(e as Error).message}`, hint: 'the file is damaged; remove the files it owned by hand, then delete it' });
  }
  const m = data as Partial<Manifest>;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.files) || !m.files.every((f) => typeof f === 'string')) {
    throw new UserError({ file, message: 'installation manifest has no valid "files" list', hint: 'an old-style Sage stamp or a damaged manifest: the files it installed are unknown; remove them by hand, then delete this file' });
  }
  return m as Manifest;
}

/**
 * For deciding what to build: an old-style Sage stamp (no JSON, or no "files" list, which Sage
 * still accepts) or a damaged manifest reads as null, an install whose files are unknown, to be
 * rebuilt, rather than an error that stops every command.
 */
export function readManifestOrNull(file: string): Manifest | null {
  try {
    return readManifest(file);
  } catch {
    return null;
  }
}

/** Where writeManifest puts the manifest of `name`-`version` of this kind. */
export function manifestPath(tree: string, name: string, version: string, kind: string | undefined): string {
  // The record's own kind decides: manifests are rewritten (test results, dists taken over) by
  // others than the package's build. An unknown kind (a newer sagebuild's) is Sage's.
  const dir = recordedKind(kind)?.sageRecord === false ? pipRecordsDir(tree) : installedDir(tree);
  return path.join(dir, `${name}-${version}`);
}

/** Where `m` goes (its folder made), and its text. */
function placed(tree: string, m: Manifest): [file: string, text: string] {
  const file = manifestPath(tree, m.package_name, m.package_version, m.sagebuild?.kind);
  mkdirSync(path.dirname(file), { recursive: true });
  return [file, JSON.stringify(m, null, 2) + '\n'];
}

export function writeManifest(tree: string, m: Manifest): string {
  const [file, text] = placed(tree, m);
  writeFileAtomic(file, text);
  noteRecordChange(file);
  return file;
}

/** writeManifest, waiting for the disk off the main thread (an install's commit). */
export async function writeManifestAsync(tree: string, m: Manifest): Promise<string> {
  const [file, text] = placed(tree, m);
  await writeFileAtomicAsync(file, text);
  noteRecordChange(file);
  return file;
}

/** The Sage version sage-spkg records: the first line of SAGE_ROOT/VERSION.txt; empty when there is none. */
export function sageVersion(sageRoot: string): string {
  return (readTextOrNull(path.join(sageRoot, 'VERSION.txt'))?.split('\n')[0] ?? '').trim();
}

/** A manifest with Sage's keys in sage-spkg's order; `test_result` stays empty until checks run. */
export function newManifest(name: string, version: string, files: string[], sageRoot: string, extra: Manifest['sagebuild']): Manifest {
  return {
    package_name: name,
    package_version: version,
    install_date: dateAsDatePrints(),
    system_uname: uname(),
    sage_version: sageVersion(sageRoot),
    test_result: '',
    files,
    sagebuild: extra,
  };
}

/**
 * Refuses a manifest whose entries could reach outside the tree: absolute paths, `..`
 * segments, or a parent directory that resolves (through symlinks) outside. Returns the
 * absolute paths to delete.
 */
export function checkManifestPaths(manifestFile: string, tree: string, files: string[]): string[] {
  const realTree = realpathOr(tree);
  const bad: string[] = [];
  const out: string[] = [];
  for (const f of files) {
    const segs = f.split('/');
    if (f === '' || path.isAbsolute(f) || segs.includes('..') || segs.every((s) => s === '.' || s === '')) {
      bad.push(`'${f}' (${path.isAbsolute(f) ? 'absolute path' : segs.includes('..') ? 'contains ..' : 'empty path'})`);
      continue;
    }
    const abs = path.join(tree, f);
    const parentReal = realpathOr(path.dirname(abs));
    if (!isInside(realTree, parentReal)) {
      bad.push(`'${f}' (its folder resolves to ${parentReal}, outside ${realTree})`);
      continue;
    }
    out.push(abs);
  }
  if (bad.length) {
    throw new UserError({
      file: manifestFile,
      message: `refusing to use this manifest: ${bad.length} entr${bad.length === 1 ? 'y points' : 'ies point'} outside the prefix ${tree}: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}`,
      hint: 'nothing was deleted; inspect the manifest, it may have been tampered with',
    });
  }
  return out;
}

/** realpath of the longest existing ancestor, with the rest appended. */
function realpathOr(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest);
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.unshift(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * Deletes files (deepest first), then directories left empty, up to but never including the
 * tree root. Paths must already have passed checkManifestPaths. Returns how many were removed,
 * and those that could not be (a read-only mount, permissions), with the error's code; a file
 * already gone counts as removed.
 */
export function removeFiles(tree: string, absFiles: string[]): { removed: number; left: { file: string; code: string }[] } {
  let removed = 0;
  const left: { file: string; code: string }[] = [];
  const sorted = [...absFiles].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1));
  for (const f of sorted) {
    try {
      const st = lstatSync(f);
      if (st.isDirectory()) continue; // a directory where a file was recorded: not ours to remove
      unlinkSync(f);
      removed++;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (code !== 'ENOENT') left.push({ file: f, code });
    }
  }
  pruneEmptyParents(tree, absFiles);
  return { removed, left };
}

/** Removes the directories above these paths that are empty now, deepest first, never `tree`. */
export function pruneEmptyParents(tree: string, absFiles: string[]): void {
  const dirs = new Set<string>();
  for (const f of absFiles) for (let d = path.dirname(f); isInside(tree, d) && d !== tree; d = path.dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      // not empty, or gone
    }
  }
}
