// The configured interpreter: who it is (version, real path), asked once per command, and not at
// all when the prefix remembers the answer of that very binary (its real path, inode, size and
// mtime): a no-op starts no Python. A pyenv shim picks its interpreter anew on every call, from
// the environment and the folders' version files: its answer is remembered by those (pyenvChoice)
// and by the identity of the binary it chose. Any other script in its place is always asked.
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { capture, captureSync, failureLine, ranOk, type Captured } from '../proc/spawn.js';
import { readJsonOrNull, writeFileAtomic } from '../util/fs.js';

export interface PythonInfo {
  executable: string;
  /** major.minor */
  version: string;
  /** The full sys.version line. */
  full: string;
}

const pyCache = new Map<string, PythonInfo | Error>();
const pending = new Map<string, Promise<PythonInfo | Error>>();
const PY_QUERY = 'import sys, os; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable)); print(sys.version.splitlines()[0])';

/** Interpreters whose answer this command has checked against the prefix's cache. */
const settled = new Set<string>();
let remembered: { file: string; write: boolean; data: Record<string, Remembered> | null } | null = null;

/** Where the answers are kept for this command (the prefix's cache); `write`: false on a dry run. */
export function rememberInterpreters(file: string, write: boolean): void {
  remembered = { file, write, data: null };
  settled.clear();
  identities.clear();
}

/**
 * The real path of the binary (ELF, Mach-O) that `python` names, a bare name searched on PATH as
 * exec does; null for a script (a pyenv shim, say) or what cannot be found.
 */
