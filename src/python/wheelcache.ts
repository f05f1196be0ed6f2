// A binary cache of wheels keyed by fingerprint (`keep_wheels_cache: true`): `<pkg>-clean` keeps
// the package's wheels in wheelCacheDir(venv)/<fingerprint>/, and a later build
// with the same fingerprint reuses them instead of rebuilding. The cache holds at most
// MAX_ENTRIES packages; the oldest go first.
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/fs.js';
import path from 'node:path';
import type { PythonDist } from '../state/manifest.js';
import { wheelCacheDir, wheelhouseOf } from '../state/layout.js';

const MAX_ENTRIES = 200;


function copyOrLink(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/** Keeps the wheels of `dists` (still in the wheelhouse) under `fingerprint`. */
export function storeInWheelCache(venv: string, pkg: string, fingerprint: string, dists: PythonDist[]): void {
  const wheelhouse = wheelhouseOf(venv);
  if (!dists.length || !dists.every((d) => existsSync(path.join(wheelhouse, d.wheel)))) return;
  const root = wheelCacheDir(venv);
  const dir = path.join(root, fingerprint);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const d of dists) copyOrLink(path.join(wheelhouse, d.wheel), path.join(dir, d.wheel));
  writeFileAtomic(path.join(dir, 'entry.json'), JSON.stringify({ package: pkg, dists }, null, 2));
  const entries = readdirSync(root).map((f) => ({ f, t: statSync(path.join(root, f)).mtimeMs }));
  for (const e of entries.sort((a, b) => b.t - a.t).slice(MAX_ENTRIES)) rmSync(path.join(root, e.f), { recursive: true, force: true });
}

/** The cached wheels for this fingerprint, copied into `destDir`; null when there are none. */
export function takeFromWheelCache(venv: string, pkg: string, fingerprint: string, destDir: string): PythonDist[] | null {
  const dir = path.join(wheelCacheDir(venv), fingerprint);
  let entry: { package: string; dists: PythonDist[] };
  try {
    entry = JSON.parse(readFileSync(path.join(dir, 'entry.json'), 'utf8'));
  } catch {
    return null;
  }
  if (entry.package !== pkg || !entry.dists.every((d) => existsSync(path.join(dir, d.wheel)))) return null;
  mkdirSync(destDir, { recursive: true });
  for (const d of entry.dists) copyOrLink(path.join(dir, d.wheel), path.join(destDir, d.wheel));
  return entry.dists;
}

/** Drops an entry once its wheels are back in the wheelhouse. */
export function dropFromWheelCache(venv: string, fingerprint: string): void {
  rmSync(path.join(wheelCacheDir(venv), fingerprint), { recursive: true, force: true });
}
