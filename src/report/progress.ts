// Not on a terminal (CI, a pipe, a file): a plain progress line now and then among the prefixed
// lines, `sagebuild: [12/87] done, 3 running, 1 failed`: every EVERY_PACKAGES packages finished,
// and after EVERY_MS without one (a long package: the log shows the run is alive). No control characters.
import type { EventBus } from '../events.js';
import type { Writer } from '../util/io.js';

export const EVERY_PACKAGES = 25;
export const EVERY_MS = 30_000;

export class ProgressLines {
  #total = 0;
  #done = 0;
  /** Ids, not a count: a package can fail before it starts (its lock could not be taken). */
  readonly #running = new Set<string>();
  #failed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    bus: EventBus,
    private readonly out: Writer,
  ) {
    bus.on((e) => {
      switch (e.type) {
        case 'run-start':
          this.#total = e.packages.length;
          this.#done = this.#failed = 0;
          this.#running.clear();
          this.#restart();
          break;
        case 'pkg-start':
          this.#running.add(e.id);
          break;
        case 'pkg-done':
        case 'pkg-failed':
        case 'pkg-skipped':
          this.#running.delete(e.id);
          if (e.type === 'pkg-failed' && !e.canceled) this.#failed++;
          if (++this.#done % EVERY_PACKAGES === 0 && this.#done < this.#total) {
            this.#print();
            this.#restart(); // the next timed line counts from this one
          }
          break;
        case 'summary':
          this.stop();
          break;
        default:
          break;
      }
    });
  }

  #print(): void {
    this.out.write(`sagebuild: [${this.#done}/${this.#total}] done, ${this.#running.size} running, ${this.#failed} failed\n`);
  }

  #restart(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#print(), EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
