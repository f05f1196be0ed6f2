// Seeded randomness and the few statistics the benchmark prints. Everything that is random in the
// benchmark (durations, generated graphs) comes from here, from a fixed seed, so two runs of
// `npm run bench` build the same trees.

import { rng } from '../test/fixtures/rng.ts';

export { rng };

/** A standard normal deviate (Box-Muller). */
function normal(r: () => number): number {
  const u = 1 - r(); // (0, 1]: log(u) is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/**
 * The spread of the durations' logarithms: with 1.0 and the benchmark's seed on Sage's graph, the
 * largest package is 8 % of the work and the critical path (3.1 s of 30 s) is close to work / 8
 * (3.75 s), so both where a scheduler starts long chains and how it packs the rest matter.
 */
export const SIGMA = 1.0;

/**
 * `n` heavy-tailed durations in seconds (lognormal, sigma `SIGMA`: most packages are quick, a few
 * take a large share of the work, as in Sage), scaled so that they add up to `total` seconds,
 * rounded to milliseconds (what `sleep` is given). The sum of the rounded values is what the
 * lower bound uses, so rounding cannot bias the ratios.
 */
export function heavyTailed(n: number, total: number, seed: number): number[] {
  const r = rng(seed);
  const raw = Array.from({ length: n }, () => Math.exp(SIGMA * normal(r)));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((x) => Math.round((x / sum) * total * 1000) / 1000);
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
