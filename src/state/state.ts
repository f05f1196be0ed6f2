// The installed state of one command's trees (the prefix and the venv), opened once per command
// and handed to every action: the installation records and file ownership (InstalledDb) and the
// stat-keyed file-hash cache (saved only by commands that may change the prefix).
import type { Config } from '../config.js';
import { HashCache } from './hashcache.js';
import { InstalledDb } from './installed.js';
import { hashCacheFile } from './layout.js';

export class InstalledState {
  readonly db: InstalledDb;
  readonly #cacheFile: string | null;
  #hashes: HashCache | undefined;

  /** `dryRun`: changes nothing on disk, not even the hash cache (which it then does not read either). */
  constructor(config: Pick<Config, 'prefix' | 'venv'>, dryRun: boolean) {
    this.db = new InstalledDb([config.prefix, config.venv]);
    this.#cacheFile = dryRun ? null : hashCacheFile(config.prefix);
  }

  /** The file-hash cache, read on first use (commands that fingerprint nothing never read it). */
  get hashes(): HashCache {
    return (this.#hashes ??= new HashCache(this.#cacheFile));
  }

  /** Writes the file-hash cache if it was read (and changed). */
  saveHashes(): void {
    this.#hashes?.save();
  }
}
