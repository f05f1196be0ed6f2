// Queries never build: `status [pkg...]` and `list [pkg...]` report on the named packages only;
// `status` answers 3 when something asked about is not up to date.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Rig, scriptPkg } from './rig.ts';

describe('status and list are queries', () => {
  const rig = new Rig('queries');
  before(() => {
    rig.write({
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      ...scriptPkg('opt', { type: 'optional' }),
      'build.config.yaml': 'jobs: 1\n',
    });
  });
  after(() => rig.cleanup());

  it('status <pkg> reports that package only, builds nothing, and answers 3: not installed', async () => {
    const r = await rig.run('status', 'b');
    assert.equal(r.exitCode, 3, r.all);
    assert.equal(r.stdout, 'b         not installed  1.0  (standard, script)');
    assert.deepEqual(rig.manifests(), [], 'nothing was built');
    assert.doesNotMatch(r.all, /to build|building/);
  });

  it('list <pkg...> lists those packages only, builds nothing, exit 0', async () => {
    const r = await rig.run('list', 'opt', 'a');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(r.stdout, 'a\nopt');
    const i = await rig.run('list', '--installed', 'a');
    assert.equal(i.exitCode, 0, i.all);
    assert.match(i.stdout, /^a +not installed +1\.0 {2}\(standard, script\)$/);
    assert.deepEqual(rig.manifests(), []);
  });

  it('an unknown name after status is a usage error (exit 2) with a suggestion', async () => {
    const r = await rig.run('status', 'bb');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /no package 'bb'.*\n.*did you mean 'b'\?/);
  });

  it('up to date: 0; an optional package nobody asked for does not count; outdated: 3 (the real binary)', async () => {
    assert.equal((await rig.run('all')).exitCode, 0);
    let r = await rig.cli('status');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^opt +not installed/m, 'shown, but all does not need it');
    assert.equal((await rig.cli('status', 'a', 'b')).exitCode, 0);
    assert.equal((await rig.cli('status', 'opt')).exitCode, 3, 'asked about by name');
    rig.write({ 'pkgs/a/package-version.txt': '1.1\n' });
    r = await rig.cli('status', 'b');
    assert.equal(r.exitCode, 3, r.all);
    assert.match(r.stdout, /^b +outdated +1\.0: dependency a rebuilt {2}\(standard, script\)$/);
    assert.equal((await rig.cli('status')).exitCode, 3);
    assert.deepEqual(rig.manifests(), ['a-1.0', 'b-1.0'], 'still nothing built');
  });

  it('status answers 3 but later targets still run; a failure status wins over it', async () => {
    const r = await rig.run('status', 'a', 'b-no-deps');
    assert.equal(r.exitCode, 3, r.all);
    assert.match(r.stdout, /built: b-1\.0/);
    rig.write(scriptPkg('bad', { body: 'exit 1' }));
    assert.equal((await rig.run('status', 'a', 'bad-no-deps')).exitCode, 1);
  });

  it('status shows the recorded test result', async () => {
    rig.write({ 'pkgs/opt/spkg-check.in': 'true\n' });
    assert.equal((await rig.run('--check', 'opt')).exitCode, 0);
    const r = await rig.run('status', 'opt');
    assert.match(r.stdout, /^opt +installed +1\.0 {2}\(optional, script, tests passed\)$/);
  });
});
