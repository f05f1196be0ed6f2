// Issue 9: seeded random kill -9 of a parallel build (test/faults/run.ts), a few fast trials in the
// normal suite. C packages only here: a Python package costs pip runs in every trial (this file
// took 6 minutes with one); Python installs are killed at every crash point, one by one, in
// journal-python.test.ts, and at random by `npm run test:faults` (C and Python, bigger packages).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runFaults } from './faults/run.ts';

it('12 random kill -9 of a parallel build of 8 packages: every rerun converges to a clean build', { timeout: 600_000 }, async () => {
  const seed = Number(process.env.SAGEBUILD_FAULTS_SEED ?? 9009);
  const lines: string[] = [];
  const r = await runFaults({ seed, trials: 12, pkgs: 8, python: 0, files: 30, jobs: 3, log: (l) => lines.push(l) });
  assert.equal(r.corrupt, 0, `seed ${seed}:\n${r.failures.join('\n')}\n${lines.join('\n')}`);
  assert.equal(r.converged, 12, lines.join('\n'));
  // Not a test that cannot fail: most runs must really have been killed mid-build.
  assert.ok(lines.filter((l) => /: killed after/.test(l)).length >= 6, lines.join('\n'));
});
