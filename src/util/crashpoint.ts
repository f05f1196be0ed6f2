// Test-only: SAGEBUILD_TEST_CRASH_AT=<point>[@<pkg>] makes sagebuild kill -9 itself at a named
// point of the install transaction (spkg/install.ts), so that tests can walk every point. Unset,
// it does nothing (one environment lookup per point).

/** The points, in the order an install reaches them. */
export const CRASH_POINTS = ['journal', 'pip-uninstall', 'backup', 'mid-merge', 'merge', 'pip-install', 'postinst', 'manifest', 'unjournal'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export function crashPoint(point: CrashPoint, pkg: string): void {
  const want = process.env.SAGEBUILD_TEST_CRASH_AT;
  if (!want) return;
  const [at, only] = want.split('@');
  if (at !== point || (only !== undefined && only !== pkg)) return;
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered at once; block until it lands rather than run on.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