export function interpreterBinary(python: string): string | null {
  const file = onPath(python);
  if (!file) return null;
  try {
    const real = realpathSync(file);
    const head = Buffer.alloc(4);
    const fd = openSync(real, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    const binary = head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || [0xfeedfacf, 0xcffaedfe, 0xcafebabe].includes(head.readUInt32BE(0)); // ELF, Mach-O
    return binary ? real : null;
  } catch {
    return null;
  }
}

/** `python` as exec finds it: a path as it is, a bare name searched on PATH; undefined if absent. */
function onPath(python: string): string | undefined {
  if (python.includes('/')) return python;
  return (process.env.PATH ?? '').split(':').filter(Boolean).map((d) => path.join(d, python)).find((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** A file's identity (inode, size, mtime), '-' where there is none. */
function fileId(file: string): string {
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : '-';
  } catch {
    return '-';
  }
}

/**
 * Everything pyenv chooses an interpreter by, when `file` is one of its shims (`<root>/shims/X`
 * beside `<root>/libexec/pyenv`); null for any other script. pyenv takes PYENV_VERSION, else the
 * first `.python-version` from PYENV_DIR (else the folder) up to /, else `<root>/version`; a
 * version may be a prefix ("3.11") that the installed versions resolve, or `system` (PATH). So:
 * those variables, the shim, every `.python-version` on the way up (present or not), the global
 * version files and the versions folder (an install or removal changes it). A change to any of
 * them asks the shim again.
 */
function pyenvChoice(file: string): string | null {
  let shim: string;
  try {
    shim = realpathSync(file);
  } catch {
    return null;
  }
  const root = path.dirname(path.dirname(shim));
  if (path.basename(path.dirname(shim)) !== 'shims' || !existsSync(path.join(root, 'libexec', 'pyenv'))) return null;
  const parts = ['pyenv', shim, fileId(shim), ...['PYENV_VERSION', 'PYENV_ROOT', 'PYENV_DIR', 'PATH'].map((v) => `${v}=${process.env[v] ?? ''}`)];
  for (const start of new Set([path.resolve(process.env.PYENV_DIR || process.cwd()), process.cwd()])) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      parts.push(fileId(path.join(dir, '.python-version')));
      if (path.dirname(dir) === dir) break;
    }
  }
  for (const r of new Set([root, process.env.PYENV_ROOT || root])) for (const f of ['version', 'global', 'default', 'versions']) parts.push(fileId(path.join(r, f)));
  return parts.join('\0');
}

/** What `python` runs, as a cache key (`shim`: a pyenv shim with all it chooses by, not a binary). */
interface Identity {
  key: string;
  shim: boolean;
}
/** This command's identities: looked up (PATH, stats) once per interpreter, as answers are settled once. */
const identities = new Map<string, Identity | null>();

/** The binary, or a pyenv shim; null for another script or what cannot be found. */
function identity(python: string): Identity | null {
  let id = identities.get(python);
  if (id !== undefined) return id;
  id = null;
  const real = interpreterBinary(python);
  if (!real) {
    const file = onPath(python);
    const choice = file ? pyenvChoice(file) : null;
    if (choice) id = { key: [python, choice, process.env.PYTHONHOME ?? ''].join('\0'), shim: true };
  } else {
    const st = statSync(real, { throwIfNoEntry: false });
    if (st) id = { key: [python, real, st.dev, st.ino, st.size, st.mtimeMs, process.env.PYTHONHOME ?? ''].join('\0'), shim: false };
  }
  identities.set(python, id);
  return id;
}

/** A remembered answer; a shim's also names the binary it chose (`binary`: its identity then). */
type Remembered = PythonInfo & { binary?: string };

function recalled(python: string): PythonInfo | undefined {
  const id = remembered && identity(python);
  if (!remembered || !id) return undefined;
  remembered.data ??= readJsonOrNull<Record<string, Remembered>>(remembered.file) ?? {};
  const info = remembered.data[id.key];
  if (!info || typeof info.version !== 'string' || typeof info.executable !== 'string' || typeof info.full !== 'string') return undefined;
  // The shim's choice is the same; the binary it chose must be too (reinstalled, upgraded: asked again).
  if (info.binary !== undefined && fileId(info.executable) !== info.binary) return undefined;
  return { executable: info.executable, version: info.version, full: info.full };
}

function remember(python: string, info: PythonInfo | Error): void {
  const id = remembered && identity(python);
  if (!remembered || !id || info instanceof Error) return;
  remembered.data ??= readJsonOrNull<Record<string, Remembered>>(remembered.file) ?? {};
  // The newest last; the oldest go beyond 32 (each folder and version choice of a shim is a key).
  delete remembered.data[id.key];
  remembered.data[id.key] = id.shim ? { ...info, binary: fileId(info.executable) } : info;
  for (const old of Object.keys(remembered.data).slice(0, -32)) delete remembered.data[old];
  // Only into a prefix sagebuild has built into (its state folder exists): a query in a fresh
  // folder leaves no prefix behind.
  if (!remembered.write || !existsSync(path.dirname(remembered.file))) return;
  try {
    writeFileAtomic(remembered.file, JSON.stringify(remembered.data, null, 1) + '\n', { durable: false });
  } catch {
    // a cache: asked again next time
  }
}

/** This process's answer; the prefix remembers it too (an answer this process had before it knew the prefix included). */
function settle(python: string, info: PythonInfo | Error): void {
  pyCache.set(python, info);
  // Once per command (rememberInterpreters starts one): pythonInfo is called for every Python package, and
  // recalled() reads the binary's identity from disk.
  if (info instanceof Error || settled.has(python)) return;
  settled.add(python);
  if (recalled(python) === undefined) remember(python, info);
}

function parseInfo(out: string): PythonInfo {
  const [version = '', executable = '', full = ''] = out.trim().split('\n');
  return { version, executable, full };
}

function answer(python: string, r: Captured): PythonInfo | Error {
  if (!ranOk(r)) return new Error(`cannot run the configured Python '${python}': ${failureLine(r).split('\n')[0]}`);
  try {
    return parseInfo(r.stdout);
  } catch (e) {
    return new Error(`cannot run the configured Python '${python}': ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Asks the interpreter who it is, in the background (memoised with pythonInfo's answer): starting
 * Python (through a pyenv shim, say) can take 100 ms, which then overlaps with reading the recipe
 * tree. A failure is the answer, not a rejection.
 */
export function askPython(python: string): Promise<PythonInfo | Error> {
  let p = pending.get(python);
  if (!p) {
    const known = pyCache.get(python) ?? recalled(python);
    if (known) settle(python, known);
    p = known
      ? Promise.resolve(known)
      : capture(python, ['-S', '-c', PY_QUERY]).then((r) => {
          if (!pyCache.has(python)) settle(python, answer(python, r));
          return pyCache.get(python)!;
        });
    pending.set(python, p);
  }
  return p;
}

/** Asks the configured interpreter who it is (memoised per command; spawns once). */
export function pythonInfo(python: string): PythonInfo {
  const info = pyCache.get(python) ?? recalled(python) ?? answer(python, captureSync(python, ['-S', '-c', PY_QUERY]));
  settle(python, info);
  if (info instanceof Error) throw info;
  return info;
}

