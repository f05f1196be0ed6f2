// What planning reads of an installation record (the fingerprint it was built with, its test
// result), kept in the prefix's state folder by the record's identity (inode, size, mtime,
// ctime): a no-op stats each record instead of reading and parsing it (a record lists every file
// the package installed). Only a record that keeps its fingerprint's inputs is summarised (a
// differing fingerprint is explained from them, read in full then); one changed within the racy
// window is not; a damaged cache file is ignored (and rewritten).
import type { Stats } from 'node:fs';
import { CacheEntries, changedRecently, statOrNull } from '../util/fs.js';
import type { Manifest } from './manifest.js';

/** inode, size, mtime, ctime: a record is rewritten by a rename (a new inode), any change shows. */
type Key = [number, number, number, number];
export interface RecordSummary {
  fingerprint: string;
  /** The record's test_result as written (undefined, as read, when a foreign record lacks it). */
  test: Manifest['test_result'];
}
interface Entry extends RecordSummary {
  k: Key;
}


const key = (s: Stats): Key => [s.ino, s.size, s.mtimeMs, s.ctimeMs];

export class RecordSummaries {
  readonly #cache: CacheEntries<Entry>;

  /** `file` null (a dry run): nothing is read or written, every record is read in full. */
  constructor(file: string | null) {
    this.#cache = new CacheEntries<Entry>(file);
  }

  /** The summary of the record `file` as it is now; null when there is none or the record changed. */
  get(file: string): RecordSummary | null {
    if (!this.#cache.file) return null;
    const e = this.#cache.entries[file];
    if (!e || !Array.isArray(e.k) || typeof e.fingerprint !== 'string') return null;
    const s = statOrNull(file);
    return s && key(s).every((x, i) => x === e.k[i]) ? e : null;
  }

  /** `st`: the record's stat taken before it was read (a change while reading shows next time). */
  note(file: string, st: Stats, m: Manifest): void {
    if (!this.#cache.file || changedRecently(st)) return;
    const fingerprint = m.sagebuild?.fingerprint;
    if (typeof fingerprint !== 'string' || !m.sagebuild?.inputs) return;
    this.#cache.set(file, { k: key(st), fingerprint, test: m.test_result });
  }

  /** Written with the entries of `records` (the installed ones) only. */
  save(records: Set<string>): void {
    this.#cache.keepOnly(records);
    this.#cache.save({ durable: false });
  }
}
