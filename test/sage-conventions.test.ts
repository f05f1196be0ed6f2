// A fixture written in Sage's exact conventions: spkg-install.in bodies starting with `cd src`,
// tarballs named by VERSION (without .pN), symlinked recipe files, make variables, `|`,
// dependencies_order_only, stamp-path prerequisites and comments.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { execa } from 'execa';
import { Rig } from './rig.ts';

const CONFIGURE = `#!/bin/sh
# A tiny autoconf-style configure: honours --prefix and --libdir, ignores the rest.
prefix=/usr/local
for a in "$@"; do
  case "$a" in
    --prefix=*) prefix="\${a#--prefix=}" ;;
    --libdir=*) libdir="\${a#--libdir=}" ;;
  esac
done
libdir="\${libdir:-$prefix/lib}"
sed -e "s|@prefix@|$prefix|" -e "s|@libdir@|$libdir|" Makefile.in > Makefile
echo "configured for $prefix"
`;

const MAKEFILE_IN = `prefix = @prefix@
libdir = @libdir@
all: libfakegmp.so
libfakegmp.so: fakegmp.c
\t$(CC) -shared -fPIC -o $@ fakegmp.c
install: all
\tmkdir -p $(DESTDIR)$(libdir) $(DESTDIR)$(prefix)/include
\tcp libfakegmp.so $(DESTDIR)$(libdir)/
\tcp fakegmp.h $(DESTDIR)$(prefix)/include/
check:
\ttest -f libfakegmp.so
`;

