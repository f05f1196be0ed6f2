// Bad input: a clear message naming the file (and line), exit 2, nothing built or deleted.
// In-process (rig.run) but for a few runs of the real binary, whose exit status and streams only
// a process shows (rig.cli).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chmodSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CLI, Rig, scriptPkg, type Tree } from './rig.ts';

async function expectError(tree: Tree, args: string[], patterns: RegExp[], o: { cli?: boolean } = {}): Promise<void> {
  const rig = new Rig('err');
  rig.write(tree);
  const r = o.cli ? await rig.cli(...args) : await rig.run(...args);
  const exitCode = 2;
  assert.equal(r.exitCode, exitCode, r.all);
  for (const p of patterns) assert.match(r.stderr, p);
  if (o.cli) assert.equal(r.stdout, '', 'errors go to stderr');
  if (exitCode === 2) assert.ok(!rig.exists('local/var/lib/sage/installed'), 'nothing may be built after an analysis error');
  rig.cleanup();
}

describe('bad input', () => {
  it('a cycle of normal edges prints the cycle (the real binary: exit 2, on stderr)', () =>
    expectError({ ...scriptPkg('a', { deps: 'b' }), ...scriptPkg('b', { deps: 'c' }), ...scriptPkg('c', { deps: 'a' }), ...scriptPkg('ok') }, ['all'], [/pkgs\/a\/dependencies: error: dependency cycle: a -> b -> c -> a/], { cli: true }));

  it('a dependency without a recipe names the file and suggests a name', () =>
    expectError({ ...scriptPkg('numpy'), ...scriptPkg('scipy', { deps: 'nunpy' }) }, ['all'], [/pkgs\/scipy\/dependencies:1: error: dependency 'nunpy' of package 'scipy' has no recipe/, /did you mean 'numpy'/]));

  it('an unknown variable names the file', () =>
    expectError({ ...scriptPkg('a', { deps: '$(NOSUCHVAR) | $(PYTHON)' }) }, ['all'], [/pkgs\/a\/dependencies:1: error: unknown variable \$\(NOSUCHVAR\)/, /variables:/]));

  it('every recipe error is reported at once, from every stage of analysis', async () => {
    const rig = new Rig('err');
    rig.write({
      ...scriptPkg('a', { deps: 'x1' }),
      ...scriptPkg('b', { deps: 'nope2 $(VV)' }),
      ...scriptPkg('c', { deps: 'd' }),
      ...scriptPkg('d', { deps: 'c' }),
      'pkgs/e/type': 'weird\n',
      ...scriptPkg('f', { deps: 'e' }),
      'build.config.yaml': 'optional:\n  - a\n  - nosuch\n',
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /pkgs\/e\/type:1: error: bad package type 'weird'/);
    assert.match(r.stderr, /pkgs\/a\/dependencies:1: error: dependency 'x1'/);
    assert.match(r.stderr, /pkgs\/b\/dependencies:1: error: unknown variable \$\(VV\)/);
    assert.match(r.stderr, /pkgs\/b\/dependencies:1: error: dependency 'nope2'/);
    assert.match(r.stderr, /error: dependency cycle: c -> d -> c/);
    assert.match(r.stderr, /build\.config\.yaml:3:5: error: 'optional:' names 'nosuch'/);
    assert.doesNotMatch(r.stderr, /'e' of package 'f' has no recipe/, 'a dependency on a broken recipe is not a second error');
    rig.cleanup();
  });

  it('several dependency errors are reported together', async () => {
    const rig = new Rig('err');
    rig.write({ ...scriptPkg('a', { deps: 'x1' }), ...scriptPkg('b', { deps: 'x2' }) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /'x1'/);
    assert.match(r.stderr, /'x2'/);
    rig.cleanup();
  });

  it('an unknown target suggests the closest name', () => expectError({ ...scriptPkg('numpy') }, ['numpyy'], [/unknown target 'numpyy'/, /did you mean 'numpy'/]));

  it('an unknown -clean target is an error too', () => expectError({ ...scriptPkg('numpy') }, ['numpi-clean'], [/unknown target 'numpi-clean'/, /did you mean/]));

  it('malformed YAML names file, line and column', () =>
    expectError({ ...scriptPkg('a'), 'build.config.yaml': 'prefix: local\noptional: [a, b\njobs: 2\n' }, ['all'], [/build\.config\.yaml:\d+:\d+: error: malformed YAML/]));

  it('an unknown config key names line and column and suggests', () =>
    expectError({ ...scriptPkg('a'), 'build.config.yaml': 'prefix: local\njbos: 4\n' }, ['all'], [/build\.config\.yaml:2:1: error: unknown config key 'jbos'/, /did you mean 'jobs'/]));

  it('a wrongly typed config value names line and column', () =>
    expectError({ ...scriptPkg('a'), 'build.config.yaml': 'jobs: many\ncheck: maybe\n' }, ['all'], [/build\.config\.yaml:1:7: error: 'jobs': expected a whole number/, /build\.config\.yaml:2:8: error: 'check': expected true or false/]));

  it('an optional package that does not exist', () => expectError({ ...scriptPkg('a'), 'build.config.yaml': 'optional: [nope]\n' }, ['all'], [/build\.config\.yaml:1:12: error: 'optional:' names 'nope'/]));

  it('a bad type file', () => expectError({ ...scriptPkg('a'), 'pkgs/a/type': 'standart\n' }, ['all'], [/pkgs\/a\/type:1: error: bad package type 'standart'/, /base, standard, optional, experimental/]));

  it('a normal package without spkg-install fails only when something needs it built', async () => {
    const rig = new Rig('err');
    rig.write({ 'pkgs/a/type': 'standard\n', 'pkgs/a/package-version.txt': '1\n', 'pkgs/a/checksums.ini': 'tarball=a-VERSION.tar.gz\nsha256=00\n', ...scriptPkg('b', { deps: 'a' }), ...scriptPkg('c') });
    for (const args of [['list'], ['status'], ['-n', 'c'], ['c']]) {
      const r = await rig.run(...args);
      // status answers (3: not up to date), it does not fail
      assert.equal(r.exitCode, args[0] === 'status' ? 3 : 0, `${args.join(' ')}: ${r.all}`);
    }
    const r = await rig.run('b');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/a\/spkg-install\.in: error: cannot build package 'a' \(b needs it\): package 'a' has a source tarball \(checksums.ini\) but no spkg-install/);
    assert.deepEqual(rig.manifests(), ['c-1.0'], 'nothing more is built after the error');
    assert.match((await rig.run('status')).stdout, /^a +cannot build +1: package 'a' has a source tarball/m);
    rig.cleanup();
  });

  it('a package with only spkg-check is a dummy package (Sage\'s valgrind)', async () => {
    const rig = new Rig('err');
    rig.write({ 'pkgs/a/type': 'optional\n', 'pkgs/a/spkg-check.in': 'true\n', ...scriptPkg('b', { deps: 'a' }) });
    const r = await rig.run('b');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['b-1.0']);
    rig.cleanup();
  });

  it('an unreadable recipe file (broken symlink, directory instead of a file)', () =>
    expectError({ ...scriptPkg('a'), 'pkgs/a/dependencies': { symlink: '../gone/dependencies' }, 'pkgs/b/type': 'standard\n', 'pkgs/b/spkg-install.in': 'true\n', 'pkgs/b/package-version.txt/x': 'oops' }, ['all'], [/pkgs\/a\/dependencies: error: broken symlink/, /pkgs\/b\/package-version\.txt: error: expected a regular file/]));

  it('a dangling spkg-install.in symlink is an error, not a dummy package', () =>
    expectError({ ...scriptPkg('a'), 'pkgs/a/spkg-install.in': { symlink: '../gone/spkg-install.in' } }, ['all'], [/pkgs\/a\/spkg-install\.in: error: broken symlink/]));

  it('unreadable recipe files, folders and sources are errors naming them', async (t) => {
    // Permissions only bind non-root users: as root, run the CLI as nobody.
    const asRoot = process.getuid?.() === 0;
    const rig = new Rig('err');
    chmodSync(rig.dir, 0o755);
    if (asRoot && spawnSync('runuser', ['-u', 'nobody', '--', 'node', CLI, '--version'], { cwd: rig.dir }).status !== 0) {
      rig.cleanup();
      return t.skip('running as root, and user nobody cannot run the CLI in the temp folder here');
    }
    rig.write({ ...scriptPkg('a'), ...scriptPkg('b', { deps: 'a' }), ...scriptPkg('c'), 'pkgs/c/src/f.c': 'int x;\n', ...scriptPkg('d'), 'pkgs/d/patches/1.patch': '' });
    chmodSync(rig.path('pkgs/a/spkg-install.in'), 0);
    chmodSync(rig.path('pkgs/d/patches/1.patch'), 0);
    chmodSync(rig.dir, 0o755);
    const run = async (...args: string[]) => {
      if (!args.length) args = ['-n', 'all'];
      if (!asRoot) return rig.run(...args);
      spawnSync('chown', ['-R', 'nobody', rig.dir]);
      const r = spawnSync('runuser', ['-u', 'nobody', '--', 'node', CLI, ...args], { cwd: rig.dir, encoding: 'utf8', env: { ...process.env, PIP_RETRIES: '0' } });
      return { exitCode: r.status ?? -1, stderr: r.stderr, all: r.stdout + r.stderr };
    };
    let r = await run();
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/a\/spkg-install\.in: error: cannot read recipe file/);
    assert.match(r.stderr, /pkgs\/d\/patches\/1\.patch: error: cannot read patch/);
    assert.doesNotMatch(r.stderr, /internal error/);
    chmodSync(rig.path('pkgs/a/spkg-install.in'), 0o644);
    chmodSync(rig.path('pkgs/d/patches/1.patch'), 0o644);
    chmodSync(rig.path('pkgs/c/src/f.c'), 0);
    chmodSync(rig.path('pkgs/b'), 0);
    r = await run();
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/b: error: cannot read the recipe folder/);
    chmodSync(rig.path('pkgs/b'), 0o755);
    r = await run();
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/c\/src\/f\.c: error: cannot read this build input/);
    // Also when its hash is cached (chmod changes neither size, mtime nor inode), and before an
    // earlier target of the same command changed anything.
    chmodSync(rig.path('pkgs/c/src/f.c'), 0o644);
    const old = new Date(Date.now() - 60_000);
    utimesSync(rig.path('pkgs/c/src/f.c'), old, old); // old enough to be cached
    r = await run('c');
    assert.equal(r.exitCode, 0, r.all);
    chmodSync(rig.path('pkgs/c/src/f.c'), 0);
    r = await run('c-clean', 'c');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/c\/src\/f\.c: error: cannot read this build input/);
    assert.ok(rig.manifests().includes('c-1.0'), 'c-clean did not run');
    rig.cleanup();
  });

  it('an explicitly named config file that is missing', () => expectError({ ...scriptPkg('a') }, ['-C', 'nope.yaml', 'all'], [/nope\.yaml: error: config file not found/]));

  it('bad command-line usage exits 2 (the real binary)', () => expectError({ ...scriptPkg('a') }, ['--jobs', 'zero'], [/expected a whole number/], { cli: true }));
  it('--installed without list exits 2 instead of building', () => expectError({ ...scriptPkg('a') }, ['--installed'], [/--installed only changes what 'list' prints/]));

  it('an unknown option exits 2 (the real binary)', () => expectError({ ...scriptPkg('a') }, ['--frobnicate'], [/unknown option/], { cli: true }));

  it('a misspelt option gets a suggestion, in the form of every other error (the real binary)', () =>
    expectError({ ...scriptPkg('a') }, ['--jbos', '2'], [/^sagebuild: error: unknown option '--jbos'\n {2}hint: did you mean --jobs\?$/], { cli: true }));

  it('a misspelt command or target keeps its suggestion', async () => {
    await expectError({ ...scriptPkg('a') }, ['grpah'], [/unknown target 'grpah'/, /did you mean 'graph'\?/]);
    await expectError({ ...scriptPkg('a') }, ['stauts'], [/did you mean 'status'\?/]);
    await expectError({ ...scriptPkg('gmp') }, ['gpm-clean'], [/did you mean 'gmp'\?/]);
  });

  it('a malformed --with-system flag exits 2', () => expectError({ ...scriptPkg('a') }, ['--with-system-a=maybe'], [/--with-system-a=maybe: write --with-system-<pkg> \(=yes, =no\) or --without-system-<pkg>/]));

  it('--version and --help print to stdout and exit 0 (the real binary)', async () => {
    const rig = new Rig('err');
    const v = await rig.cli('--version');
    assert.equal(v.exitCode, 0, v.all);
    assert.match(v.stdout, /^\d+\.\d+\.\d+$/);
    const h = await rig.cli('--help');
    assert.equal(h.exitCode, 0, h.all);
    assert.match(h.stdout, /^Usage: sagebuild \[options\] \[targets\.\.\.\]/);
    assert.match(h.stdout, /--with-system-<pkg>, --without-system-<pkg>/);
    assert.equal(h.stderr, '');
    rig.cleanup();
  });
});

