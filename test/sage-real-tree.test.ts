// Sage 10.10's real, unmodified tree (../shared/data/sage-10.10-tree.tar.gz, extracted into a temp
// folder): every query command works on the whole tree; only building what cannot be built fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, Rig } from './rig.ts';

export const SAGE_TARBALL = path.resolve(ROOT, '..', 'shared', 'data', 'sage-10.10-tree.tar.gz');

/** Extracts the real Sage tree into the rig and points the config at its build/pkgs. */
export function extractSageTree(rig: Rig, config = ''): void {
  assert.ok(existsSync(SAGE_TARBALL), `${SAGE_TARBALL} is missing: the tests need ../shared beside the project`);
  execFileSync('tar', ['-xzf', SAGE_TARBALL, '-C', rig.dir]);
  rig.write({ 'build.config.yaml': `pkgs: build/pkgs\n${config}` });
}

describe("Sage 10.10's real tree, unmodified", () => {
  const rig = new Rig('sagereal');
  before(() => extractSageTree(rig));
  after(() => rig.cleanup());

  it('list prints all 437 recipes and the venv', async () => {
    const r = await rig.run('list');
    assert.equal(r.exitCode, 0, r.stderr);
    const names = r.stdout.trim().split('\n');
    assert.equal(names.length, 438);
    for (const n of ['configure', 'valgrind', 'rpds_py', 'sagelib', 'python3_venv']) assert.ok(names.includes(n), n);
  });

  it('status reports every package; configure cannot be built, valgrind is a dummy', async () => {
    const r = await rig.run('status');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^configure +cannot build +\S+: package 'configure' has a source tarball \(checksums\.ini\) but no spkg-install/m);
    assert.match(r.stdout, /^valgrind +dummy/m);
    assert.equal(r.stdout.trim().split('\n').length, 438);
  });

  it('-n all plans the standard packages (never base ones) and exits 0', async () => {
    const r = await rig.run('-n', 'all');
    assert.equal(r.exitCode, 0, r.stderr);
    const planned = new Set(r.stdout.trim().split('\n').map((l) => l.split(':')[0]));
    assert.ok(planned.has('sagelib') && planned.has('gmp') && planned.has('python3_venv'));
    assert.ok(!planned.has('configure'));
    assert.ok(planned.size > 250, String(planned.size));
  });

  it('--explain and --check -n work on the whole tree', async () => {
    const e = await rig.run('--explain', 'sagelib');
    assert.equal(e.exitCode, 0, e.stderr);
    assert.match(e.stdout, /sagelib-\S+ will be rebuilt/);
    const c = await rig.run('--check', '-n', 'six');
    assert.equal(c.exitCode, 0, c.stderr);
  });

  it('building a package that cannot be built is an error naming it and why, before anything runs', async () => {
    const r = await rig.run('configure');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /build\/pkgs\/configure\/spkg-install\.in: error: cannot build package 'configure' \(it was requested\)/);
    assert.ok(!rig.exists('local/var/lib/sage/installed'));
  });

  it('rpds_py lists 56 wheels and an sdist: no wheel fits this interpreter unless it is CPython >= 3.12 on a listed platform', async () => {
    const r = await rig.run('-n', 'download', 'rpds_py');
    assert.equal(r.exitCode, 0, r.all);
    const line = r.stdout.split('\n').find((l) => l.startsWith('rpds_py-'))!;
    assert.ok(line, r.stdout);
    assert.doesNotMatch(line, /macosx/, 'a macOS wheel is never chosen on Linux');
    const minor = Number(execFileSync('python3', ['-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8' }));
    if (minor < 12) assert.match(line, /rpds_py-[\d.]+\.tar\.gz/);
    else assert.match(line, /manylinux|musllinux|\.tar\.gz/);
  });
});
