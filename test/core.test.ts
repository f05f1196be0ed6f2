// Building a small tree: order, staging, merge, manifests, incremental rebuilds, -no-deps, dry run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, statSync } from 'node:fs';
import { Rig, runInProcess, scriptPkg } from './rig.ts';

describe('building a tree', () => {
  const rig = new Rig('core');
  before(() => {
    rig.write({
      // c checks, while installing, that its dependency b is already merged into the prefix.
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      ...scriptPkg('c', { deps: 'b', body: 'test -f "$SAGE_LOCAL/share/b/b.txt" || sdh_die "b is not installed yet"\ntest "$SAGE_DESTDIR_LOCAL" = "$SAGE_DESTDIR$SAGE_LOCAL" || sdh_die "bad SAGE_DESTDIR_LOCAL"' }),
      // d has only an order-only dependency on a.
      ...scriptPkg('d', { deps: '| a', files: ['bin/d-tool', 'share/d/x/y/deep.txt'] }),
      ...scriptPkg('opt', { type: 'optional' }),
      'build.config.yaml': 'jobs: 2\n',
    });
  });
  after(() => rig.cleanup());

  it('builds all base/standard packages in dependency order and writes manifests (the real binary)', async () => {
    const r = await rig.cli('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['a-1.0', 'b-1.0', 'c-1.0', 'd-1.0']);
    const order = [...r.stdout.matchAll(/\[(\w+)-1\.0\] successfully installed/g)].map((m) => m[1]);
    assert.ok(order.indexOf('a') < order.indexOf('b') && order.indexOf('b') < order.indexOf('c'), order.join(' '));
    assert.ok(order.indexOf('a') < order.indexOf('d'));
    assert.ok(!rig.exists('local/share/opt'), 'optional packages are not in `all` unless enabled');
    assert.match(r.stdout, /summary: built: 4, up to date: 0, failed: 0/);
  });

  it('records every staged file and Sage manifest keys', () => {
    const m = rig.manifest('d-1.0');
    assert.deepEqual(m.files, ['bin/d-tool', 'share/d/x/y/deep.txt']);
    for (const k of ['package_name', 'package_version', 'install_date', 'system_uname', 'test_result', 'files']) assert.ok(k in m, k);
    assert.equal(m.package_name, 'd');
    assert.equal(rig.read('local/share/d/x/y/deep.txt'), 'd\n');
  });

  it('writes a log per package and removes build dirs after success', () => {
    assert.match(rig.read('local/var/log/sagebuild/pkgs/a-1.0.log'), /spkg-install/);
    assert.ok(!rig.exists('local/var/tmp/sage/build/a-1.0'));
  });

  it('a second run builds nothing', async () => {
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /Nothing to \(re\)build/);
  });

  it('a version bump rebuilds the package and its normal dependents only', async () => {
    const before = statSync(rig.path('local/var/lib/sage/installed/d-1.0')).mtimeMs;
    rig.write({ 'pkgs/a/package-version.txt': '1.1\n' });
    const dry = await rig.run('-n', 'all');
    assert.equal(dry.exitCode, 0);
    assert.match(dry.stdout, /^a: version 1\.0 -> 1\.1$/m);
    assert.match(dry.stdout, /^b: dependency a rebuilt$/m);
    assert.match(dry.stdout, /^c: dependency b rebuilt$/m);
    assert.doesNotMatch(dry.stdout, /^d-/m, 'order-only dependents are not rebuilt');
    assert.deepEqual(rig.manifests(), ['a-1.0', 'b-1.0', 'c-1.0', 'd-1.0'], 'dry run changes nothing');
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['a-1.1', 'b-1.0', 'c-1.0', 'd-1.0']);
    assert.equal(statSync(rig.path('local/var/lib/sage/installed/d-1.0')).mtimeMs, before);
    assert.match(r.stdout, /built: a-1\.1 b-1\.0 c-1\.0$/m);
  });

  it('<pkg> builds the package with its dependencies; <pkg>-no-deps builds only it, unconditionally', async () => {
    let r = await rig.run('opt');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.exists('local/share/opt/opt.txt'));
    r = await rig.run('c-no-deps');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /built: c-1\.0$/m);
  });

  it('several targets in one call, and `list`', async () => {
    const r = await rig.run('list', 'opt-clean', 'opt');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^a\nb\nc\nd\nopt\npython3_venv\n/);
    assert.match(r.stdout, /removed 1 file/);
    assert.ok(rig.exists('local/share/opt/opt.txt'));
  });

  it('the install log holds the recipe output', () => {
    const log = readFileSync(rig.path('local/var/log/sagebuild/pkgs/c-1.0.log'), 'utf8');
    assert.match(log, /sagebuild: c-1\.0 installed/);
  });
});

