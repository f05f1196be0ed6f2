// Sage's uninstall hooks: spkg-prerm, spkg-piprm, spkg-postrm installed to
// <tree>/var/lib/sage/scripts/<pkg>/ and run on <pkg>-clean and before an upgrade (the old
// version's), as sage-spkg-uninstall runs them; spkg-legacy-uninstall for stamps without files.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Rig, scriptPkg } from './rig.ts';

const MARKS = 'local/share/hookmarks/log';

/** A hook body that appends "<hook> <version> data=<present|absent> cwd=<root?>" to a marker file in the prefix. */
function hook(name: string, extra = ''): string {
  return [
    'mkdir -p "$SAGE_LOCAL/share/hookmarks"',
    `if ls "$SAGE_LOCAL/share/hk"/*.txt >/dev/null 2>&1; then data=present; else data=absent; fi`,
    `[ "$(pwd)" = "$SAGE_ROOT" ] && cwd=root || cwd="$(pwd)"`,
    `echo "${name} $PKG_VER data=$data cwd=$cwd" >> "$SAGE_LOCAL/share/hookmarks/log"`,
    extra,
  ].join('\n');
}

function hk(version: string, o: { prerm?: string; piprm?: string } = {}) {
  return {
    ...scriptPkg('hk', { version, files: [`share/hk/v${version}.txt`] }),
    'pkgs/hk/spkg-prerm.in': hook('prerm', o.prerm ?? ''),
    'pkgs/hk/spkg-piprm.in': hook('piprm', o.piprm ?? ''),
    // An executable hook is installed as it is (here a POSIX sh script run from its own shebang).
    'pkgs/hk/spkg-postrm': { content: `#!/bin/sh\n${hook('postrm')}\n`, mode: 0o755 },
  };
}

function marks(rig: Rig): string[] {
  return rig.exists(MARKS) ? rig.read(MARKS).trim().split('\n') : [];
}