describe('package failures (exit 1)', () => {
  it('a checksum mismatch fails that package with both checksums', async () => {
    const rig = new Rig('sum');
    rig.write({
      'pkgs/t/type': 'standard\n',
      'pkgs/t/package-version.txt': '1.0\n',
      'pkgs/t/checksums.ini': `tarball=t-VERSION.tar.gz\nsha256=${'0'.repeat(64)}\n`,
      'pkgs/t/spkg-install.in': 'true\n',
      'upstream/t-1.0.tar.gz': 'not really a tarball',
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /checksum mismatch .*t-1\.0\.tar\.gz: expected sha256 0{64}, got [0-9a-f]{64}/);
    assert.deepEqual(rig.manifests(), []);
    rig.cleanup();
  });

  it('a failed patch fails the package and keeps the build dir', async () => {
    const rig = new Rig('patch');
    rig.write({
      ...scriptPkg('p'),
      'pkgs/p/src/hello.txt': 'hello\n',
      'pkgs/p/patches/01-bad.patch': '--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1 @@\n-goodbye\n+hi\n',
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /patch .*01-bad\.patch failed to apply/);
    assert.match(r.stderr, /build directory kept: .*p-1\.0/);
    assert.ok(rig.exists('local/var/tmp/sage/build/p-1.0/src/hello.txt'));
    assert.equal(rig.read('pkgs/p/src/hello.txt'), 'hello\n', 'the recipe tree is never modified');
    rig.cleanup();
  });

  it('a package that installs outside its tree fails and installs nothing', async () => {
    const rig = new Rig('outside');
    rig.write({ ...scriptPkg('o', { body: 'mkdir -p "$SAGE_DESTDIR/etc" && echo x > "$SAGE_DESTDIR/etc/evil"' }) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /installed outside its tree/);
    assert.ok(!rig.exists('local/share/o/o.txt'));
    rig.cleanup();
  });

  it("a package may not overwrite another package's files", async () => {
    const rig = new Rig('own');
    rig.write({ ...scriptPkg('first', { files: ['share/common.txt'] }), ...scriptPkg('second', { deps: 'first', files: ['share/common.txt', 'share/second.txt'] }) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /refusing to overwrite 1 file\(s\) installed by other packages: .*share\/common\.txt \(owned by first\)/);
    assert.equal(rig.read('local/share/common.txt'), 'first\n');
    assert.ok(!rig.exists('local/share/second.txt'));
    rig.cleanup();
  });
});
