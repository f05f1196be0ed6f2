// Hostile and unlucky situations: symlinks in the prefix, failed upgrades, concurrent runs,
// leftover background processes, odd recipe values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rig, processGone, scriptPkg, waitFor, type RunResult } from './rig.ts';

describe('the prefix is never written through a symlink', () => {
  it('a staged file under a symlinked folder that points outside is refused', async () => {
    const rig = new Rig('rob');
    const outside = mkdtempSync(path.join(tmpdir(), 'outside-'));
    rig.write({
      ...scriptPkg('a', { body: `mkdir -p "$SAGE_DESTDIR_LOCAL/share" && ln -s ${outside} "$SAGE_DESTDIR_LOCAL/share/plugins"` }),
      ...scriptPkg('b', { deps: 'a', files: ['share/plugins/b.txt'] }),
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /share\/plugins\/b\.txt \(would be written through the symlink .*share\/plugins\)/);
    assert.ok(!existsSync(path.join(outside, 'b.txt')), 'nothing was written outside the prefix');
    rmSync(outside, { recursive: true, force: true });
    rig.cleanup();
  });

  it("a symlink into another package's folder cannot be used to overwrite its files", async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('a', { files: ['share/real/f'], body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share" && ln -s real "$SAGE_DESTDIR_LOCAL/share/alias"' }),
      ...scriptPkg('b', { deps: 'a', files: ['share/alias/f'] }),
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.equal(rig.read('local/share/real/f'), 'a\n');
    rig.cleanup();
  });

  it("packages cannot install into sagebuild's state folders", async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('b'), ...scriptPkg('a', { deps: 'b', files: ['var/lib/sage/installed/b-1.0'] }) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /installs into sagebuild's own state folders: var\/lib\/sage\/installed\/b-1\.0/);
    assert.deepEqual(rig.manifest('b-1.0').files, ['share/b/b.txt']);
    rig.cleanup();
  });
});

describe('a failed upgrade keeps the installed version', () => {
  it('when the merge fails, the old files and manifest are restored', async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('a', { files: ['share/a/f'] }), ...scriptPkg('b', { body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share" && ln -s ../nonexistent "$SAGE_DESTDIR_LOCAL/share/x"' }) });
    assert.equal((await rig.run('all')).exitCode, 0);
    // a-2.0 stages share/x/g, through b's dangling symlink: refused before anything moves.
    rig.write(scriptPkg('a', { version: '2.0', files: ['share/a/f', 'share/x/g'] }));
    const r = await rig.run('a');
    assert.equal(r.exitCode, 1, r.all);
    assert.ok(rig.manifests().includes('a-1.0'));
    assert.equal(rig.read('local/share/a/f'), 'a\n');
    rig.cleanup();
  });

  it('an upgrade replaces files both versions install in place: a reader never finds them missing', async () => {
    const rig = new Rig('rob');
    const many = (v: string) => `mkdir -p "$SAGE_DESTDIR_LOCAL/share/a" && for i in $(seq 1 2000); do echo ${v} > "$SAGE_DESTDIR_LOCAL/share/a/f$i"; done`;
    rig.write(scriptPkg('a', { files: [], body: many('one') }));
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write(scriptPkg('a', { version: '2.0', files: [], body: many('two') }));
    // A reader polls the file merged last (so missing longest if the old one went away first).
    const watched = rig.path('local/share/a/f999');
    const reader = execa('bash', ['-c', `while [ ! -e "$1.stop" ]; do [ -e "$1" ] || echo MISSING; done`, '_', watched], { reject: false });
    const r = await rig.run('a');
    writeFileSync(`${watched}.stop`, '');
    const seen = await reader;
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/a/f999'), 'two\n');
    assert.equal(String(seen.stdout), '', 'the file was missing during the upgrade');
    rig.cleanup();
  });

  it('a directory only the old version owned may become a symlink in the new one', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('a', { files: ['share/a/doc/f'] }));
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write(scriptPkg('a', { version: '2.0', files: ['share/a/doc-2/f'], body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/a" && ln -s doc-2 "$SAGE_DESTDIR_LOCAL/share/a/doc"' }));
    const r = await rig.run('a');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/a/doc/f'), 'a\n');
    assert.deepEqual(rig.manifests(), ['a-2.0']);
    rig.cleanup();
  });
});

describe('processes', () => {
  it('a background process left by a recipe does not hang the build and is stopped', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('bg', { body: '( sleep 300 ) &\necho $! > "$SAGE_ROOT/bg.pid"' }));
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    const pid = Number(rig.read('bg.pid'));
    await waitFor('the leftover process to be killed with the group', () => processGone(pid), 30_000);
    rig.cleanup();
  });

  it('a process that left the group (setsid) and holds the output does not hang the build', { timeout: 120_000 }, async () => {
    const rig = new Rig('rob');
    // The recipe ends only once the daemon has left its group (setsid ran): ended earlier, the
    // group's kill could reach it first, and nothing would hold the output.
    rig.write(scriptPkg('daemon', { body: 'setsid bash -c \'touch "$SAGE_ROOT/left"; exec sleep 600\' &\necho $! > "$SAGE_ROOT/daemon.pid"\nwhile [ ! -e "$SAGE_ROOT/left" ]; do sleep 0.01; done' }));
    try {
      const r = await rig.run('all');
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.all, /still holds its output; no longer reading it/);
      assert.deepEqual(rig.manifests(), ['daemon-1.0']);
    } finally {
      try {
        process.kill(Number(rig.read('daemon.pid')), 'SIGKILL');
      } catch {
        // gone already
      }
      rig.cleanup();
    }
  });

  it("a run sees files another run installed meanwhile: it cannot overwrite them", async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('zero'),
      ...scriptPkg('second', { deps: 'zero', files: ['share/common.txt'], body: 'touch "$SAGE_ROOT/waiting"\nwhile [ ! -e "$SAGE_ROOT/go" ]; do sleep 0.05; done' }),
      ...scriptPkg('first', { files: ['share/common.txt'] }),
    });
    const b = rig.start(['second']);
    try {
      await waitFor('the second run to build', () => rig.exists('waiting'));
      assert.ok(rig.manifests().includes('zero-1.0'), 'the second run has installed something already');
      const a = await rig.run('first');
      assert.equal(a.exitCode, 0, a.all);
    } finally {
      rig.write({ go: '' }); // never leave the run waiting, even when an assertion failed
    }
    const rb = await b;
    assert.equal(rb.exitCode, 1, String(rb.all));
    assert.match(String(rb.stderr), /share\/common\.txt \(owned by first\)/);
    assert.equal(rig.read('local/share/common.txt'), 'first\n');
    rig.cleanup();
  });

  it('after an upgrade in the same run, the upgraded package still owns its files', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('p', { files: ['share/common'] }));
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write({ ...scriptPkg('p', { version: '2.0', files: ['share/common'] }), ...scriptPkg('q', { deps: 'p', files: ['share/common'] }) });
    const r = await rig.run('q');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /share\/common \(owned by p\)/);
    assert.equal(rig.read('local/share/common'), 'p\n');
    assert.deepEqual(rig.manifests(), ['p-2.0']);
    rig.cleanup();
  });

  it('files another run has claimed but not yet recorded cannot be taken; a dead run\'s claim is ignored', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('first', { files: ['share/common.txt'] }));
    // What another run writes between its ownership check and its manifest.
    const other = execa('sleep', ['300']);
    const claims = 'local/var/lib/sage/sagebuild/claims';
    rig.write({ [`${claims}/${other.pid}-other.json`]: JSON.stringify({ files: ['share/common.txt'] }) });
    const r = await rig.run('first');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /share\/common\.txt \(being installed by other\)/);
    assert.ok(!rig.exists('local/share/common.txt'));
    other.kill();
    await other.catch(() => undefined);
    const again = await rig.run('first');
    assert.equal(again.exitCode, 0, again.all);
    assert.deepEqual(readdirSync(rig.path(claims)), [], 'the stale claim is gone, and so is the run\'s own');
    // A claim whose PID now belongs to another process (it started later) is stale too.
    assert.equal((await rig.run('first-clean')).exitCode, 0);
    const reused = execa('sleep', ['300']);
    rig.write({ [`${claims}/${reused.pid}-other.json`]: JSON.stringify({ start: '1', files: ['share/common.txt'] }) });
    const third = await rig.run('first');
    reused.kill();
    await reused.catch(() => undefined);
    assert.equal(third.exitCode, 0, third.all);
    rig.cleanup();
  });

  it('<pkg>-clean waits while another run builds that package, then removes what it installed', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('slow', { body: 'touch "$SAGE_ROOT/started"\nwhile [ ! -e "$SAGE_ROOT/go" ]; do sleep 0.05; done' }));
    const [ra, b] = await meetMidBuild(rig, 'started', ['slow-clean']);
    assert.equal(ra.exitCode, 0, ra.all);
    assert.equal(b.exitCode, 0, b.all);
    assert.match(b.all, /waiting for exclusive lock .*\.locks\/slow\.lock/);
    assert.deepEqual(rig.manifests(), []);
    assert.ok(!rig.exists('local/share/slow/slow.txt'));
    rig.cleanup();
  });

  it('two sagebuild runs on one prefix build a package once; the second waits and says why', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('slow', { body: 'echo built >> "$SAGE_ROOT/count"\nwhile [ ! -e "$SAGE_ROOT/go" ]; do sleep 0.05; done' }));
    const [ra, rb] = await meetMidBuild(rig, 'count', ['all']);
    assert.equal(ra.exitCode, 0, ra.all);
    assert.equal(rb.exitCode, 0, rb.all);
    assert.equal(rig.read('count'), 'built\n', 'built once');
    assert.match(rb.all, /waiting for exclusive lock .*\.locks\/slow\.lock \(held by another sagebuild building it/);
    assert.match(rb.all, /slow-1\.0: built meanwhile by another sagebuild process/);
    assert.match(rb.all, /summary: built: 0, up to date: 1/);
    rig.cleanup();
  });
});

