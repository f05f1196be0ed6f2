// The installed state of one command's trees (the prefix and the venv), opened once per command
// and handed to every action: the installation records and file ownership (InstalledDb) and the
// stat-keyed file-hash cache (saved only by commands that may change the prefix).
import type { Config } from '../config.js';
import { HashCache } from './hashcache.js';
import { InstalledDb } from './installed.js';
import { hashCacheFile, recordSummaryFile } from './layout.js';
import { RecordSummaries } from './recordsummary.js';

export class InstalledState {
  readonly db: InstalledDb;
  readonly #cacheFile: string | null;
  readonly #recordsFile: string | null;
  #hashes: HashCache | undefined;
  #records: RecordSummaries | undefined;

  /** `dryRun`: changes nothing on disk, not even the hash cache (which it then does not read either). */
  constructor(config: Pick<Config, 'prefix' | 'venv'>, dryRun: boolean) {
    this.db = new InstalledDb([config.prefix, config.venv]);
    this.#cacheFile = dryRun ? null : hashCacheFile(config.prefix);
    this.#recordsFile = dryRun ? null : recordSummaryFile(config.prefix);
  }

  /** The file-hash cache, read on first use (commands that fingerprint nothing never read it). */
  get hashes(): HashCache {
    return (this.#hashes ??= new HashCache(this.#cacheFile));
  }

  /** What planning reads of each record, read on first use (a dry run reads every record in full). */
  get records(): RecordSummaries {
    return (this.#records ??= new RecordSummaries(this.#recordsFile));
  }

  /** Writes the record summaries if they were read (and changed), with the installed records' only. */
  saveRecords(): void {
    this.#records?.save(new Set([...this.db.entries.values()].flatMap((l) => l.map((e) => e.file))));
  }

  /** Writes the file-hash cache if it was read (and changed). */
  saveHashes(): void {
    this.#hashes?.save();
  }
}
