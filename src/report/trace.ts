// `--trace FILE`: a Chrome trace (chrome://tracing, Perfetto) of the run: one bar per package
// build, on as many lanes as ran at once, so the critical path and idle slots are visible.
import { reasonsText } from './reasons.js';
import { writeFileSync } from 'node:fs';
import type { EventBus } from '../events.js';

interface Slice {
  name: string;
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
      } else if (e.type === 'pkg-done' || e.type === 'pkg-failed') {
        const o = this.#open.get(e.id);
        if (!o) return;
        this.#open.delete(e.id);
        this.#lanes[o.lane] = false;
        const result = e.type === 'pkg-done' ? 'built' : e.canceled ? 'interrupted' : 'failed';
        this.#slices.push({ name: e.id, ph: 'X', ts: o.ts, dur: now - o.ts, pid: 1, tid: o.lane + 1, args: { result, reasons: o.reasons } });
      }
    });
  }

  save(): void {
    writeFileSync(this.file, JSON.stringify({ traceEvents: this.#slices, displayTimeUnit: 'ms' }, null, 1) + '\n');
  }
}