describe('recipes and targets', () => {
  it('a package that becomes a dummy loses its old install; its dependents rebuild', async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('a', { files: ['lib/liba.txt'] }), ...scriptPkg('b', { deps: 'a' }), ...scriptPkg('c') });
    assert.equal((await rig.run('all')).exitCode, 0);
    rmSync(rig.path('pkgs/a/spkg-install.in'));
    const n = await rig.run('-n', 'all');
    assert.match(n.stdout, /a: now a dummy package: the installed a-1\.0 is removed/);
    assert.match(n.stdout, /b: dependency a rebuilt/);
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['b-1.0', 'c-1.0']);
    assert.ok(!rig.exists('local/lib/liba.txt'));
    assert.match(r.stdout, /\[a-1\.0\] old install removed \(now a dummy package\)/);
    assert.match((await rig.run('status')).stdout, /^a\s+dummy/m);
    assert.match((await rig.run('all')).stdout, /Nothing to \(re\)build/);
    rig.cleanup();
  });

  it('a symlinked in-tree src/ (Sage: sagelib/src -> ../../../src) is copied, never built in place', async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('s', { body: 'test -f src/code.c || sdh_die "no sources"\ntouch src/BUILD_ARTIFACT' }),
      'shared-src/code.c': 'int x;\n',
      'pkgs/s/src': { symlink: '../../shared-src' },
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(!rig.exists('shared-src/BUILD_ARTIFACT'));
    assert.equal((await rig.run('-n', 'all')).stdout, 'Nothing to (re)build.');
    rig.cleanup();
  });

  it("in-tree src/ reached through symlinks (Sage's in-tree packages): links out of it are followed, and their targets count", async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('intree', { files: [], body: 'test -L src/alias || sdh_die "a link inside src/ stays a link"\nmkdir -p "$SAGE_DESTDIR_LOCAL/share"\ncat src/mylib/data.txt src/alias/data.txt > "$SAGE_DESTDIR_LOCAL/share/data.txt"' }),
      'shared/data.txt': 'one\n',
      'upkg/mylib/data.txt': { symlink: '../../shared/data.txt' },
      'upkg/alias': { symlink: 'mylib' },
      'pkgs/intree/src': { symlink: '../../upkg' },
    });
    let r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/data.txt'), 'one\none\n');
    rig.write({ 'shared/data.txt': 'two\n' });
    r = await rig.run('-n', 'all');
    assert.match(r.stdout, /^intree: src\/mylib\/data\.txt changed/m);
    r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/data.txt'), 'two\ntwo\n');
    rig.cleanup();
  });

  it("recipes see Sage's build environment: compiler flags (user's kept), UNAME, SAGE_PKGCONFIG", async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('envp', { files: [], body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share"\necho "$CFLAGS|$CFLAGS_O3|$CXXFLAGS_NON_NATIVE|$UNAME|$SAGE_PKGCONFIG" > "$SAGE_DESTDIR_LOCAL/share/env"' }));
    const r = await rig.runEnv({ CFLAGS: '', CXXFLAGS: '' }, 'all'); // whatever the caller's environment has
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/env'), `-O2 -g|-O3 -g|-O2 -g|Linux|${rig.path('local/lib/pkgconfig')}\n`);
    rig.write({ 'pkgs/envp/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share"\necho "$CFLAGS|$ORIGINAL_CFLAGS" > "$SAGE_DESTDIR_LOCAL/share/env"\n' });
    const mine = await rig.runEnv({ CFLAGS: '-O1 -pipe' }, 'all');
    assert.equal(mine.exitCode, 0, mine.all);
    assert.equal(rig.read('local/share/env'), '-O1 -pipe|-O1 -pipe\n');
    rig.cleanup();
  });

  it("Sage's hooks: spkg-preinst before the build, spkg-postinst once installed (its failure rolls back)", async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('h', { body: 'test -e "$SAGE_PKG_DIR/preinst-ran" || sdh_die "spkg-preinst did not run first"' }),
      'pkgs/h/spkg-preinst.in': 'touch "$SAGE_PKG_DIR/preinst-ran"\n',
      'pkgs/h/spkg-postinst.in': 'test -e "$SAGE_LOCAL/share/h/h.txt" || sdh_die "not installed yet"\necho ok > "$SAGE_ROOT/postinst-ran"\n',
    });
    let r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('postinst-ran'), 'ok\n');
    // A failing postinst of an upgrade: the new version is rolled back, the old one stays.
    rig.write({ ...scriptPkg('h', { version: '2.0', files: ['share/h/h2.txt'] }), 'pkgs/h/spkg-postinst.in': 'exit 3\n' });
    r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /spkg-postinst failed \(exit code 3\)\. The previously installed h-1\.0 was restored/);
    assert.deepEqual(rig.manifests(), ['h-1.0']);
    assert.ok(rig.exists('local/share/h/h.txt') && !rig.exists('local/share/h/h2.txt'));
    rig.cleanup();
  });

  it('an executable spkg-install runs as itself (here Python), with the Sage environment; sdh_die reads a message from stdin', async () => {
    const rig = new Rig('rob');
    rig.write({
      'pkgs/pyinst/type': 'standard\n',
      'pkgs/pyinst/package-version.txt': '1.0\n',
      'pkgs/pyinst/spkg-install': { mode: 0o755, content: '#!/usr/bin/env python3\nimport os, pathlib\nd = pathlib.Path(os.environ["SAGE_DESTDIR_LOCAL"], "share")\nd.mkdir(parents=True)\n(d / "py.txt").write_text(os.environ["PKG_NAME"] + "\\n")\n' },
      ...scriptPkg('dies', { body: 'sdh_die <<EOF\nthe message from a here-document\nEOF' }),
    });
    const r = await rig.run('-k', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.equal(rig.read('local/share/py.txt'), 'pyinst-1.0\n');
    assert.match(r.all, /the message from a here-document/);
    rig.cleanup();
  });

  it('<pkg>-no-deps against a missing dependency: the next run rebuilds it after the dependency', async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('a'), ...scriptPkg('b', { deps: 'a', body: 'cp "$SAGE_LOCAL/share/a/a.txt" "$SAGE_ROOT/seen" 2>/dev/null || echo MISSING > "$SAGE_ROOT/seen"' }) });
    assert.equal((await rig.run('b-no-deps')).exitCode, 0);
    assert.equal(rig.read('seen'), 'MISSING\n');
    const dry = await rig.run('-n', 'all');
    assert.match(dry.stdout, /^b: dependency a rebuilt$/m);
    assert.equal((await rig.run('all')).exitCode, 0);
    assert.equal(rig.read('seen'), 'a\n');
    rig.cleanup();
  });

  it('a version or tarball name that would leave its folder is a recipe error', async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('v', { version: '1.0/../../../escape' }),
      'pkgs/t/type': 'standard\n',
      'pkgs/t/package-version.txt': '1\n',
      'pkgs/t/checksums.ini': `tarball=../../out/t-VERSION.tar.gz\nsha256=${'0'.repeat(64)}\n`,
      'pkgs/t/spkg-install.in': 'true\n',
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/v\/package-version\.txt:1: error: bad version/);
    assert.ok(!rig.exists('local/var/log/sagebuild'));
    // A bad tarball name concerns only building that package: an error when it must build.
    rig.write({ 'pkgs/v/package-version.txt': '1.0\n' });
    const t = await rig.run('t');
    assert.equal(t.exitCode, 2, t.all);
    assert.match(t.stderr, /pkgs\/t\/checksums\.ini:1: error: cannot build package 't' \(it was requested\): tarball=\.\.\/\.\.\/out\/t-VERSION\.tar\.gz must be a plain file name/);
    assert.ok(!rig.exists('local/var/log/sagebuild'));
    rig.cleanup();
  });

  it('--explain takes package names and no targets; -n download downloads nothing', async () => {
    const rig = new Rig('rob');
    rig.write({
      ...scriptPkg('a'),
      'pkgs/t/type': 'standard\n',
      'pkgs/t/package-version.txt': '1\n',
      'pkgs/t/checksums.ini': `tarball=t-VERSION.tar.gz\nsha256=${'0'.repeat(64)}\nupstream_url=http://127.0.0.1:9/t-VERSION.tar.gz\n`,
      'pkgs/t/spkg-install.in': 'true\n',
    });
    let r = await rig.run('--explain', 'all');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /--explain takes package names; 'all' is not a package/);
    r = await rig.run('all', '--explain', 'a');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /--explain builds nothing, so it takes no targets: all/);
    r = await rig.run('--explain', 'a', 't');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^a-1\.0 will be rebuilt .*\n  - not installed\n/m);
    assert.match(r.stdout, /^t-1 will be rebuilt/m);
    r = await rig.run('-n', 'download', 't');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /t-1: would download \S+\/upstream\/t-1\.tar\.gz from http:\/\/127\.0\.0\.1:9\/t-1\.tar\.gz/);
    assert.ok(!rig.exists('upstream'));
    rig.cleanup();
  });

  it('-n plans later targets as if the earlier -clean targets had run', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('a'));
    assert.equal((await rig.run('all')).exitCode, 0);
    const r = await rig.run('-n', 'a-clean', 'a');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /would remove a-1\.0/);
    assert.match(r.stdout, /^a: not installed$/m);
    assert.deepEqual(rig.manifests(), ['a-1.0'], 'a dry run changes nothing');
    rig.cleanup();
  });

  it('a folder as file prerequisite counts by content; a missing one is an error', async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('f', { deps: '$(SAGE_SRC)/sage' }), 'src/sage/a.pxd': 'x\n' });
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write({ 'src/sage/a.pxd': 'y\n' });
    assert.match((await rig.run('-n', 'all')).stdout, /^f: file .*src\/sage changed$/m);
    rig.write({ 'pkgs/f/dependencies': '$(SAGE_SRC)/nonexistent.pxd\n' });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /pkgs\/f\/dependencies:1: error: file prerequisite .*nonexistent\.pxd of package 'f' does not exist/);
    rig.cleanup();
  });

  it('editor backups and lines after the first of dependencies do not rebuild', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('e', { deps: '' }));
    assert.equal((await rig.run('all')).exitCode, 0);
    rig.write({ 'pkgs/e/spkg-install.in~': 'old\n', 'pkgs/e/.spkg-install.in.swp': 'x', 'pkgs/e/dependencies': '\n# a comment added later\n' });
    assert.equal((await rig.run('-n', 'all')).stdout, 'Nothing to (re)build.');
    rig.cleanup();
  });
});

