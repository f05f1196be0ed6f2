// The shipped distribution (pkgs/, upstream/, build.config.yaml) builds, checks and cleans.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, Rig } from './rig.ts';

describe('the shipped distribution', () => {
  const rig = new Rig('shipped');
  before(() => {
    for (const f of ['pkgs', 'upstream', 'build.config.yaml']) cpSync(path.join(ROOT, f), rig.path(f), { recursive: true, verbatimSymlinks: true });
  });
  after(() => rig.cleanup());

  it('`all --check` builds every package, checks pass (the real binary)', async () => {
    const r = await rig.cli('--check', 'all');
    assert.equal(r.exitCode, 0, r.all);
    const ids = rig.manifests();
    for (const p of ['libsagedemo', 'democalc', 'demodocs', 'demotool', 'demoextra']) assert.ok(ids.some((i) => i.startsWith(`${p}-`)), p);
    const lib = ids.find((i) => i.startsWith('libsagedemo-'))!;
    assert.equal(rig.manifest(lib).test_result, 'passed');
  });

  it('the programs run against the installed library; the patch is applied', async () => {
    const calc = await execa(rig.path('local/bin/democalc'), ['gcd', '12', '18'], { reject: false, env: { LD_LIBRARY_PATH: '' } });
    assert.equal(calc.exitCode, 0, calc.stderr);
    assert.equal(calc.stdout, '6');
    const tool = await execa(rig.path('local/bin/demotool'), ['--version'], { reject: false });
    assert.equal(tool.exitCode, 0, 'the --version option comes from the shipped patch');
    assert.match(tool.stdout, /demotool 1\.0/);
    // C library -> C extension -> pure Python with a console script.
    const app = await execa(rig.path('local/bin/demoapp'), ['gcd', '12', '18'], { reject: false });
    assert.equal(app.stdout, '6', app.stderr);
    const check = await execa(rig.path('local/bin/python3'), ['-m', 'pip', 'check'], { reject: false });
    assert.equal(check.exitCode, 0, check.stdout);
  });

  it('a second run has nothing to do; democalc-clean removes only democalc', async () => {
    let r = await rig.run('all');
    assert.match(r.stdout, /Nothing to \(re\)build/);
    r = await rig.run('democalc-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(!rig.exists('local/bin/democalc'));
    assert.ok(rig.exists('local/bin/demotool'));
    r = await rig.run('-n', 'all');
    assert.match(r.stdout, /^democalc: not installed$/m);
    assert.equal(r.stdout.split('\n').length, 1);
  });
});