describe('a recipe tree in Sage conventions', () => {
  const rig = new Rig('sage');
  before(async () => {
    const srcDir = rig.path('work/gmp-6.3.0');
    mkdirSync(srcDir, { recursive: true });
    writeFileSync(`${srcDir}/configure`, CONFIGURE);
    chmodSync(`${srcDir}/configure`, 0o755);
    writeFileSync(`${srcDir}/Makefile.in`, MAKEFILE_IN);
    writeFileSync(`${srcDir}/fakegmp.c`, 'int fakegmp_version(void) { return 6; }\n');
    writeFileSync(`${srcDir}/fakegmp.h`, 'int fakegmp_version(void);\n');
    mkdirSync(rig.path('upstream'));
    await execa('tar', ['-cJf', rig.path('upstream/gmp-6.3.0.tar.xz'), '-C', rig.path('work'), 'gmp-6.3.0']);
    const sha256 = createHash('sha256').update(readFileSync(rig.path('upstream/gmp-6.3.0.tar.xz'))).digest('hex');
    rig.write({
      'build.config.yaml': 'variables:\n  BLAS: myblas\njobs: 2\n',
      'pkgs/gmp/type': 'standard\n',
      'pkgs/gmp/package-version.txt': '6.3.0.p1\n',
      'pkgs/gmp/checksums.ini': `tarball=gmp-VERSION.tar.xz\nsha1=0000000000000000000000000000000000000000\nsha256=${sha256}\nupstream_url=https://gmplib.org/download/gmp/gmp-VERSION.tar.xz\n`,
      'pkgs/gmp/dependencies': '# no dependencies\n',
      'pkgs/gmp/spkg-install.in': 'cd src\nsdh_configure\nsdh_make\nsdh_make_install\n',
      'pkgs/gmp/spkg-check.in': 'cd src\nsdh_make_check\n',
      'pkgs/gmp/patches/0001-version.patch': '--- a/fakegmp.c\n+++ b/fakegmp.c\n@@ -1 +1 @@\n-int fakegmp_version(void) { return 6; }\n+int fakegmp_version(void) { return 63; }\n',
      'pkgs/gmp/SPKG.rst': 'gmp: fake\n',
      // gmpxx shares gmp's tarball and version through symlinks, like Sage's gfortran -> gcc.
      'pkgs/gmpxx/type': 'optional\n',
      'pkgs/gmpxx/checksums.ini': { symlink: '../gmp/checksums.ini' },
      'pkgs/gmpxx/package-version.txt': { symlink: '../gmp/package-version.txt' },
      'pkgs/gmpxx/patches': { symlink: '../gmp/patches' },
      'pkgs/gmpxx/spkg-install.in': 'cd src\ngrep -q "return 63" fakegmp.c || sdh_die "patch not applied"\nmkdir -p "$SAGE_DESTDIR_LOCAL/share/gmpxx" && echo "$PKG_VER" > "$SAGE_DESTDIR_LOCAL/share/gmpxx/version"\n',
      'pkgs/gmpxx/dependencies': '$(SAGE_LOCAL)/$(SPKG_INST_RELDIR)/gmp-$(vers_gmp)\n',
      'pkgs/myblas/type': 'standard\n',
      'pkgs/myblas/spkg-install.in': 'sdh_install -T /dev/null "$SAGE_INST_LOCAL/share/myblas.txt"\n',
      'pkgs/docs/type': 'standard\n',
      'pkgs/docs/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/doc" && echo docs > "$SAGE_DESTDIR_LOCAL/share/doc/index.txt"\n',
      'pkgs/mpfr/type': 'standard\n',
      'pkgs/mpfr/package-version.txt': '4.2.1\n',
      // First line only; `|` starts order-only prerequisites; variables resolve via config/defaults.
      'pkgs/mpfr/dependencies': '$(MP_LIBRARY) $(BLAS) | docs # comment\nignored second line\n',
      'pkgs/mpfr/dependencies_order_only': 'myblas\n',
      'pkgs/mpfr/spkg-install.in': [
        'cd src 2>/dev/null || true',
        'echo "int main(void){extern int fakegmp_version(void); return fakegmp_version() == 63 ? 0 : 1;}" > t.c',
        '${CC:-gcc} t.c -o t -lfakegmp $LDFLAGS || sdh_die "cannot link against gmp"',
        './t || sdh_die "wrong gmp"',
        'sdh_install t "$SAGE_LOCAL/bin/"',
        'test "$PKG_NAME" = "mpfr-4.2.1" && test "$PKG_BASE" = mpfr && test "$PKG_VER" = 4.2.1 || sdh_die "bad PKG_ vars"',
      ].join('\n'),
      'pkgs/notapackage/README': 'a folder without `type` is not a package\n',
    });
  });
  after(() => rig.cleanup());

  it('lists packages (dirs with a type file) and the built-in venv', async () => {
    const r = await rig.run('list');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(r.stdout.split('\n'), ['docs', 'gmp', 'gmpxx', 'mpfr', 'myblas', 'python3_venv']);
  });

  it('builds with --check: unpack, patch, configure, link against the prefix, record test_result', async () => {
    const r = await rig.run('--check', 'all', 'gmpxx');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['docs-none', 'gmp-6.3.0.p1', 'gmpxx-6.3.0.p1', 'mpfr-4.2.1', 'myblas-none']);
    const gmp = rig.manifest('gmp-6.3.0.p1');
    assert.deepEqual(gmp.files, ['include/fakegmp.h', 'lib/libfakegmp.so']);
    assert.equal(gmp.test_result, 'passed');
    assert.equal(rig.manifest('mpfr-4.2.1').test_result, 'not available');
    assert.equal(rig.read('local/share/gmpxx/version'), '6.3.0.p1\n');
    const t = await execa(rig.path('local/bin/t'), { reject: false });
    assert.equal(t.exitCode, 0, 'the installed program runs against the installed library (rpath)');
  });

  it('order-only prerequisites do not trigger rebuilds; normal ones and stamp paths do', async () => {
    rig.write({ 'pkgs/docs/package-version.txt': '2\n' });
    let r = await rig.run('-n', 'all', 'gmpxx');
    assert.match(r.stdout, /^docs: version none -> 2$/m);
    assert.doesNotMatch(r.stdout, /^mpfr/m);
    rig.write({ 'pkgs/myblas/package-version.txt': '1\n' });
    r = await rig.run('-n', 'all', 'gmpxx');
    assert.match(r.stdout, /^mpfr: dependency myblas rebuilt$/m, 'a config variable resolves to a normal dependency');
    rig.write({ 'pkgs/gmp/package-version.txt': '6.3.0.p2\n' });
    r = await rig.run('-n', 'gmpxx');
    assert.match(r.stdout, /^gmp: version 6\.3\.0\.p1 -> 6\.3\.0\.p2$/m);
    assert.match(r.stdout, /^gmpxx: version 6\.3\.0\.p1 -> 6\.3\.0\.p2; dependency gmp rebuilt$/m);
    r = await rig.run('gmpxx');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.manifests().includes('gmp-6.3.0.p2'));
    assert.ok(!rig.manifests().includes('gmp-6.3.0.p1'), 'the old version is uninstalled when the new one lands');
  });

  it('a failing rebuild keeps the old version installed', async () => {
    rig.write({ 'pkgs/gmp/package-version.txt': '6.3.0.p3\n', 'pkgs/gmp/spkg-install.in': 'cd src\nsdh_configure\nsdh_make\nexit 1\n' });
    const r = await rig.run('gmp');
    assert.equal(r.exitCode, 1);
    assert.ok(rig.manifests().includes('gmp-6.3.0.p2'));
    assert.ok(rig.exists('local/lib/libfakegmp.so'), 'unlike Sage, the old files stay until the new build succeeded');
  });
});
