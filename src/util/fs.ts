// Small file helpers: reads where "missing or unreadable" is an ordinary answer, and the atomic
// write every record and cache uses.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

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

/** mtime in ms; 0 when the file is gone. */
export function mtimeMsOr0(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** temp file + fsync + rename: readers see the old or the new content, never half of it. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
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
