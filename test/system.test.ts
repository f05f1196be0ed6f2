// src/system: deciding which packages come from the system, with real compilers, pkg-config
// and programs. Fixtures are small spkg-configure.m4 files in temp folders; one test runs the
// whole real Sage tree and checks only facts an independent probe can confirm.
// Needs: gcc/g++, pkg-config, and the zlib development files (.ci/apt-packages.txt).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './rig.ts';
import { decideSystemPackages } from '../src/system/decide.ts';
import type { Decision } from '../src/system/decide.ts';
import { argValue, parseM4 } from '../src/system/m4.ts';
import { compareVersionOp } from '../src/system/version.ts';

// ../shared beside the project, wherever it is checked out (CI: a clean clone with ../shared).
const SAGE_TREE = path.resolve(ROOT, '..', 'shared', 'data', 'sage-10.10-tree.tar.gz');

let tmp: string;
let bin: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sagebuild-system-'));
  bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  // A program with a version, for AC_PATH_PROGS_FEATURE_CHECK + AX_COMPARE_VERSION.
  writeFileSync(path.join(bin, 'fakeprog'), '#!/bin/sh\necho "fakeprog version 2.5.1"\n');
  chmodSync(path.join(bin, 'fakeprog'), 0o755);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
/** Decide for fixture packages given as name → spkg-configure.m4 text (null: no file). */
async function decide(pkgs: Record<string, string | null>, env: Record<string, string> = {}): Promise<Map<string, Decision>> {
  const root = path.join(tmp, `run${runs++}`);
  const packages = Object.entries(pkgs).map(([name, text]) => {
    const dir = path.join(root, 'pkgs', name);
    mkdirSync(dir, { recursive: true });
    if (text === null) return { name, dir, configureM4: null };
    writeFileSync(path.join(dir, 'spkg-configure.m4'), text);
    return { name, dir, configureM4: path.join(dir, 'spkg-configure.m4') };
  });
  return decideSystemPackages({
    packages,
    env: { ...(process.env as Record<string, string>), PATH: `${bin}:${process.env.PATH}`, SAGE_LOCAL: '/opt/sage-local', ...env },
    cc: 'gcc',
    cxx: 'g++',
    workDir: path.join(root, 'work'),
    jobs: 2,
  });
}

function get(m: Map<string, Decision>, name: string): Decision {
  const d = m.get(name);
  assert.ok(d, `no decision for ${name}`);
  return d;
}

/** One CHECK that keeps the package on the system only if `check` does not set install=yes. */
function configure(name: string, check: string, post = ''): string {
  return `SAGE_SPKG_CONFIGURE([${name}], [\n${check}\n], [], [], [${post}])\n`;
}

