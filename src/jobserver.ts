// sagebuild as a GNU make jobserver, so that `-j N` bounds everything: packages built at once
// AND the jobs of every nested `make` (ninja >= 1.13 and cargo honour it too). A FIFO holds N-1
// tokens; every running package holds one token (the first one sagebuild's own), and each make
// inside it takes more from the FIFO, passed down as fd 3 with
// MAKEFLAGS="-jN --jobserver-auth=3,3" (the fd form, which make 4.3 understands).
import { closeSync, constants, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { captureSync } from './proc/spawn.js';

export const JOBSERVER_FD = 3;

export class Jobserver {
  readonly #fd: number;
  readonly #nonBlocking: number;
  readonly jobs: number;

  private constructor(fd: number, nonBlocking: number, jobs: number) {
    this.#fd = fd;
    this.#nonBlocking = nonBlocking;
    this.jobs = jobs;
  }

  /** Creates the FIFO in `dir` with jobs-1 tokens. Returns null where mkfifo is unavailable. */
  static create(dir: string, jobs: number): Jobserver | null {
    const fifo = path.join(dir, `.jobserver-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
      rmSync(fifo, { force: true });
      if (captureSync('mkfifo', ['-m', '600', fifo]).code !== 0) throw new Error('mkfifo failed');
      // O_RDWR on a FIFO does not block on Linux, and keeps it open with no other reader/writer.
      const fd = openSync(fifo, constants.O_RDWR);
      const nb = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      rmSync(fifo, { force: true }); // children inherit the fd; the name is not needed
      if (jobs > 1) writeSync(fd, Buffer.alloc(jobs - 1, '+'));
      return new Jobserver(fd, nb, jobs);
    } catch {
      rmSync(fifo, { force: true });
      return null;
    }
  }

  /** The fd to hand to children as their fd 3. */
  get fd(): number {
    return this.#fd;
  }

  get makeflags(): string {
    return ` -j${this.jobs} --jobserver-auth=${JOBSERVER_FD},${JOBSERVER_FD}`;
  }

  /** Takes a token if one is free (never blocks). */
  tryAcquire(): boolean {
    try {
      return readSync(this.#nonBlocking, Buffer.alloc(1), 0, 1, null) === 1;
    } catch {
      return false; // EAGAIN: none free now
    }
  }

  release(): void {
    writeSync(this.#fd, '+');
  }

  close(): void {
    closeSync(this.#nonBlocking);
    closeSync(this.#fd);
  }
}
