// Issue 9: seeded random kill -9 of a parallel build of C and Python packages (test/faults/run.ts),
// a few fast trials in the normal suite; `npm run test:faults` runs a hundred on bigger packages.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runFaults } from './faults/run.ts';

it('12 random kill -9 of a parallel build of 8 packages (1 Python): every rerun converges to a clean build', { timeout: 600_000 }, async () => {
  const seed = Number(process.env.SAGEBUILD_FAULTS_SEED ?? 9009);
  const lines: string[] = [];
  const r = await runFaults({ seed, trials: 12, pkgs: 8, python: 1, files: 30, jobs: 3, log: (l) => lines.push(l) });
  assert.equal(r.corrupt, 0, `seed ${seed}:\n${r.failures.join('\n')}\n${lines.join('\n')}`);
  assert.equal(r.converged, 12, lines.join('\n'));
  // Not a test that cannot fail: most runs must really have been killed mid-build.
  assert.ok(lines.filter((l) => /: killed after/.test(l)).length >= 6, lines.join('\n'));
});