describe('damaged state', () => {
  it('an old-style Sage stamp (no JSON, no files list) does not stop every command: the package is rebuilt over it', async () => {
    const rig = new Rig('rob');
    rig.write({ ...scriptPkg('c'), ...scriptPkg('d'), 'local/var/lib/sage/installed/c-1.0': 'PACKAGE NAME: c\n', 'local/var/lib/sage/installed/d-1.0': '{"package_name": "d", "package_version": "1.0"}\n' });
    const st = await rig.run('status');
    assert.equal(st.exitCode, 3, st.all);
    assert.match(st.stdout, /^c\s+outdated\s+1\.0: installed, but its files are unknown/m);
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, /c-1\.0: .*c-1\.0 lists no files \(an old-style Sage stamp/);
    assert.deepEqual(rig.manifest('c-1.0').files, ['share/c/c.txt']);
    assert.deepEqual(rig.manifest('d-1.0').files, ['share/d/d.txt']);
    rig.cleanup();
  });

  it('a manifest with malformed recorded inputs is rebuilt, not a crash', async () => {
    const rig = new Rig('rob');
    rig.write(scriptPkg('a'));
    assert.equal((await rig.run('all')).exitCode, 0);
    const m = rig.manifest('a-1.0') as unknown as { sagebuild: { inputs: unknown; fingerprint: string } };
    m.sagebuild.inputs = { version: '1.0' };
    m.sagebuild.fingerprint = 'damaged';
    rig.write({ 'local/var/lib/sage/installed/a-1.0': JSON.stringify(m) });
    const r = await rig.run('-n', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^a: /m);
    rig.cleanup();
  });
});

/**
 * Runs `all` while its `slow` recipe, once it has made `marker` in SAGE_ROOT, waits for a `go`
 * file; meanwhile starts `second` and waits until it says it waits for the package lock. Then
 * lets the first run finish, whatever happened (so a failure never leaves a run waiting).
 */
async function meetMidBuild(rig: Rig, marker: string, second: string[]): Promise<[RunResult, RunResult]> {
  const first = rig.start(['all']);
  let other: ReturnType<Rig['start']> | undefined;
  try {
    await waitFor('the first run to build', () => rig.exists(marker));
    other = rig.start(second);
    let out = '';
    other.all?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the second run to wait', () => /waiting for exclusive lock/.test(out));
  } finally {
    rig.write({ go: '' });
  }
  const done = (r: Awaited<ReturnType<Rig['start']>>): RunResult => ({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) });
  const [a, b] = await Promise.all([first, other!]);
  return [done(a), done(b)];
}