describe('m4 reader', () => {
  it('reads nested quoted arguments, drops dnl comments, and keeps line numbers', () => {
    const text = 'dnl a comment, with (parens\nFOO_BAR([a], [b [nested] c],\n  [X([y])])dnl tail\n# kept [ comment\n';
    const nodes = parseM4(text, { file: 'f.m4', line: 1 }, () => false);
    const call = nodes.find((n) => n.kind === 'macro');
    assert.ok(call && call.kind === 'macro');
    assert.equal(call.name, 'FOO_BAR');
    assert.equal(call.line, 2);
    assert.deepEqual(call.args!.map((a) => argValue(a.raw)), ['a', 'b [nested] c', 'X([y])']);
    assert.equal(call.args![2]!.line, 3);
    assert.ok(nodes.some((n) => n.kind === 'text' && n.text.includes('# kept [ comment')));
  });

  it('reports an unbalanced quote with file and line', () => {
    assert.throws(() => parseM4('\n\nAC_FOO([x)\n', { file: 'pkg/spkg-configure.m4', line: 1 }, () => false), /pkg\/spkg-configure\.m4:3: unbalanced \[/);
  });

  it('compares versions as AX_COMPARE_VERSION does', () => {
    assert.ok(compareVersionOp('3.25.1', 'ge', '3.22'));
    assert.ok(!compareVersionOp('3.9', 'ge', '3.22'));
    assert.ok(compareVersionOp('3.15.7', 'eq2', '3.15.8'));
    assert.ok(compareVersionOp('1.2', 'lt', '1.2.1'));
  });
});

describe('checks with real processes', () => {
  it('PKG_CHECK_MODULES: an installed module with a satisfied constraint, a too-new constraint, a missing module', async () => {
    const m = await decide({
      pc_ok: configure('pc_ok', 'PKG_CHECK_MODULES([ZLIB], [zlib >= 1.0], [], [sage_spkg_install_pc_ok=yes])'),
      pc_new: configure('pc_new', 'PKG_CHECK_MODULES([ZLIB], [zlib >= 999], [], [sage_spkg_install_pc_new=yes])'),
      pc_none: configure('pc_none', 'PKG_CHECK_MODULES([NOPE], [sagebuild-no-such-module], [], [sage_spkg_install_pc_none=yes])'),
    });
    const version = execFileSync('pkg-config', ['--modversion', 'zlib'], { encoding: 'utf8' }).trim();
    assert.equal(get(m, 'pc_ok').state, 'system');
    assert.match(get(m, 'pc_ok').evidence, new RegExp(`zlib ${version.replaceAll('.', '\\.')}`));
    assert.equal(get(m, 'pc_new').state, 'build');
    assert.match(get(m, 'pc_new').evidence, /zlib >= 999/);
    assert.equal(get(m, 'pc_none').state, 'build');
    assert.match(get(m, 'pc_none').evidence, /sagebuild-no-such-module/);
  });

  it('AC_CHECK_HEADER(S) and AC_SEARCH_LIBS / AC_CHECK_LIB compile and link test programs', async () => {
    const m = await decide({
      hdr_ok: configure('hdr_ok', 'AC_CHECK_HEADER([zlib.h], [], [sage_spkg_install_hdr_ok=yes])'),
      hdr_missing: configure('hdr_missing', 'AC_CHECK_HEADERS([sagebuild/nonexistent.h], [], [sage_spkg_install_hdr_missing=yes])'),
      lib_ok: configure('lib_ok', 'AC_SEARCH_LIBS([zlibVersion], [z], [], [sage_spkg_install_lib_ok=yes])'),
      lib_missing: configure('lib_missing', 'AC_SEARCH_LIBS([sagebuild_no_such_fn], [z m], [], [sage_spkg_install_lib_missing=yes])'),
      checklib: configure('checklib', 'AC_CHECK_LIB([z], [deflate], [], [sage_spkg_install_checklib=yes])'),
    });
    assert.equal(get(m, 'hdr_ok').state, 'system');
    assert.match(get(m, 'hdr_ok').evidence, /zlib\.h/);
    assert.equal(get(m, 'hdr_missing').state, 'build');
    assert.match(get(m, 'hdr_missing').evidence, /header sagebuild\/nonexistent\.h not found \(hdr_missing\/spkg-configure\.m4:2\)/);
    assert.equal(get(m, 'lib_ok').state, 'system');
    assert.match(get(m, 'lib_ok').evidence, /-lz \(zlibVersion\)/);
    assert.equal(get(m, 'lib_missing').state, 'build');
    assert.match(get(m, 'lib_missing').evidence, /sagebuild_no_such_fn not found/);
    assert.equal(get(m, 'checklib').state, 'system');
  });

  it('programs: AC_PATH_PROG, and AC_PATH_PROGS_FEATURE_CHECK with a version comparison in its body', async () => {
    const feature = (name: string, min: string): string =>
      configure(
        name,
        `AC_CACHE_CHECK([for fakeprog >= ${min}], [ac_cv_path_FAKE], [
          AC_PATH_PROGS_FEATURE_CHECK([FAKE], [fakeprog], [
            fake_version=\`$ac_path_FAKE --version 2>&1 | $SED -n -e 's/fakeprog version *\\([[0-9]]*\\.[[0-9]]*\\.[[0-9]]*\\)/\\1/p'\`
            AS_IF([test -n "$fake_version"], [
              AX_COMPARE_VERSION([$fake_version], [ge], [${min}], [
                ac_cv_path_FAKE="$ac_path_FAKE"
                ac_path_FAKE_found=:
              ])
            ])
          ])
        ])
        AS_IF([test -z "$ac_cv_path_FAKE"], [sage_spkg_install_${name}=yes])`,
      );
    const m = await decide({
      prog_new: feature('prog_new', '2.0'),
      prog_old: feature('prog_old', '3.0'),
      sh_prog: configure('sh_prog', 'AC_PATH_PROG([SH], [sh])\nAS_IF([test -z "$SH"], [sage_spkg_install_sh_prog=yes])'),
      no_prog: configure('no_prog', 'AC_PATH_PROG([NOPE], [sagebuild-no-such-program])\nAS_IF([test -z "$ac_cv_path_NOPE"], [sage_spkg_install_no_prog=yes])'),
    });
    assert.equal(get(m, 'prog_new').state, 'system');
    assert.equal(get(m, 'prog_new').evidence, `fakeprog 2.5.1 at ${path.join(bin, 'fakeprog')}`);
    assert.equal(get(m, 'prog_old').state, 'build');
    assert.match(get(m, 'prog_old').evidence, /version '2\.5\.1' is not ge 3\.0/);
    assert.equal(get(m, 'sh_prog').state, 'system');
    assert.equal(get(m, 'no_prog').state, 'build');
    assert.match(get(m, 'no_prog').evidence, /sagebuild-no-such-program not found in PATH/);
  });

  it('AC_RUN_IFELSE runs the program; AC_LANG_PUSH(C++) switches to the C++ compiler', async () => {
    const run = (name: string, ret: number): string =>
      configure(name, `AC_MSG_CHECKING([whether it returns 0])
        AC_RUN_IFELSE([AC_LANG_PROGRAM([[#include <stdlib.h>]], [[return ${ret};]])], [AC_MSG_RESULT([yes])],
          [AC_MSG_RESULT([no]); sage_spkg_install_${name}=yes], [])`);
    const lang = (name: string, l: string): string =>
      configure(name, `AC_LANG_PUSH([${l}])
        AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <vector>]], [[std::vector<int> v; v.push_back(1);]])], [], [sage_spkg_install_${name}=yes])
        AC_LANG_POP()`);
    const m = await decide({ run_ok: run('run_ok', 0), run_fail: run('run_fail', 3), lang_cxx: lang('lang_cxx', 'C++'), lang_c: lang('lang_c', 'C') });
    assert.equal(get(m, 'run_ok').state, 'system');
    assert.equal(get(m, 'run_fail').state, 'build');
    assert.match(get(m, 'run_fail').evidence, /run test failed: whether it returns 0/);
    assert.equal(get(m, 'lang_cxx').state, 'system');
    assert.equal(get(m, 'lang_c').state, 'build');
  });

  it('m4 constructs: m4_foreach with names built across quotes, m4_pushdef, AC_DEFUN with $1', async () => {
    const m = await decide({
      loops: `AC_DEFUN([FIXTURE_MUST_BUILD], [
          AC_MSG_NOTICE([building because $1])
          sage_spkg_install_loops=yes
        ])
        SAGE_SPKG_CONFIGURE([loops], [
          m4_pushdef([FAKE_MIN], [2.0])
          m4_foreach([prog], [[sh], [cat]], [
            AC_CHECK_PROGS([FOUND_]m4_toupper(prog), prog)
            AS_VAR_IF([FOUND_]m4_toupper(prog), [""], [FIXTURE_MUST_BUILD([prog is missing])])
            AC_SUBST([FOUND_]m4_toupper(prog))
          ])
          AX_COMPARE_VERSION([2.5.1], [ge], FAKE_MIN, [], [FIXTURE_MUST_BUILD([too old])])
          m4_popdef([FAKE_MIN])
        ])`,
    });
    assert.equal(get(m, 'loops').state, 'system', get(m, 'loops').evidence);
    assert.deepEqual(get(m, 'loops').exports, { FOUND_SH: 'sh', FOUND_CAT: 'cat' });
  });

  it('shell between macros: if/elif/else/fi, command substitution, AS_CASE, AS_VAR_IF', async () => {
    const m = await decide({
      sh_if: configure('sh_if', `ver=\`echo 1.2.3 | cut -d. -f2\`
        if test "x$ver" = x1; then
          sage_spkg_install_sh_if=yes
        elif test $ver -ge 2 -a -n "$HOME"; then
          AS_CASE([$host], [*-linux-gnu|*-darwin*], [AS_VAR_SET([picked], [$ver])], [sage_spkg_install_sh_if=yes])
        else
          sage_spkg_install_sh_if=yes
        fi
        AS_VAR_IF([picked], [2], [], [sage_spkg_install_sh_if=yes])`),
      sh_cmd: configure('sh_cmd', 'AS_IF([grep -q sagebuild-never-there /dev/null], [], [sage_spkg_install_sh_cmd=yes])'),
    });
    assert.equal(get(m, 'sh_if').state, 'system', get(m, 'sh_if').evidence);
    assert.equal(get(m, 'sh_cmd').state, 'build');
  });
});

describe('decisions across packages', () => {
  it('SAGE_SPKG_DEPCHECK chains: system only when every dependency is; a cycle is undecided', async () => {
    const m = await decide({
      base: configure('base', 'AC_CHECK_HEADER([zlib.h], [], [sage_spkg_install_base=yes])'),
      broken: configure('broken', 'AC_CHECK_HEADER([sagebuild/nonexistent.h], [], [sage_spkg_install_broken=yes])'),
      mid: configure('mid', 'SAGE_SPKG_DEPCHECK([base], [AC_SEARCH_LIBS([zlibVersion], [z], [], [sage_spkg_install_mid=yes])])'),
      top: configure('top', 'SAGE_SPKG_DEPCHECK([mid base], [true])'),
      blocked: configure('blocked', 'SAGE_SPKG_DEPCHECK([top broken], [true])'),
      chained: configure('chained', 'SAGE_SPKG_DEPCHECK([blocked], [true])'),
      nofile: null,
      needs_nofile: configure('needs_nofile', 'SAGE_SPKG_DEPCHECK([nofile], [true])'),
      cyc_a: configure('cyc_a', 'SAGE_SPKG_DEPCHECK([cyc_b], [true])'),
      cyc_b: configure('cyc_b', 'SAGE_SPKG_DEPCHECK([cyc_a], [true])'),
    });
    assert.equal(get(m, 'mid').state, 'system');
    assert.equal(get(m, 'top').state, 'system');
    assert.equal(get(m, 'blocked').state, 'build');
    assert.match(get(m, 'blocked').evidence, /broken will be built/);
    assert.equal(get(m, 'chained').state, 'build');
    assert.match(get(m, 'chained').evidence, /blocked will be built/);
    assert.equal(get(m, 'nofile').state, 'build');
    assert.equal(get(m, 'needs_nofile').state, 'build');
    const cyc = [get(m, 'cyc_a'), get(m, 'cyc_b')];
    assert.ok(cyc.some((d) => d.state === 'undecided' && /circular AC_REQUIRE/.test(d.evidence)), JSON.stringify(cyc));
    assert.ok(cyc.every((d) => d.state !== 'system'));
  });

  it('AC_REQUIRE reads another package result; REQUIRED-CHECK can make a package not required', async () => {
    const m = await decide({
      lib: configure('lib', 'dnl a comment line\ntrue\n\n  sage_spkg_install_lib=yes'),
      follower: configure('follower', `AC_REQUIRE([SAGE_SPKG_CONFIGURE_LIB])
        if test x$sage_spkg_install_lib = xyes; then sage_spkg_install_follower=yes; fi`),
      optional: 'SAGE_SPKG_CONFIGURE([optional], [sage_spkg_install_optional=yes], [sage_require_optional=no])\n',
    });
    assert.equal(get(m, 'lib').evidence, 'sets sage_spkg_install_lib=yes (lib/spkg-configure.m4:5)');
    assert.equal(get(m, 'follower').state, 'build');
    assert.match(get(m, 'follower').evidence, /lib will be built/);
    assert.deepEqual([get(m, 'optional').state, get(m, 'optional').required], ['system', false]);
  });

  it('as Sage does: a package already installed in SAGE_LOCAL stays an SPKG; --with-system-X=force that fails is undecided', async () => {
    const local = path.join(tmp, 'local-installed');
    mkdirSync(path.join(local, 'var', 'lib', 'sage', 'installed'), { recursive: true });
    writeFileSync(path.join(local, 'var', 'lib', 'sage', 'installed', 'kept-1.0'), '{}');
    const m = await decide(
      {
        kept: configure('kept', 'true'),
        forced: configure('forced', 'AC_CHECK_HEADER([sagebuild/nonexistent.h], [], [sage_spkg_install_forced=yes])'),
      },
      { SAGE_LOCAL: local, sage_use_system_forced: 'force' },
    );
    assert.equal(get(m, 'kept').state, 'build');
    assert.match(get(m, 'kept').evidence, /already installed in SAGE_LOCAL \(kept-1\.0\)/);
    assert.equal(get(m, 'forced').state, 'undecided');
    assert.match(get(m, 'forced').evidence, /--with-system-forced=force, but no system package could be used: header sagebuild\/nonexistent\.h not found/);
  });

  it('an aborted signal rejects with AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    const root = path.join(tmp, 'aborted');
    const dir = path.join(root, 'pkgs', 'one');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'spkg-configure.m4'), configure('one', 'AC_CHECK_HEADER([zlib.h])'));
    await assert.rejects(
      decideSystemPackages({
        packages: [{ name: 'one', dir, configureM4: path.join(dir, 'spkg-configure.m4') }],
        env: process.env as Record<string, string>,
        cc: 'gcc',
        cxx: 'g++',
        workDir: path.join(root, 'work'),
        signal: controller.signal,
      }),
      { name: 'AbortError' },
    );
  });

  it('AC_REQUIRE is hoisted as autoconf does: a REQUIRED-CHECK sees a package that only the CHECK requires', async () => {
    const m = await decide({
      tool: configure('tool', 'true'),
      // distlib's shape: REQUIRED-CHECK reads $sage_spkg_install_tool, the CHECK AC_REQUIREs it.
      helper: `SAGE_SPKG_CONFIGURE([helper], [
          AC_REQUIRE([SAGE_SPKG_CONFIGURE_TOOL])
          sage_spkg_install_helper=yes
        ], [AS_VAR_SET([SPKG_REQUIRE], [$sage_spkg_install_tool])])`,
    });
    assert.deepEqual([get(m, 'helper').state, get(m, 'helper').required], ['system', false]);
  });

  it('shell details that decide: echo >file writes, test with too many arguments fails, changequote', async () => {
    const m = await decide({
      echoed: configure('echoed', `f=$(mktemp)
        echo -e 'a\nb' >$f
        AS_IF([test "$(wc -l <$f)" -eq 2], [], [sage_spkg_install_echoed=yes])
        rm -f $f`),
      toomany: configure('toomany', 'AS_IF([test x$(printf "a b") = x], [], [sage_spkg_install_toomany=yes])'),
      quotes: configure('quotes', `changequote(<<, >>)dnl
        v='[1, [2]]'
        changequote([, ])dnl
        AS_IF([test "$v" = "@<:@1, @<:@2@:>@@:>@"], [], [sage_spkg_install_quotes=yes])`),
    });
    assert.equal(get(m, 'echoed').state, 'system', get(m, 'echoed').evidence);
    assert.equal(get(m, 'toomany').state, 'build');
    assert.equal(get(m, 'quotes').state, 'system', get(m, 'quotes').evidence);
  });

  it('Python packages build (no --enable-system-site-packages), with that reason', async () => {
    const m = await decide({ pyfoo: 'SAGE_SPKG_CONFIGURE([pyfoo], [SAGE_PYTHON_PACKAGE_CHECK([pyfoo])])\n' });
    assert.equal(get(m, 'pyfoo').state, 'build');
    assert.match(get(m, 'pyfoo').evidence, /--enable-system-site-packages/);
  });

  it('a construct it cannot evaluate makes the package undecided, naming it with file and line', async () => {
    const m = await decide({
      weird: configure('weird', 'AC_CHECK_HEADER([zlib.h])\nSAGEBUILD_UNKNOWN_MACRO([x], [y])'),
      loop: configure('loop', 'for f in a b; do sage_spkg_install_loop=yes; done'),
      unbalanced: 'SAGE_SPKG_CONFIGURE([unbalanced], [\n  AC_CHECK_HEADER([zlib.h)\n])\n',
    });
    assert.equal(get(m, 'unbalanced').state, 'undecided');
    assert.match(get(m, 'unbalanced').evidence, /unbalanced\/spkg-configure\.m4:1: unbalanced \[/);
    assert.equal(get(m, 'weird').state, 'undecided');
    assert.match(get(m, 'weird').evidence, /SAGEBUILD_UNKNOWN_MACRO \(weird\/spkg-configure\.m4:3\)/);
    assert.equal(get(m, 'loop').state, 'undecided');
    assert.match(get(m, 'loop').evidence, /'for' compound command/);
  });

  it('POST exports: empty prefix for a system package, $SAGE_LOCAL otherwise, plus SAGE_CONFIGURE_GMP', async () => {
    const post = (name: string): string => `
      if test x$sage_spkg_install_${name} = xyes; then
        AC_SUBST(SAGE_GMP_PREFIX, ['$SAGE_LOCAL'])
      else
        AC_SUBST(SAGE_GMP_PREFIX, [''])
      fi`;
    const m = await decide({
      sysgmp: configure('sysgmp', 'true', post('sysgmp')),
      ourgmp: configure('ourgmp', 'sage_spkg_install_ourgmp=yes', post('ourgmp')),
    });
    assert.deepEqual(get(m, 'sysgmp').exports, { SAGE_GMP_PREFIX: '' });
    assert.deepEqual(get(m, 'ourgmp').exports, { SAGE_GMP_PREFIX: '/opt/sage-local', SAGE_CONFIGURE_GMP: '--with-gmp=/opt/sage-local' });
  });
});

