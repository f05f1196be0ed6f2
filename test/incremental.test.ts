// Content fingerprints: exactly what changed rebuilds, with its reason; --explain; status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { utimesSync, writeFileSync } from 'node:fs';
import { Rig, scriptPkg } from './rig.ts';

describe('incremental builds by fingerprint', () => {
  const rig = new Rig('incr');
  const stamps = () => Object.fromEntries(rig.manifests().map((m) => [m, rig.manifest(m).install_date + (rig.manifest(m).sagebuild as { fingerprint: string }).fingerprint]));
  before(async () => {
    rig.write({
      // lib has in-tree sources; app depends on it normally, docs order-only; other is unrelated.
      ...scriptPkg('lib', { body: 'test -f src/lib.c || sdh_die "no sources"' }),
      'pkgs/lib/src/lib.c': 'int f(void) { return 1; }\n',
      'pkgs/lib/src/sub/more.c': 'int g(void) { return 2; }\n',
      'pkgs/lib/SPKG.rst': 'lib\n===\n',
      ...scriptPkg('app', { deps: 'lib' }),
      ...scriptPkg('tool', { deps: 'app' }),
      ...scriptPkg('docs', { deps: '| lib' }),
      ...scriptPkg('other'),
      ...scriptPkg('withfile', { deps: '$(SAGE_SRC)/header.pxd' }),
      'src/header.pxd': 'cdef int x\n',
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
  });
  after(() => rig.cleanup());

  it('records the fingerprint and its inputs in the manifest', () => {
    const m = rig.manifest('lib-1.0').sagebuild as { fingerprint: string; inputs: { recipe: Record<string, string>; deps: Record<string, string> } };
    assert.match(m.fingerprint, /^[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(m.inputs.recipe).sort(), ['spkg-install.in', 'src/lib.c', 'src/sub/more.c']);
    const app = rig.manifest('app-1.0').sagebuild as { inputs: { deps: Record<string, string> } };
    assert.deepEqual(app.inputs.deps, { lib: m.fingerprint });
  });

  it('touching files without changing them rebuilds nothing', async () => {
    const future = new Date(Date.now() + 60_000);
    for (const f of ['pkgs/lib/src/lib.c', 'pkgs/lib/spkg-install.in', 'pkgs/app/dependencies', 'src/header.pxd']) utimesSync(rig.path(f), future, future);
    const r = await rig.run('-n', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(r.stdout, 'Nothing to (re)build.');
  });

  it('documentation-only recipe files do not count', async () => {
    rig.write({ 'pkgs/lib/SPKG.rst': 'lib\n===\n\nMore words.\n' });
    assert.equal((await rig.run('-n', 'all')).stdout, 'Nothing to (re)build.');
  });

  it('one changed byte of an in-tree source rebuilds that package and its normal dependents, nothing else', async () => {
    const before = stamps();
    rig.write({ 'pkgs/lib/src/lib.c': 'int f(void) { return 2; }\n' });
    const dry = await rig.run('-n', 'all');
    assert.deepEqual(dry.stdout.split('\n'), ['lib: src/lib.c changed', 'app: dependency lib rebuilt', 'tool: dependency app rebuilt']);
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /built: lib-1\.0 app-1\.0 tool-1\.0$/m);
    const after = stamps();
    for (const untouched of ['docs-1.0', 'other-1.0', 'withfile-1.0']) assert.equal(after[untouched], before[untouched], untouched);
    assert.equal((await rig.run('-n', 'all')).stdout, 'Nothing to (re)build.');
  });

  it('a changed spkg-install with the same version rebuilds (Sage would not)', async () => {
    rig.write({ 'pkgs/other/spkg-install.in': rig.read('pkgs/other/spkg-install.in') + 'echo changed\n' });
    assert.equal((await rig.run('-n', 'all')).stdout, 'other: spkg-install.in changed');
  });

  it('new patches, changed checksums and file prerequisites are reasons too', async () => {
    rig.write({ 'pkgs/app/patches/0001-fix.patch': '--- a/x\n+++ b/x\n' });
    writeFileSync(rig.path('src/header.pxd'), 'cdef int y\n');
    const r = await rig.run('-n', 'all');
    assert.match(r.stdout, /^app: patches\/0001-fix\.patch added$/m);
    assert.match(r.stdout, /^tool: dependency app rebuilt$/m);
    assert.match(r.stdout, /^withfile: file .*header\.pxd changed$/m);
  });

  it('--explain prints the whole chain', async () => {
    const r = await rig.run('--explain', 'tool');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(r.stdout.split('\n'), [
      'tool-1.0 will be rebuilt (fingerprint now ' + r.stdout.split('fingerprint now ')[1]!.slice(0, 12) + '), because:',
      '  - dependency app rebuilt',
      '    app-1.0 will be rebuilt (fingerprint now ' + r.stdout.split('fingerprint now ')[2]!.slice(0, 12) + '), because:',
      '      - patches/0001-fix.patch added',
    ]);
    const up = await rig.run('--explain', 'docs');
    assert.match(up.stdout, /^docs-1\.0: up to date \(fingerprint [0-9a-f]{12}\)$/);
    const bad = await rig.run('--explain', 'toool');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /did you mean 'tool'/);
  });

  it('status shows installed, outdated and not installed packages', async () => {
    rig.write(scriptPkg('newpkg', { type: 'optional' }));
    const r = await rig.run('status');
    assert.equal(r.exitCode, 3, r.all);
    const rows = Object.fromEntries(r.stdout.split('\n').map((l) => [l.split(/\s+/)[0], l.split(/\s{2,}/).slice(1).join('  ')]));
    assert.equal(rows.docs, 'installed  1.0  (standard, script)');
    assert.equal(rows.app, 'outdated  1.0: patches/0001-fix.patch added  (standard, script)');
    assert.equal(rows.newpkg, 'not installed  1.0  (optional, script)');
    assert.equal((await rig.run('list', '--installed')).stdout, r.stdout);
    rig.write({ 'local/var/lib/sage/installed/gone-2.0': JSON.stringify({ package_name: 'gone', package_version: '2.0', files: [] }) });
    assert.match((await rig.run('status')).stdout, /^gone\s+no recipe\s+2\.0: installed, but pkgs\/ has no recipe; remove it with 'gone-clean'$/m);
  });

  it('a manifest without a fingerprint (written by Sage) is rebuilt once', async () => {
    const m = rig.manifest('docs-1.0');
    delete (m as { sagebuild?: unknown }).sagebuild;
    writeFileSync(rig.path('local/var/lib/sage/installed/docs-1.0'), JSON.stringify(m));
    const r = await rig.run('-n', 'docs');
    assert.match(r.stdout, /^docs: installed without a fingerprint/m);
  });
});