describe('optional packages and file prerequisites', () => {
  const rig = new Rig('opt');
  after(() => rig.cleanup());

  it('`optional:` adds packages to all; FORCE always rebuilds; a newer file prerequisite rebuilds', async () => {
    rig.write({
      ...scriptPkg('base1'),
      ...scriptPkg('extra', { type: 'optional' }),
      ...scriptPkg('forced', { deps: 'FORCE' }),
      ...scriptPkg('usesfile', { deps: '$(SAGE_SRC)/sage/ext/stdsage.pxd' }),
      'src/sage/ext/stdsage.pxd': 'v1\n',
      'build.config.yaml': 'optional: [extra]\n',
    });
    let r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['base1-1.0', 'extra-1.0', 'forced-1.0', 'usesfile-1.0']);
    r = await rig.run('-n', 'all');
    assert.match(r.stdout, /^forced: depends on FORCE/m);
    assert.doesNotMatch(r.stdout, /usesfile/);
    // A changed prerequisite: its content is hashed (whatever the clock says about its mtime).
    rig.write({ 'src/sage/ext/stdsage.pxd': 'v2\n' });
    r = await rig.run('-n', 'all');
    assert.match(r.stdout, /^usesfile: file .*stdsage\.pxd changed/m);
  });
});

describe('command-line overrides and conditional dependency files', () => {
  it('--prefix and --pkgs override the config', async () => {
    const rig = new Rig('ovr');
    rig.write({ ...scriptPkg('a'), 'other-pkgs/b/type': 'standard\n', 'other-pkgs/b/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share" && echo b > "$SAGE_DESTDIR_LOCAL/share/b"\n' });
    let r = await rig.run('--prefix', 'elsewhere', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.exists('elsewhere/share/a/a.txt'));
    assert.ok(!rig.exists('local'));
    r = await rig.run('--pkgs', 'other-pkgs', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.exists('local/share/b'));
    rig.cleanup();
  });

  it('dependencies_optional counts only enabled packages; dependencies_check only with checks on', async () => {
    const rig = new Rig('cond');
    rig.write({
      ...scriptPkg('main'),
      'pkgs/main/dependencies_optional': 'extra1 extra2\n',
      'pkgs/main/dependencies_check': 'testtool\n',
      ...scriptPkg('extra1', { type: 'optional' }),
      ...scriptPkg('extra2', { type: 'optional' }),
      ...scriptPkg('testtool', { type: 'optional' }),
      'build.config.yaml': 'optional: [extra1]\n',
    });
    let r = await rig.run('-n', 'main');
    assert.deepEqual(r.stdout.split('\n').map((l) => l.split(':')[0]), ['extra1', 'main']);
    r = await rig.run('-n', '--check', 'main');
    assert.deepEqual(r.stdout.split('\n').map((l) => l.split(':')[0]).sort(), ['extra1', 'main', 'testtool']);
    rig.cleanup();
  });
});

describe('finding the config; logs per prefix', () => {
  const rig = new Rig('sagebuild-find');
  after(() => rig.cleanup());

  it('the nearest build.config.yaml in the folder or above is used, its paths relative to its folder', async () => {
    rig.write({ 'build.config.yaml': 'prefix: inst\n', ...scriptPkg('a'), 'deep/er/.keep': '' });
    const r = await runInProcess(['a'], rig.path('deep/er'));
    assert.equal(r.exitCode, 0, r.all);
    assert.doesNotMatch(r.stderr, /using the defaults/);
    assert.deepEqual(rig.manifests('inst'), ['a-1.0'], 'installed into the prefix the config names, from a folder below it');
    assert.ok(rig.exists('inst/var/log/sagebuild/pkgs/a-1.0.log'), 'the log under that prefix');
  });

  it('two prefixes never share a log folder', async () => {
    assert.equal((await rig.run('--prefix', 'other', 'a')).exitCode, 0);
    assert.ok(rig.exists('other/var/log/sagebuild/pkgs/a-1.0.log'));
  });

  it('without a config the defaults apply where sagebuild runs, and it says so once', async () => {
    const bare = new Rig('sagebuild-bare');
    try {
      bare.write(scriptPkg('b'));
      const r = await bare.run('b');
      assert.equal(r.exitCode, 0, r.all);
      assert.equal(r.stderr.match(/no build\.config\.yaml in .* or a folder above it: using the defaults \(recipes pkgs, prefix local\)/g)?.length, 1, r.stderr);
      assert.deepEqual(bare.manifests(), ['b-1.0']);
    } finally {
      bare.cleanup();
    }
  });
});
