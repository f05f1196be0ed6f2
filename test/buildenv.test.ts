// The build environment real recipes expect: compilers (CC, CXX, CPP, ...) as configure would
// find them or as the user set them, and what sage-build-env-config / sage-build-env export.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { Rig } from './rig.ts';

const VARS = ['CC', 'CXX', 'FC', 'F77', 'OBJC', 'OBJCXX', 'CPP', 'CXXCPP', 'CFLAGS', 'CFLAGS_O3', 'CXXFLAGS', 'FCFLAGS', 'F77FLAGS', 'ORIGINAL_CFLAGS', 'CFLAGS_NON_NATIVE', 'SAGE_GMP_PREFIX', 'SAGE_CONFIGURE_GMP', 'SAGE_MPFR_PREFIX', 'SAGE_CONFIGURE_MPFR', 'SAGE_BUILD_ENV_SOURCED', 'SAGE_EDITABLE'];

/** A recipe that compiles C and C++ with $CC / $CXX (as gmp's and nauty's do) and records its environment. */
const COMPILING = {
  'pkgs/hello/type': 'standard\n',
  'pkgs/hello/package-version.txt': '1.0\n',
  'pkgs/hello/spkg-install.in': [
    'mkdir -p work && cd work',
    "cat > hello.c <<'EOF'",
    '#include <stdio.h>',
    'int main(void) { printf("hello from C\\n"); return 0; }',
    'EOF',
    "cat > hello.cpp <<'EOF'",
    '#include <iostream>',
    'int main() { std::cout << "hello from C++" << std::endl; return 0; }',
    'EOF',
    'printf "#define GREETING hi\\nGREETING\\n" > pp.h',
    'machine=$($CC -dumpmachine) || sdh_die "$CC -dumpmachine failed"',
    '[ -n "$machine" ] || sdh_die "empty -dumpmachine"',
    '$CC $CFLAGS -o hello-c hello.c || sdh_die "C compile failed"',
    '$CXX $CXXFLAGS -o hello-cxx hello.cpp || sdh_die "C++ compile failed"',
    '$CPP pp.h > pp.out || sdh_die "CPP failed"',
    'grep -q "^hi$" pp.out || sdh_die "CPP did not expand"',
    'mkdir -p "$SAGE_DESTDIR_LOCAL/share/hello"',
    'echo "$machine" > "$SAGE_DESTDIR_LOCAL/share/hello/machine"',
    `for v in ${VARS.join(' ')}; do echo "$v=\${!v-<unset>}"; done > "$SAGE_DESTDIR_LOCAL/share/hello/env"`,
    'sdh_install hello-c hello-cxx "$SAGE_LOCAL/bin"',
  ].join('\n'),
};

