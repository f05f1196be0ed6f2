// `--trace FILE`: a Chrome trace (chrome://tracing, Perfetto) of the run: one bar per package
// build, on as many lanes as ran at once, so the critical path and idle slots are visible; inside
// each, one bar per phase (download, unpack, each recipe script, pip lock wait, pip install,
// merge), so the trace shows where a package's time goes.
import { reasonsText } from './reasons.js';
import { writeFileSync } from 'node:fs';
import type { EventBus } from '../events.js';

interface Slice {
  name: string;
  /** `package` or `phase` */
  cat: string;
  ph: 'X';
  ts: number;
  dur: number;
  pid: number;
  tid: number;
  args: Record<string, string>;
}

export class TraceWriter {
  readonly #t0 = performance.now();
  readonly #open = new Map<string, { ts: number; lane: number; reasons: string }>();
  /** Phases begun and not yet ended, by package id + phase + detail. */
  readonly #phases = new Map<string, number>();
  readonly #lanes: boolean[] = [];
  readonly #slices: Slice[] = [];

  constructor(
    bus: EventBus,
    private readonly file: string,
  ) {
    bus.on((e) => {
      const now = (performance.now() - this.#t0) * 1000; // microseconds
      if (e.type === 'pkg-start') {
        let lane = this.#lanes.indexOf(false);
        if (lane < 0) lane = this.#lanes.push(true) - 1;
        else this.#lanes[lane] = true;
        this.#open.set(e.id, { ts: now, lane, reasons: reasonsText(e.reasons) });
      } else if (e.type === 'phase') {
        const key = `${e.id}\0${e.phase}\0${e.detail ?? ''}`;
        if (e.edge === 'begin') this.#phases.set(key, now);
        else {
          const ts = this.#phases.get(key);
          const pkg = this.#open.get(e.id);
          this.#phases.delete(key);
          // A phase outside a package's build (download, clean) has no lane: not drawn.
          if (ts === undefined || !pkg) return;
          this.#slices.push({ name: e.detail && e.phase === 'build' ? `build: ${e.detail}` : e.phase, cat: 'phase', ph: 'X', ts, dur: now - ts, pid: 1, tid: pkg.lane + 1, args: { package: e.id, phase: e.phase, ...(e.detail ? { detail: e.detail } : {}) } });
        }
      } else if (e.type === 'pkg-done' || e.type === 'pkg-failed') {
        const o = this.#open.get(e.id);
        if (!o) return;
        this.#open.delete(e.id);
        this.#lanes[o.lane] = false;
        const result = e.type === 'pkg-done' ? 'built' : e.canceled ? 'interrupted' : 'failed';
        this.#slices.push({ name: e.id, cat: 'package', ph: 'X', ts: o.ts, dur: now - o.ts, pid: 1, tid: o.lane + 1, args: { result, reasons: o.reasons } });
      }
    });
  }

  save(): void {
    writeFileSync(this.file, JSON.stringify({ traceEvents: this.#slices, displayTimeUnit: 'ms' }, null, 1) + '\n');
  }
}