describe('uninstall hooks', () => {
  const rigs: Rig[] = [];
  after(() => rigs.forEach((r) => r.cleanup()));

  it('are installed outside the manifest, run in order on an upgrade (the old version\'s) and on -clean, then removed', async () => {
    const rig = new Rig('hooks');
    rigs.push(rig);
    rig.write(hk('1.0'));
    let r = await rig.run('hk');
    assert.equal(r.exitCode, 0, r.all);
    assert.doesNotMatch(r.all, /does not run uninstall hooks/);
    for (const h of ['prerm', 'piprm', 'postrm']) assert.ok(rig.exists(`local/var/lib/sage/scripts/hk/spkg-${h}`), h);
    assert.ok(!rig.manifest('hk-1.0').files.some((f) => f.includes('scripts/hk')), 'hooks are not in the manifest');
    assert.deepEqual(marks(rig), [], 'no hook runs at a first install');

    rig.write(hk('2.0'));
    r = await rig.run('hk');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(marks(rig), ['prerm 1.0 data=present cwd=root', 'piprm 1.0 data=present cwd=root', 'postrm 1.0 data=absent cwd=root']);
    assert.ok(rig.exists('local/share/hk/v2.0.txt') && !rig.exists('local/share/hk/v1.0.txt'));
    assert.match(rig.read('local/var/lib/sage/scripts/hk/spkg-prerm'), /PKG_VER='2\.0'/, "the new version's hooks replace the old one's");

    r = await rig.run('hk-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(marks(rig).slice(3), ['prerm 2.0 data=present cwd=root', 'piprm 2.0 data=present cwd=root', 'postrm 2.0 data=absent cwd=root']);
    assert.deepEqual(rig.manifests(), []);
    assert.ok(!rig.exists('local/var/lib/sage/scripts/hk'), 'the hooks go with the package');
  });

  it('a failing spkg-prerm keeps the files (on -clean and on an upgrade); a failing spkg-piprm only warns', async () => {
    const rig = new Rig('hooks-fail');
    rigs.push(rig);
    rig.write(hk('1.0', { prerm: 'echo "prerm says no" >&2; exit 4' }));
    assert.equal((await rig.run('hk')).exitCode, 0);
    let r = await rig.run('hk-clean');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all, /prerm says no/);
    assert.match(r.stderr, /pre-uninstall script .*spkg-prerm of hk-1\.0 failed, so it was not uninstalled/);
    assert.ok(rig.exists('local/share/hk/v1.0.txt'), 'files kept');
    assert.deepEqual(rig.manifests(), ['hk-1.0']);
    assert.deepEqual(marks(rig), ['prerm 1.0 data=present cwd=root'], 'nothing after the failing prerm ran');

    // An upgrade meets the old version's failing prerm: the old version stays, whole.
    rig.write(hk('2.0', { piprm: 'exit 2' }));
    r = await rig.run('hk');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /spkg-prerm of hk-1\.0 failed.*Nothing was installed/);
    assert.deepEqual(rig.manifests(), ['hk-1.0']);
    assert.ok(rig.exists('local/share/hk/v1.0.txt') && !rig.exists('local/share/hk/v2.0.txt'));

    // With the installed prerm fixed by hand, the upgrade goes through; the new piprm fails on -clean: a warning.
    rig.write({ 'local/var/lib/sage/scripts/hk/spkg-prerm': { content: '#!/bin/sh\nexit 0\n', mode: 0o755 } });
    assert.equal((await rig.run('hk')).exitCode, 0);
    r = await rig.run('hk-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, /hk-2\.0: its pip-uninstall script .*spkg-piprm failed; uninstallation may have left behind some files/);
    assert.ok(!rig.exists('local/share/hk/v2.0.txt'));
    assert.deepEqual(rig.manifests(), []);
    assert.deepEqual(marks(rig).slice(-2), ['piprm 2.0 data=present cwd=root', 'postrm 2.0 data=absent cwd=root']);
  });

  it('spkg-legacy-uninstall removes an old-style install (a stamp without files) on -clean and before an upgrade', async () => {
    const rig = new Rig('hooks-legacy');
    rigs.push(rig);
    const legacy = { content: '#!/usr/bin/env bash\nrm -f "$SAGE_LOCAL/bin/lg" && echo "legacy $PKG_BASE" >> "$SAGE_ROOT/legacy.log"\n', mode: 0o755 };
    rig.write({
      ...scriptPkg('lg', { version: '1.0', files: ['share/lg/new.txt'] }),
      'pkgs/lg/spkg-legacy-uninstall': legacy,
      // What an old Sage left: a stamp with no file list, and a file it installed.
      'local/var/lib/sage/installed/lg-0.9': 'installed by an old Sage\n',
      'local/bin/lg': 'old binary\n',
    });
    let r = await rig.run('-n', 'lg-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /would run .*spkg-legacy-uninstall for lg-0\.9/);
    assert.ok(rig.exists('local/bin/lg'), 'a dry run changes nothing');
    r = await rig.run('lg-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(!rig.exists('local/bin/lg'));
    assert.deepEqual(rig.manifests(), []);
    assert.equal(rig.read('legacy.log'), 'legacy lg\n');

    rig.write({ 'local/var/lib/sage/installed/lg-0.9': 'installed by an old Sage\n', 'local/bin/lg': 'old binary\n' });
    r = await rig.run('lg');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(!rig.exists('local/bin/lg'), 'removed before the new version landed');
    assert.deepEqual(rig.manifests(), ['lg-1.0']);
    assert.equal(rig.read('legacy.log'), 'legacy lg\nlegacy lg\n');

    // Without a legacy script, -clean still refuses a stamp whose files are unknown.
    rig.write({ 'local/var/lib/sage/installed/lh-0.1': 'old\n', ...scriptPkg('lh') });
    r = await rig.run('lh-clean');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /lh-0\.1: error: cannot read installation manifest/);
  });
});
