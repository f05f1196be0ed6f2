// Each package's last build time, kept in the prefix (as ninja keeps .ninja_log): the scheduler
// ranks packages by the longest remaining path of expected durations, so long chains and slow
// packages start first. Estimates only: a lost or stale entry costs ordering, never correctness.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { durationsFile } from './layout.js';
import { readJsonOrNull, writeFileAtomic } from '../util/fs.js';

export type Durations = Map<string, number>;

export function readDurations(prefix: string): Durations {
  const raw = readJsonOrNull<Record<string, unknown>>(durationsFile(prefix));
  const out: Durations = new Map();
  if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) if (typeof v === 'number' && v >= 0) out.set(k, v);
  return out;
}

/** Merges this run's times (milliseconds by package) into the file. */
export function recordDurations(prefix: string, measured: Durations): void {
  if (!measured.size) return;
  const all = readDurations(prefix);
  for (const [k, v] of measured) all.set(k, v);
  mkdirSync(path.dirname(durationsFile(prefix)), { recursive: true });
  writeFileAtomic(durationsFile(prefix), JSON.stringify(Object.fromEntries([...all].sort(([a], [b]) => a.localeCompare(b))), null, 1) + '\n');
}

/**
 * The expected duration of each of `names`: its last build time, else the median of the known
 * ones (a package never built here is taken for a typical one), else 1 (all equal: the number
 * of packages on a chain decides, as before any build was timed).
 */
export function expectedDurations(known: Durations, names: string[]): (name: string) => number {
  const times = [...known.values()].sort((a, b) => a - b);
  const typical = times.length ? Math.max(1, times[Math.floor(times.length / 2)]!) : 1;
  const w = new Map(names.map((n) => [n, Math.max(1, known.get(n) ?? typical)]));
  return (name) => w.get(name) ?? typical;
}
