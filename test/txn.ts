// Invariants of a prefix after any interruption and a rerun (issue 9): the journal and the backups
// are empty, every manifest's files exist, no file is unowned, and the prefix's content equals a
// clean build's. Shared by journal.test.ts, faults.test.ts and test/faults/run.ts.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

const RECORDS = ['var/lib/sage/installed', 'var/lib/sage/sagebuild/pip-installed'];
const JOURNAL = 'var/lib/sage/sagebuild/journal';
const BACKUPS = 'var/tmp/sagebuild-backup';
/** sagebuild's state, locks, caches, build dirs, logs (and the wheelhouse's index, below): not package content. */
const STATE = ['var/lib/sage/sagebuild', 'var/lib/sage/installed', 'var/lock', 'var/tmp', 'var/cache', 'var/log/sagebuild'];
const SITE = /^lib\/python[\d.]+\/site-packages\//;
/** The venv's own (pip's) content, when the prefix is a venv. */
const VENV = [SITE, /^bin\//, /^pyvenv\.cfg$/, /^lib64$/, /^include\//, /^share\/(man|python-wheels)\//];

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every path under `root` (relative), folders included, skipping the `skip` prefixes. */
function walk(root: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const go = (rel: string) => {
    for (const n of list(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (skip(r)) continue;
      const abs = path.join(root, r);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.set(r, `link:${readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        out.set(r, 'dir');
        go(r);
      } else out.set(r, `file:${(st.mode & 0o777).toString(8)}:${createHash('sha256').update(readFileSync(abs).toString('latin1').replaceAll(root, '<PREFIX>').replaceAll(path.dirname(root), '<RIG>')).digest('hex').slice(0, 16)}`);
    }
  };
  go('');
  return out;
}

interface ManifestLike {
  files: string[];
  sagebuild?: { python_dists?: { name: string; version: string; wheel: string }[] };
}

function manifests(prefix: string): Map<string, ManifestLike> {
  const out = new Map<string, ManifestLike>();
  for (const d of RECORDS) {
    for (const n of list(path.join(prefix, d))) {
      const text = readFileSync(path.join(prefix, d, n), 'utf8');
      try {
        out.set(`${d}/${n}`, JSON.parse(text) as ManifestLike);
      } catch (e) {
        throw new Error(`${d}/${n} in ${prefix} is not JSON (${text.length} bytes: ${JSON.stringify(text.slice(0, 80))}): ${(e as Error).message}`);
      }
    }
  }
  return out;
}

/**
 * What a prefix holds, comparable between prefixes: content (prefix path masked), manifests' file
 * lists. With `site`, a venv's site-packages is content too (what pip installed from the wheels;
 * compiled bytecode left out: it holds timestamps; RECORD files only as present).
 */
export function snapshot(prefix: string, o: { venv?: boolean; site?: boolean } = {}): { content: Record<string, string>; manifests: Record<string, string[]> } {
  const venvOwn = (rel: string) => VENV.some((re) => re.test(rel)) && !(o.site === true && SITE.test(rel) && !/\/__pycache__(\/|$)/.test(rel));
  const skip = (rel: string) => STATE.some((s) => rel === s || rel.startsWith(`${s}/`)) || /^var\/lib\/sage\/wheels\/(simple$|\.simple-)/.test(rel) || (o.venv === true && venvOwn(rel));
  const content = Object.fromEntries(walk(prefix, skip));
  // pip's RECORD hashes the scripts it wrote, whose #! line names the venv: present, not compared.
  if (o.site === true) for (const k of Object.keys(content)) if (SITE.test(k) && /\.dist-info\/RECORD$/.test(k)) content[k] = 'file:RECORD';
  const m = Object.fromEntries([...manifests(prefix)].map(([k, v]) => [k, [...v.files].sort()]));
  return { content, manifests: m };
}

/** The invariants that must hold after any crash and a rerun; returns the problems found (none: []). */
export function problems(prefix: string, o: { venv?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const n of list(path.join(prefix, JOURNAL))) out.push(`journal record left: ${n}`);
  for (const n of list(path.join(prefix, BACKUPS))) out.push(`backup left: ${BACKUPS}/${n}`);
  for (const d of RECORDS) for (const n of list(path.join(prefix, d))) if (n.startsWith('.')) out.push(`temp file left: ${d}/${n}`);
  let ms: Map<string, ManifestLike>;
  try {
    ms = manifests(prefix);
  } catch (e) {
    return [...out, `a manifest does not parse: ${(e as Error).message}`];
  }
  const owned = new Map<string, string>();
  for (const [file, m] of ms) {
    for (const f of m.files) {
      try {
        lstatSync(path.join(prefix, f));
      } catch {
        out.push(`${file} lists ${f}, which is missing`);
      }
      const prev = owned.get(f);
      if (prev && prev !== file) out.push(`${f} is listed by ${prev} and ${file}`);
      owned.set(f, file);
    }
  }
  const { content } = snapshot(prefix, o);
  for (const [rel, what] of Object.entries(content)) {
    if (what === 'dir' || rel.startsWith('var/lib/sage/scripts/')) continue;
    if (!owned.has(rel)) out.push(`${rel} is owned by no manifest`);
  }
  // One wheel per installed Python distribution.
  const wheels = list(path.join(prefix, 'var/lib/sage/wheels')).filter((w) => w.endsWith('.whl')).sort();
  const recorded = [...ms.values()].flatMap((m) => m.sagebuild?.python_dists ?? []).map((d) => d.wheel).sort();
  if ((wheels.length || recorded.length) && JSON.stringify(wheels) !== JSON.stringify(recorded)) out.push(`wheelhouse ${wheels.join(' ')} != recorded ${recorded.join(' ')}`);
  return out;
}

const canon = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

/**
 * The venv's side of the invariants (the prefix is the venv): the distributions installed in it
 * are exactly the manifests' (names and versions), no stash of a killed pip (`~name`) is left, and
 * `pip check` passes. Runs the venv's Python.
 */
export async function venvProblems(prefix: string): Promise<string[]> {
  const out: string[] = [];
  const python = path.join(prefix, 'bin', 'python3');
  const listed = await execa(python, ['-c', 'import importlib.metadata as m, json, sysconfig\nprint(json.dumps(sorted([d.metadata["Name"], d.version] for d in m.distributions(path=[sysconfig.get_paths()["purelib"]]))))'], { reject: false });
  if (listed.exitCode !== 0) return [`the venv's distributions cannot be listed: ${listed.stderr}`];
  const installed = (JSON.parse(listed.stdout) as [string, string][]).map(([n, v]) => `${canon(n)}==${v}`).sort();
  const recorded = [...manifests(prefix).values()].flatMap((m) => m.sagebuild?.python_dists ?? []).map((d) => `${canon(d.name)}==${d.version}`).sort();
  if (JSON.stringify(installed) !== JSON.stringify(recorded)) out.push(`the venv has ${installed.join(' ')}; the manifests record ${recorded.join(' ')}`);
  for (const d of list(path.join(prefix, 'lib'))) for (const n of list(path.join(prefix, 'lib', d, 'site-packages'))) if (n.startsWith('~')) out.push(`pip's stash left: lib/${d}/site-packages/${n}`);
  const check = await execa(python, ['-m', 'pip', 'check', '--disable-pip-version-check'], { reject: false, env: { PIP_RETRIES: '0' } });
  if (check.exitCode !== 0) out.push(`pip check: ${check.stdout}${check.stderr}`.trim());
  return out;
}

/** The differences between two snapshots, as lines (none: []). */
export function diff(a: ReturnType<typeof snapshot>, b: ReturnType<typeof snapshot>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a.content), ...Object.keys(b.content)])) if (a.content[k] !== b.content[k]) out.push(`${k}: ${a.content[k] ?? 'absent'} vs ${b.content[k] ?? 'absent'}`);
  for (const k of new Set([...Object.keys(a.manifests), ...Object.keys(b.manifests)])) {
    if (JSON.stringify(a.manifests[k]) !== JSON.stringify(b.manifests[k])) out.push(`manifest ${k} differs`);
  }
  return out;
}