describe('the real Sage 10.10 tree', { skip: !existsSync(SAGE_TREE) && 'Sage tree archive not present' }, () => {
  it('decides every package without throwing; gmp and cmake agree with an independent probe', async () => {
    const root = path.join(tmp, 'sage');
    mkdirSync(root);
    execFileSync('tar', ['-xzf', SAGE_TREE, '-C', root]);
    const pkgsDir = path.join(root, 'build', 'pkgs');
    const names = readdirSync(pkgsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const packages = names.map((name) => {
      const f = path.join(pkgsDir, name, 'spkg-configure.m4');
      return { name, dir: path.join(pkgsDir, name), configureM4: existsSync(f) ? f : null };
    });
    const m = await decideSystemPackages({
      packages,
      env: { ...(process.env as Record<string, string>), SAGE_LOCAL: path.join(root, 'local') },
      cc: 'gcc',
      cxx: 'g++',
      workDir: path.join(root, 'work'),
      jobs: 2,
    });
    assert.equal(m.size, packages.length);
    for (const p of packages) {
      const d = get(m, p.name);
      assert.ok(['system', 'build', 'undecided'].includes(d.state));
      assert.ok(d.evidence.length > 0, p.name);
      if (!p.configureM4) assert.equal(d.state, 'build', p.name);
    }
    assert.equal(get(m, 'cython').state, 'build'); // a Python package
    // SAGE_CHECK_PARI_DEP comes from the tree's m4/ folder (loaded by default): it follows pari.
    assert.equal(get(m, 'pari_galdata').state, get(m, 'pari').state === 'build' ? 'build' : 'system');

    // Independent probe for gmp: headers (C++, as Sage's configure runs), version >= 6.2.1, -lgmp.
    const headers = path.join(tmp, 'gmp-headers.cpp');
    writeFileSync(headers, '#include <gmp.h>\n#include <gmpxx.h>\n#if __GNU_MP_VERSION < 6 || (__GNU_MP_VERSION == 6 && (__GNU_MP_VERSION_MINOR < 2 || (__GNU_MP_VERSION_MINOR == 2 && __GNU_MP_VERSION_PATCHLEVEL < 1)))\n#error old\n#endif\n');
    const link = path.join(tmp, 'gmp-link.c');
    writeFileSync(link, 'char __gmpn_gcd_11 (void);\nint main (void) { return __gmpn_gcd_11 (); }\n');
    const gmpOk =
      spawnSync('g++', ['-c', '-o', path.join(tmp, 'gmp-headers.o'), headers]).status === 0 &&
      spawnSync('gcc', ['-o', path.join(tmp, 'gmp-link'), link, '-lgmp']).status === 0;
    assert.equal(get(m, 'gmp').state, gmpOk ? 'system' : 'build', get(m, 'gmp').evidence);
    assert.equal(get(m, 'gmp').exports.SAGE_GMP_PREFIX, gmpOk ? '' : path.join(root, 'local'));

    const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
    const cmakeVersion = /cmake version (\d+\.\d+\.\d+)/.exec(cmake.stdout ?? '')?.[1];
    const cmakeOk = cmakeVersion !== undefined && compareVersionOp(cmakeVersion, 'ge', '3.22');
    assert.equal(get(m, 'cmake').state, cmakeOk ? 'system' : 'build', get(m, 'cmake').evidence);
    if (cmakeOk) assert.match(get(m, 'cmake').evidence, new RegExp(`^cmake ${cmakeVersion!.replaceAll('.', '\\.')} at /`));
  });
});
