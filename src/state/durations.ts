// Each package's last build time, kept in the prefix (as ninja keeps .ninja_log): the scheduler
// ranks packages by the longest remaining path of expected durations, so long chains and slow
// packages start first. Estimates only: a lost or stale entry costs ordering, never correctness.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { durationsFile } from './layout.js';
import type { PkgKind } from '../kinds.js';
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

/** What a package's build time is guessed from before it was ever timed here. */
export interface SourceHint {
  kind: PkgKind;
  /** Installs into the venv: a Python distribution (an sdist builds far faster per byte than C). */
  python: boolean;
  /** The size of its upstream tarball, when that is in the upstream cache. */
  bytes: number | null;
}

// A guess in seconds: a base by kind, plus seconds per MB of compressed tarball. Only the ranking
// matters (and, once builds were timed here, the guesses are scaled to the recorded times): a
// 40 MB C library takes longer than a 1 MB one, a wheel or a pip requirement less than either,
// a dummy package next to nothing. Sage's own builds: gmp (2 MB) minutes, gcc (90 MB) an hour.
const BASE_S: Record<PkgKind, number> = { normal: 30, script: 10, venv: 20, pip: 10, wheel: 3, none: 0.1 };
const PER_MB_S = { c: 40, python: 8 };

export function guessMs(h: SourceHint): number {
  const perMb = h.kind === 'normal' || h.kind === 'script' ? (h.python ? PER_MB_S.python : PER_MB_S.c) : 0;
  return (BASE_S[h.kind] + perMb * ((h.bytes ?? 0) / 2 ** 20)) * 1000;
}

/**
 * The expected duration of each of `names`: its last build time; else, given its `hint`, a guess
 * by kind and tarball size (guessMs), scaled by how the recorded times of the other hinted
 * packages compare with their guesses (the median ratio: this machine's speed); else the median
 * of the known times (a package never built here is taken for a typical one); else 1 (all equal:
 * the number of packages on a chain decides).
 */
export function expectedDurations(known: Durations, names: string[], hint?: (name: string) => SourceHint | null): (name: string) => number {
  const median = (xs: number[]): number | undefined => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const times = [...known.values()];
  const typical = Math.max(1, median(times) ?? 1);
  const ratios = hint ? [...known].flatMap(([n, ms]) => {
    const h = hint(n);
    return h ? [ms / guessMs(h)] : [];
  }) : [];
  // No build timed here yet: the guesses in milliseconds as they are.
  const scale = median(ratios) ?? (times.length ? null : 1);
  const unknown = (n: string): number => {
    const h = hint?.(n);
    return h && scale !== null ? guessMs(h) * scale : typical;
  };
  const w = new Map(names.map((n) => [n, Math.max(1, known.get(n) ?? unknown(n))]));
  return (name) => w.get(name) ?? typical;
}