function envOf(rig: Rig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of rig.read('local/share/hello/env').split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The user's environment without compiler settings, so the tests see what sagebuild finds. */
const NO_COMPILERS = { CC: '', CXX: '', FC: '', F77: '', OBJC: '', OBJCXX: '', CPP: '', CXXCPP: '', CFLAGS: '', CXXFLAGS: '', FCFLAGS: '', F77FLAGS: '', SAGE_DEBUG: '' };

describe('build environment: compilers', () => {
  const rigs: Rig[] = [];
  after(() => rigs.forEach((r) => r.cleanup()));

  it('gives recipes the compilers configure would find: $CC -dumpmachine, C and C++ compile, $CPP', async () => {
    const rig = new Rig('buildenv');
    rigs.push(rig);
    rig.write({ ...COMPILING, 'pkgs/gmp/type': 'standard\n', 'pkgs/gmp/package-version.txt': '6.3.0\n', 'pkgs/gmp/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/gmp" && echo gmp > "$SAGE_DESTDIR_LOCAL/share/gmp/x"\n', 'pkgs/hello/dependencies': 'gmp\n' });
    const r = await rig.runEnv(NO_COMPILERS, 'hello');
    assert.equal(r.exitCode, 0, r.all);
    const env = envOf(rig);
    assert.equal(env.CC, 'gcc');
    assert.equal(env.CXX, 'g++');
    assert.equal(env.CPP, 'gcc -E');
    assert.equal(env.CXXCPP, 'g++ -E');
    assert.equal(env.OBJC, 'gcc');
    assert.equal(env.OBJCXX, 'g++');
    // No Fortran compiler on PATH: empty, as configure leaves FC (Sage would build gfortran).
    const hasGfortran = (await execa('sh', ['-c', 'command -v gfortran'], { reject: false })).exitCode === 0;
    assert.equal(env.FC, hasGfortran ? 'gfortran' : '');
    assert.equal(env.F77, env.FC);
    const { stdout: machine } = await execa('gcc', ['-dumpmachine']);
    assert.equal(rig.read('local/share/hello/machine').trim(), machine.trim());
    assert.equal((await execa(rig.path('local/bin/hello-c'))).stdout, 'hello from C');
    assert.equal((await execa(rig.path('local/bin/hello-cxx'))).stdout, 'hello from C++');
    // sage-build-env: flags, and CXXFLAGS/FCFLAGS/F77FLAGS following CFLAGS.
    assert.equal(env.CFLAGS, '-O2 -g');
    assert.equal(env.CFLAGS_O3, '-O3 -g');
    assert.equal(env.CXXFLAGS, '-O2 -g');
    assert.equal(env.F77FLAGS, '-O2 -g');
    assert.equal(env.ORIGINAL_CFLAGS, '');
    assert.equal(env.SAGE_BUILD_ENV_SOURCED, '1');
    assert.equal(env.SAGE_EDITABLE, 'yes');
    // sage-build-env-config: gmp is built here, so configure scripts get --with-gmp=$SAGE_LOCAL; mpfr is not.
    assert.equal(env.SAGE_GMP_PREFIX, rig.path('local'));
    assert.equal(env.SAGE_CONFIGURE_GMP, `--with-gmp=${rig.path('local')}`);
    assert.equal(env.SAGE_MPFR_PREFIX, '');
    assert.equal(env.SAGE_CONFIGURE_MPFR, '<unset>');
  });

  it("the user's CC, CXX and CFLAGS win; CPP follows the user's CC; SAGE_DEBUG=no drops -g", async () => {
    const rig = new Rig('buildenv-user');
    rigs.push(rig);
    rig.write({
      ...COMPILING,
      // A compiler wrapper that leaves a trace: proof that the recipe really ran the user's CC.
      'bin/mycc': { content: `#!/bin/sh\necho "$@" >> ${rig.path('mycc.log')}\nexec gcc "$@"\n`, mode: 0o755 },
      'bin/mycxx': { content: `#!/bin/sh\necho "$@" >> ${rig.path('mycxx.log')}\nexec g++ "$@"\n`, mode: 0o755 },
    });
    const r = await rig.runEnv({ ...NO_COMPILERS, PATH: `${rig.path('bin')}:${process.env.PATH}`, CC: 'mycc', CXX: 'mycxx', CXXFLAGS: '-O1', SAGE_DEBUG: 'no' }, 'hello');
    assert.equal(r.exitCode, 0, r.all);
    const env = envOf(rig);
    assert.equal(env.CC, 'mycc');
    assert.equal(env.CXX, 'mycxx');
    assert.equal(env.CPP, 'mycc -E');
    assert.equal(env.CXXCPP, 'mycxx -E');
    assert.equal(env.CFLAGS, '-O2');
    assert.equal(env.CFLAGS_O3, '-O3');
    assert.equal(env.CXXFLAGS, '-O1');
    assert.equal(env.FCFLAGS, '-O2', 'FCFLAGS follows CFLAGS, not CXXFLAGS');
    const ccLog = rig.read('mycc.log');
    assert.match(ccLog, /-dumpmachine/);
    assert.match(ccLog, /hello\.c/);
    assert.match(ccLog, /-E pp\.h/);
    assert.match(rig.read('mycxx.log'), /-O1 -o hello-cxx hello\.cpp/);
    assert.equal((await execa(rig.path('local/bin/hello-cxx'))).stdout, 'hello from C++');
  });

  it('sdh_preload_lib EXECUTABLE SONAME appends the library the executable loads to LD_PRELOAD (Linux)', async () => {
    const rig = new Rig('buildenv-preload');
    rigs.push(rig);
    rig.write({
      'pkgs/pl/type': 'standard\n',
      'pkgs/pl/package-version.txt': '1.0\n',
      'pkgs/pl/spkg-install.in': [
        'sdh_preload_lib bash libc.so',
        'first="$LD_PRELOAD"',
        'sdh_preload_lib bash libnothing-such.so',
        'mkdir -p "$SAGE_DESTDIR_LOCAL/share/pl"',
        'echo "$first|$LD_PRELOAD" > "$SAGE_DESTDIR_LOCAL/share/pl/preload"',
      ].join('\n'),
    });
    const r = await rig.runEnv({ LD_PRELOAD: '' }, 'pl');
    assert.equal(r.exitCode, 0, r.all);
    const ldd = (await execa('sh', ['-c', 'ldd "$(command -v bash)"'])).stdout;
    const libc = /libc\.so\S* => (\S+)/.exec(ldd)?.[1];
    assert.ok(libc, ldd);
    assert.equal(rig.read('local/share/pl/preload'), `${libc}|${libc}\n`, 'found once; a library bash does not load adds nothing');
  });
});
