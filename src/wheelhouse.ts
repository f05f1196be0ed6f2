// The persistent wheelhouse of a venv (layout.ts: wheelhouseOf): wheel file names, and a PEP 503 simple
// index (simple/<normalized-name>/index.html with #sha256= fragments) so plain pip can use it
// with --index-url. The index is swapped in atomically: `simple` is a symlink to a complete
// hidden directory, replaced by rename.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, readlinkSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from './util/proc.js';
import { INDEX_DIR_PREFIX, INDEX_LINK } from './state/layout.js';


export interface WheelName {
  /** As written in the file name (underscores for separators). */
  dist: string;
  version: string;
  file: string;
}

/** `{dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl` (PEP 427). */
export function parseWheelFilename(file: string): WheelName | null {
  const base = path.basename(file);
  if (!base.endsWith('.whl')) return null;
  const parts = base.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  return { dist: parts[0]!, version: parts[1]!, file: base };
}

/** PEP 503 name normalisation. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export function listWheels(wheelhouse: string): string[] {
  try {
    return readdirSync(wheelhouse).filter((f) => f.endsWith('.whl')).sort();
  } catch {
    return [];
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page(title: string, links: string[]): string {
  return `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.0"><title>${esc(title)}</title></head>\n  <body>\n${links.map((l) => `    ${l}<br/>`).join('\n')}\n  </body>\n</html>\n`;
}

let counter = 0;

/** Names, sizes and mtimes of the wheels: what an index was made from. */
function snapshot(wheelhouse: string): string {
  return listWheels(wheelhouse)
    .map((w) => {
      try {
        const st = statSync(path.join(wheelhouse, w));
        return `${w}:${st.size}:${st.mtimeMs}`;
      } catch {
        return `${w}:gone`;
      }
    })
    .join('\n');
}

/**
 * Rewrites the index after a package changed the wheelhouse. The change itself has landed, so a
 * problem here (an unreadable wheel, say) is a warning for `warn`, never a failure of the package.
 */
export function refreshIndex(wheelhouse: string, warn: (message: string) => void): void {
  try {
    writeSimpleIndex(wheelhouse);
  } catch (e) {
    warn(`could not rewrite the PEP 503 index ${wheelhouse}/simple/: ${(e as Error).message}; fix that and run 'sagebuild wheelhouse-index'`);
  }
}

/**
 * Rewrites <wheelhouse>/simple/ from the wheels present now. Returns the number of projects.
 * Another sagebuild process may add or remove wheels (and write its own index) meanwhile: after
 * the swap, the index is rebuilt until it was made from the wheels that are there, so the last
 * writer never leaves a stale one.
 */
/** The projects the index would list (normalised name -> its wheels), read without writing: `-n wheelhouse-index`. */
export function indexProjects(wheelhouse: string): Map<string, string[]> {
  const projects = new Map<string, string[]>();
  for (const w of listWheels(wheelhouse)) {
    const n = parseWheelFilename(w);
    if (n) (projects.get(normalizeName(n.dist)) ?? projects.set(normalizeName(n.dist), []).get(normalizeName(n.dist))!).push(w);
  }
  return new Map([...projects].sort(([a], [b]) => a.localeCompare(b)));
}

export function writeSimpleIndex(wheelhouse: string): number {
  for (let attempt = 0; ; attempt++) {
    const before = snapshot(wheelhouse);
    const n = writeIndexOnce(wheelhouse);
    if (snapshot(wheelhouse) === before || attempt >= 20) return n;
  }
}

function writeIndexOnce(wheelhouse: string): number {
  mkdirSync(wheelhouse, { recursive: true });
  const wheels = listWheels(wheelhouse);
  const projects = new Map<string, { wheel: string; sha: string }[]>();
  for (const w of wheels) {
    const n = parseWheelFilename(w);
    if (!n) continue;
    let sha: string;
    try {
      sha = createHash('sha256').update(readFileSync(path.join(wheelhouse, w))).digest('hex');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the wheel ${path.join(wheelhouse, w)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue; // removed meanwhile by another process: the caller's re-check rebuilds
    }
    const key = normalizeName(n.dist);
    (projects.get(key) ?? projects.set(key, []).get(key)!).push({ wheel: w, sha });
  }
  const dirName = `${INDEX_DIR_PREFIX}${process.pid}-${Date.now()}-${counter++}`;
  const dir = path.join(wheelhouse, dirName);
  mkdirSync(dir);
  const names = [...projects.keys()].sort();
  writeFileSync(path.join(dir, 'index.html'), page('Simple index', names.map((n) => `<a href="${esc(n)}/">${esc(n)}</a>`)));
  for (const n of names) {
    mkdirSync(path.join(dir, n));
    const links = projects.get(n)!.map(({ wheel, sha }) => `<a href="../../${encodeURIComponent(wheel)}#sha256=${sha}">${esc(wheel)}</a>`);
    writeFileSync(path.join(dir, n, 'index.html'), page(`Links for ${n}`, links));
  }
  // Atomic swap: a new symlink renamed over the old one.
  const link = path.join(wheelhouse, INDEX_LINK);
  const tmpLink = path.join(wheelhouse, `${INDEX_DIR_PREFIX}link-${process.pid}-${counter++}`);
  symlinkSync(dirName, tmpLink);
  try {
    if (lstatSync(link).isDirectory()) rmSync(link, { recursive: true, force: true });
  } catch {
    // no previous index
  }
  renameSync(tmpLink, link);
  removeStaleIndexes(wheelhouse, dirName);
  return names.length;
}

function removeStaleIndexes(wheelhouse: string, current: string): void {
  let target = current;
  try {
    target = readlinkSync(path.join(wheelhouse, INDEX_LINK));
  } catch {
    // keep current
  }
  for (const f of readdirSync(wheelhouse)) {
    const m = /^(\d+)-/.exec(f.startsWith(INDEX_DIR_PREFIX) ? f.slice(INDEX_DIR_PREFIX.length) : '');
    if (!m || f === target || f === current) continue;
    const pid = Number(m[1]);
    // Another live process may be writing its own index right now; leave those alone.
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(path.join(wheelhouse, f), { recursive: true, force: true });
  }
}

