// Colours and the few symbols reporters share. Off: every function returns its text unchanged,
// so callers never test the flag (NO_COLOR, --color=never, a pipe).
export interface Paint {
  on: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function paint(on: boolean): Paint {
  const id = (s: string) => s;
  return on
    ? { on, red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), bold: sgr(1, 22), dim: sgr(2, 22) }
    : { on, red: id, green: id, yellow: id, bold: id, dim: id };
}

export type ColorWhen = 'auto' | 'always' | 'never';

/** `--color`: auto is on for a terminal unless NO_COLOR is set to anything but the empty string (no-color.org). */
export function colorOn(when: ColorWhen, isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (when === 'always') return true;
  if (when === 'never') return false;
  return isTTY && !env.NO_COLOR;
}

/** A duration as a person reads it: 5s, 1m12s, 1h02m. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A remaining time, coarser: 40s, 14m (rounded up), 1h05m. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.ceil(s / 60)}m`;
  const m = Math.ceil(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
