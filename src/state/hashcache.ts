// Content hashes of files, cached by (path, size, mtime, inode) as ninja and git do, so a no-op
// run re-hashes only files whose stat changed. Touching a file re-hashes it but, its content
// being equal, changes no fingerprint.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync, type Stats } from 'node:fs';
import { UserError } from '../diagnostics.js';
import { CacheEntries, changedRecently } from '../util/fs.js';

interface Entry {
  s: number; // size
  m: number; // mtimeMs
  i: number; // inode
  h: string; // sha256 hex
}


/** A build input that cannot be read cannot be fingerprinted (nor built from). */
function unreadable(file: string, err: unknown): UserError {
  return new UserError({ file, message: `cannot read this build input: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, hint: 'check its permissions (sagebuild hashes every recipe and in-tree source file)' });
}

export class HashCache {
  readonly #cache: CacheEntries<Entry>;

  constructor(file: string | null) {
    this.#cache = new CacheEntries<Entry>(file);
  }

  /** sha256 of the file's content; `st` may be passed when the caller has stat'ed already. */
  hash(file: string, st?: Stats): string {
    const s = st ?? statSync(file);
    const e = this.#cache.entries[file];
    if (e && e.s === s.size && e.m === s.mtimeMs && e.i === s.ino) {
      // chmod changes none of the keys: a cached input must still be readable to be built from.
      try {
        accessSync(file, constants.R_OK);
      } catch (err) {
        throw unreadable(file, err);
      }
      return e.h;
    }
    let content: Buffer;
    try {
      content = readFileSync(file);
    } catch (err) {
      throw unreadable(file, err);
    }
    const h = createHash('sha256').update(content).digest('hex');
    if (!changedRecently(s)) this.#cache.set(file, { s: s.size, m: s.mtimeMs, i: s.ino, h });
    return h;
  }

  save(): void {
    this.#cache.save();
  }
}
