// The live status line's text, pure: `[212/437] 3 running: gmp 1m12s · numpy 40s | 2 failed | eta 14m`,
// fitted to a width (report/live.ts draws it). Widths count characters: every symbol used is one column.
import { formatDuration, formatEta, type Paint } from './style.js';

export interface LineState {
  /** Packages finished (built, failed or skipped) and the run's total. */
  done: number;
  total: number;
  /** Running packages, longest-running first. */
  running: { name: string; elapsedMs: number }[];
  failed: number;
  etaMs: number | null;
}

/**
 * The line in at most `width` characters (colour codes aside). What does not fit goes, in this
 * order: running packages from the end (an ellipsis says some are left out), then the whole line
 * is cut with an ellipsis (a terminal too narrow for the counts).
 */
export function formatStatusLine(s: LineState, width: number, p: Paint): string {
  if (width <= 0) return '';
  const head = `[${s.done}/${s.total}]`;
  const tail: [string, (x: string) => string][] = [];
  if (s.failed) tail.push([`${s.failed} failed`, p.red]);
  if (s.etaMs !== null) tail.push([`eta ${formatEta(s.etaMs)}`, (x) => x]);
  const items = s.running.map((r) => `${r.name} ${formatDuration(r.elapsedMs)}`);
  const render = (k: number, colour: boolean) => {
    const c = (f: (x: string) => string, x: string) => (colour ? f(x) : x);
    let running = '';
    if (s.running.length) {
      const shown = items.slice(0, k);
      if (k < items.length) shown.push('…');
      running = ` ${s.running.length} running: ${shown.join(' · ')}`;
    }
    return c(p.bold, head) + running + tail.map(([t, f]) => ` | ${c(f, t)}`).join('');
  };
  for (let k = items.length; k >= 0; k--) {
    if (render(k, false).length <= width) return render(k, p.on);
  }
  const plain = render(0, false);
  return width === 1 ? '…' : plain.slice(0, width - 1) + '…';
}

/**
 * The time left, from expected durations: the work not yet done (packages waiting, and what
 * running ones are expected to take still) spread over the job slots, and never less than the
 * longest remaining running package. null when no duration is known.
 */
export function estimateEta(waiting: (number | null)[], running: { expectedMs: number | null; elapsedMs: number }[], jobs: number): number | null {
  if ([...waiting, ...running.map((r) => r.expectedMs)].every((x) => x === null)) return null;
  const left = running.map((r) => Math.max(0, (r.expectedMs ?? 0) - r.elapsedMs));
  const work = waiting.reduce<number>((a, x) => a + (x ?? 0), 0) + left.reduce((a, x) => a + x, 0);
  return Math.max(work / Math.max(1, jobs), ...left, 0);
}
