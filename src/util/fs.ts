// Small file helpers: reads where "missing or unreadable" is an ordinary answer, and the atomic
// write every record and cache uses.
import { type Stats, closeSync, fdatasync, fsync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { processAlive, processStart } from './proc.js';

/** The names in a folder; [] when it does not exist or cannot be read. */
export function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A file's text; null when it does not exist or cannot be read. */
export function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** A file's JSON content; null when it is missing, unreadable or not JSON (damaged). */
export function readJsonOrNull<T>(file: string): T | null {
  const text = readTextOrNull(file);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The file's stat, following links; null when it cannot be stat'ed. */
export function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** Files changed this recently may change again within the same timestamp tick: caches never trust them. */
const RACY_MS = 2000;

/** Changed (content or metadata) within the racy window: a cache must not key anything on this stat. */
export function changedRecently(s: Stats, now = Date.now()): boolean {
  return now - Math.max(s.mtimeMs, s.ctimeMs) < RACY_MS;
}

/**
 * A cache file of entries by key (`{ version: 1, entries }`): read once (absent, damaged or of
 * another version: empty), written when changed; `file` null (a dry run) reads and writes nothing.
 */
export class CacheEntries<T> {
  readonly entries: Record<string, T> = {};
  #dirty = false;

  constructor(readonly file: string | null) {
    const data = file ? readJsonOrNull<{ version?: number; entries?: Record<string, T> }>(file) : null;
    if (data?.version === 1 && data.entries && typeof data.entries === 'object') this.entries = data.entries;
  }

  set(key: string, value: T): void {
    this.entries[key] = value;
    this.#dirty = true;
  }

  /** Drops the entries whose key is not in `keep`. */
  keepOnly(keep: Set<string>): void {
    for (const k of Object.keys(this.entries)) {
      if (!keep.has(k)) {
        delete this.entries[k];
        this.#dirty = true;
      }
    }
  }

  /** Writes the file if anything changed; a cache that cannot be written only costs time. */
  save(o: { durable?: boolean } = {}): void {
    if (!this.file || !this.#dirty) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, JSON.stringify({ version: 1, entries: this.entries }), o);
      this.#dirty = false;
    } catch {
      // kept dirty: the next save tries again
    }
  }
}

/** The path exists (a dangling symlink counts). */
export function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** mtime in ms; 0 when the file is gone. */
export function mtimeMsOr0(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Writes all of `data` (a short write, as on a full disk, is continued until it fails). */
export function writeAllSync(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error(`short write (${off} of ${buf.length} bytes)`), { code: 'EIO' });
    off += n;
  }
}

/** fsyncs a folder, so that a rename or creation in it survives a power loss. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // a folder that cannot be opened for reading cannot be synced either
  }
  try {
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on folders: nothing more can be done
  } finally {
    closeSync(fd);
  }
}

/**
 * Who writes a temp file: `<pid>-s<start>` (the process's start time, /proc's clock ticks since
 * boot, read on the first write), so that a later process given the same pid is not taken for
 * the writer (pids wrap at 32768 on many systems, within minutes on a busy build machine);
 * `<pid>` where /proc cannot say.
 */
function owner(): string {
  const start = processStart(process.pid);
  return start ? `${process.pid}-s${start}` : String(process.pid);
}

/**
 * Writes `file` through a temp file, every byte written, fsync, rename, fsync of the folder:
 * readers (and a reboot) see the old or the new content, never half of it. On failure the temp
 * file is removed and the error (with its errno code) names the file.
 */
export function writeFileAtomic(file: string, content: string | Buffer, o: { durable?: boolean } = {}): void {
  const durable = o.durable ?? true;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${owner()}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAllSync(fd, content);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(file, e);
  }
  if (durable) fsyncDir(dir);
}

function cannotWrite(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  return Object.assign(new Error(`cannot write ${file}: ${code} (${(e as Error).message})`), { code });
}

/**
 * writeFileAtomic with the waits for the disk (fsync of the file, then of its folder) off the
 * main thread, so that other packages' work goes on meanwhile. Opening, writing to the page
 * cache, closing and renaming are done here: each would cost a round trip to libuv's pool (and a
 * promise) for a few microseconds of work. The temp file's name is unique per call: two writes
 * of one file in flight at once never share it.
 */
export async function writeFileAtomicAsync(file: string, content: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${owner()}-${++tmpSeq}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAllSync(fd, content);
      await syncFd(fd, false);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(file, e);
  }
  await fsyncDirAsync(dir);
}
let tmpSeq = 0;

/** fsync (or fdatasync) in libuv's pool. */
function syncFd(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((resolve, reject) => (dataOnly ? fdatasync : fsync)(fd, (e) => (e ? reject(e) : resolve())));
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let fd;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // as fsyncDir
  }
  try {
    await syncFd(fd, false);
  } catch {
    // some file systems refuse fsync on folders
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends a line to a file and fdatasyncs it, the wait for the disk off the main thread (a torn
 * last line is what a reader must expect after a crash).
 */
export async function appendLineDurableAsync(file: string, line: string): Promise<void> {
  const fd = openSync(file, 'a');
  try {
    writeAllSync(fd, line + '\n');
    await syncFd(fd, true);
  } finally {
    closeSync(fd);
  }
}

/** Makes `dir` (and its parents) and creates a file in it: null, or the errno code that stops it. */
export function writableDirProblem(dir: string): string | null {
  const probe = path.join(dir, `.sagebuild-probe-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(probe, 'wx')); // a real creation: permissions alone miss read-only mounts
    unlinkSync(probe);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * Removes the temp files (writeFileAtomic's `.<name>.tmp-<pid>-s<start>`, writeFileAtomicAsync's
 * `...-<n>` after it; `<pid>` alone where /proc cannot say, or from an older sagebuild) that
 * processes now gone left in `dir`: a kill between the write and the rename. A live process's temp
 * file is its write in progress; a process that reuses a dead writer's pid is not its writer.
 */
export function removeDeadTemps(dir: string): void {
  for (const n of readdirOrEmpty(dir)) {
    const m = n.startsWith('.') ? /\.tmp-(\d+)(?:-s(\d+))?(?:-\d+)?$/.exec(n) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    const writing = processAlive(pid) && (m[2] === undefined || processStart(pid) === m[2]);
    if (!writing) rmSync(path.join(dir, n), { force: true });
  }
}
