// Build folders removed off this process: each is renamed into the build dir's `.trash` (one
// rename: the package's folder is free again at once) and `rm -rf` removes what was thrown away,
// one rm at a time and at most one per 200 ms, each taking everything discarded since the last
// one began (a handful of processes per run). fs/promises' rm costs this process's main thread a
// round trip per entry: about 2 ms per package even for a recipe that installs one file.
// What a killed run left in `.trash` goes with the next run's first rm.
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runQuietly } from './spawn.js';

/** Entries per rm: far below ARG_MAX, with names of a few dozen bytes. */
const BATCH = 500;
const GAP_MS = 200;

export class Trash {
  #queue: string[] = [];
  #running: Promise<void> | null = null;
  #count = 0;
  #opened = false;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing = false;

  constructor(readonly dir: string) {}

  /**
   * Removes `folder` (nothing if it does not exist). When this resolves, the folder is gone from
   * its place; its contents are removed soon after (settled() waits for that).
   */
  async discard(folder: string): Promise<void> {
    this.#open();
    const to = path.join(this.dir, `${path.basename(folder)}-${process.pid}-${this.#count++}`);
    try {
      renameSync(folder, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      // Another file system (a mount point), no permission on the trash: remove it in place.
      await rm(folder, { recursive: true, force: true });
      return;
    }
    this.#queue.push(to);
    this.#pump();
  }

  /** Resolves once everything discarded so far is removed. */
  async settled(): Promise<void> {
    this.#flushing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pump();
    while (this.#running) await this.#running;
    this.#flushing = false;
  }

  #open(): void {
    if (this.#opened) return;
    this.#opened = true;
    try {
      mkdirSync(this.dir, { recursive: true });
      this.#queue.push(...readdirSync(this.dir).map((n) => path.join(this.dir, n)));
    } catch {
      // discard() then removes in place
    }
  }

  #pump(): void {
    if (this.#running || !this.#queue.length) return;
    // At most one rm per GAP_MS: packages that end close together share one.
    const wait = this.#last + GAP_MS - Date.now();
    if (wait > 0 && !this.#flushing) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    this.#last = Date.now();
    const batch = this.#queue.splice(0, BATCH);
    this.#running = runQuietly('rm', ['-rf', '--', ...batch], this.dir)
      .then(async (ok) => {
        // No rm (or it failed): the same removal in-process.
        if (!ok) await Promise.all(batch.map((f) => rm(f, { recursive: true, force: true }).catch(() => undefined)));
      })
      .finally(() => {
        this.#running = null;
        this.#pump();
      });
  }
}
