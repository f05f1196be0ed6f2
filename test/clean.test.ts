// <pkg>-clean removes exactly the package's files, refuses manifests that point outside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rig, scriptPkg } from './rig.ts';

function installedRig(): Rig {
  const rig = new Rig('clean');
  rig.write({
    ...scriptPkg('a', { files: ['share/common/a.txt', 'share/a/deep/er/a.txt', 'bin/a'] }),
    ...scriptPkg('b', { deps: 'a', files: ['share/common/b.txt', 'bin/b'] }),
  });
  return rig;
}

describe('<pkg>-clean', () => {
  it("removes the package's files and manifest, empty dirs, and nothing else", async () => {
    const rig = installedRig();
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write({ 'local/share/user-file.txt': 'mine\n' });
    const r = await rig.run('a-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /a: removed 3 file\(s\) and its manifest/);
    assert.deepEqual(rig.manifests(), ['b-1.0']);
    assert.ok(!rig.exists('local/share/common/a.txt'));
    assert.ok(!rig.exists('local/share/a'), 'directories left empty are removed');
    assert.ok(!rig.exists('local/bin/a'));
    assert.ok(rig.exists('local/share/common/b.txt'), "other packages' files stay");
    assert.ok(rig.exists('local/bin/b'));
    assert.ok(rig.exists('local/share/user-file.txt'));
    // -uninstall is the same; the prefix itself is never removed.
    assert.equal((await rig.run('b-uninstall')).exitCode, 0);
    assert.ok(rig.exists('local'));
    assert.ok(!rig.exists('local/bin/b'));
    rig.cleanup();
  });

  it("a manifest that lists another package's files or manifest: those are kept, with a warning", async () => {
    const rig = new Rig('clean');
    rig.write({ ...scriptPkg('a', { files: ['lib/liba.so'] }), ...scriptPkg('b', { files: ['lib/libb.so'] }) });
    assert.equal((await rig.run('all')).exitCode, 0);
    const file = rig.path('local/var/lib/sage/installed/a-1.0');
    const m = rig.manifest('a-1.0');
    writeFileSync(file, JSON.stringify({ ...m, files: [...m.files, 'lib/libb.so', 'var/lib/sage/installed/b-1.0'] }));
    const r = await rig.run('a-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, /lists 2 file\(s\) it does not own; they are kept: lib\/libb\.so \(listed by b\), var\/lib\/sage\/installed\/b-1\.0 \(sagebuild's own state\)/);
    assert.ok(!rig.exists('local/lib/liba.so'));
    assert.equal(rig.read('local/lib/libb.so'), 'b\n');
    assert.deepEqual(rig.manifests(), ['b-1.0']);
    rig.cleanup();
  });

  it('cleaning a package that is not installed says so and exits 0', async () => {
    const rig = installedRig();
    const r = await rig.run('a-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /a is not installed; nothing to clean/);
    rig.cleanup();
  });

  it('a package removed from the tree can still be cleaned', async () => {
    const rig = installedRig();
    assert.equal((await rig.run('all')).exitCode, 0);
    rmSync(rig.path('pkgs/b'), { recursive: true });
    const r = await rig.run('b-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(!rig.exists('local/bin/b'));
    rig.cleanup();
  });

  it('after clean, building restores the package', async () => {
    const rig = installedRig();
    assert.equal((await rig.run('all')).exitCode, 0);
    assert.equal((await rig.run('b-clean', 'b')).exitCode, 0);
    assert.ok(rig.exists('local/bin/b'));
    rig.cleanup();
  });

  for (const [what, entry] of [
    ['an absolute path', '/etc/hostname'],
    ['a .. path', '../outside.txt'],
    ['a path through a symlink that leaves the prefix', 'share/escape/victim.txt'],
  ] as const) {
    it(`refuses a manifest with ${what}: error, nothing deleted`, async () => {
      const rig = installedRig();
      assert.equal((await rig.run('all')).exitCode, 0);
      const outside = mkdtempSync(path.join(tmpdir(), 'victim-'));
      writeFileSync(path.join(outside, 'victim.txt'), 'precious\n');
      symlinkSync(outside, rig.path('local/share/escape'));
      writeFileSync(rig.path('outside.txt'), 'precious\n');
      const mfile = rig.path('local/var/lib/sage/installed/a-1.0');
      const m = rig.manifest('a-1.0');
      m.files = [...m.files, entry];
      writeFileSync(mfile, JSON.stringify(m));
      const r = await rig.run('a-clean');
      assert.equal(r.exitCode, 2, r.all);
      assert.match(r.stderr, /refusing to use this manifest/);
      assert.match(r.stderr, /nothing was deleted/);
      assert.ok(rig.exists('local/share/common/a.txt'), 'no entry of the manifest was deleted');
      assert.ok(existsSync(mfile));
      assert.ok(existsSync(path.join(outside, 'victim.txt')));
      assert.ok(rig.exists('outside.txt'));
      rmSync(outside, { recursive: true, force: true });
      rig.cleanup();
    });
  }

  it('a damaged manifest is an error naming it', async () => {
    const rig = installedRig();
    mkdirSync(rig.path('local/var/lib/sage/installed'), { recursive: true });
    writeFileSync(rig.path('local/var/lib/sage/installed/a-1.0'), '{not json');
    const r = await rig.run('a-clean');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /installed\/a-1\.0: error: cannot read installation manifest/);
    rig.cleanup();
  });
});
