// On a terminal: one status line at the bottom, redrawn in place (report/statusline.ts words it),
// everything else printed above it. The line is drawn on each package event and by a timer (the
// running packages' clocks), at most every REDRAW_MS; the timer is unref'd and stops with the run.
import type { EventBus } from '../events.js';
import type { Writer } from '../util/io.js';
import { estimateEta, formatStatusLine } from './statusline.js';
import type { Paint } from './style.js';

const REDRAW_MS = 100;
/** Back to the line's start and erase it. */
const ERASE = '\r\x1b[K';

/**
 * The terminal's two streams with a status line on stdout: `stdout` and `stderr` print above the
 * line (erase it, write, draw it again), so no one else need know it is there.
 */
export class LiveTerminal {
  #line = '';
  /** A write that did not end its line: the status line waits for the newline. */
  #partial = false;
  readonly stdout: Writer;
  readonly stderr: Writer;

  constructor(
    private readonly out: Writer,
    err: Writer,
  ) {
    this.stdout = { write: (t: string) => this.#above(out, t) };
    this.stderr = { write: (t: string) => this.#above(err, t) };
  }

  #above(w: Writer, text: string): void {
    if (!text) return;
    if (this.#line && !this.#partial) this.out.write(ERASE);
    w.write(text);
    this.#partial = !text.endsWith('\n');
    if (this.#line && !this.#partial) this.out.write(this.#line);
  }

  /** Shows `line` (already fitted to the width) in place of the last one. */
  draw(line: string): void {
    if (line === this.#line) return;
    if (!this.#partial) this.out.write(ERASE + line);
    this.#line = line;
  }

  /** Removes the line (the run is over). */
  clear(): void {
    if (this.#line && !this.#partial) this.out.write(ERASE);
    this.#line = '';
  }
}

export interface LiveOptions {
  paint: Paint;
  /** The terminal's width now (undefined: 80). */
  columns: () => number | undefined;
  now?: () => number;
}

/** The status line's reporter: keeps count of the run's packages and redraws the line. */
export class LiveStatus {
  #total = 0;
  #done = 0;
  #failed = 0;
  #jobs = 1;
  #expected = new Map<string, number | null>();
  #waiting = new Set<string>();
  readonly #running = new Map<string, { name: string; started: number }>();
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(
    bus: EventBus,
    readonly terminal: LiveTerminal,
    private readonly o: LiveOptions,
  ) {
    this.#now = o.now ?? Date.now;
    bus.on((e) => {
      switch (e.type) {
        case 'run-start':
          this.#total = e.packages.length;
          this.#done = this.#failed = 0;
          this.#jobs = e.jobs;
          this.#expected = new Map(e.packages.map((p) => [p.id, p.expectedMs]));
          this.#waiting = new Set(e.packages.map((p) => p.id));
          this.#running.clear();
          clearInterval(this.#timer);
          this.#timer = setInterval(() => this.redraw(), REDRAW_MS);
          this.#timer.unref();
          break;
        case 'pkg-start':
          this.#waiting.delete(e.id);
          this.#running.set(e.id, { name: e.name, started: this.#now() });
          break;
        case 'pkg-done':
        case 'pkg-failed':
        case 'pkg-skipped':
          this.#waiting.delete(e.id);
          this.#running.delete(e.id);
          this.#done++;
          if (e.type === 'pkg-failed' && !e.canceled) this.#failed++;
          break;
        case 'summary':
          this.stop();
          return;
        default:
          return;
      }
      if (this.#timer) this.redraw();
    });
  }

  /** Draws the line as things stand (the timer and each package event call it). */
  redraw(): void {
    const now = this.#now();
    const running = [...this.#running].map(([id, r]) => ({ name: r.name, elapsedMs: now - r.started, expectedMs: this.#expected.get(id) ?? null })).sort((a, b) => b.elapsedMs - a.elapsedMs);
    const etaMs = estimateEta([...this.#waiting].map((id) => this.#expected.get(id) ?? null), running, this.#jobs);
    // One column spare: a line that fills the last column wraps on some terminals.
    const width = (this.o.columns() || 80) - 1;
    this.terminal.draw(formatStatusLine({ done: this.#done, total: this.#total, running, failed: this.#failed, etaMs }, width, this.o.paint));
  }

  /** Ends the line: the timer stops and the line is erased (at the run's end, or when the command ends early). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.terminal.clear();
  }
}
