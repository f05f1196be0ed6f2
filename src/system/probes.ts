// Handlers for the autoconf macros that look at the system: headers, libraries, test
// programs, pkg-config, programs in PATH, versions, and the compiler facts gcc's check reads.
// Each records a short fact (success) or failure, which become a decision's evidence.

import path from 'node:path';
import { findProgram, findPrograms, words } from './checks.js';
import type { CompileFlags, CompileMode, Lang } from './checks.js';
import type { Handler, PackageEval } from './evaluator.js';
import { ConfigureError } from './evaluator.js';
import type { M4Arg } from './m4.js';
import { BreakSignal } from './shell.js';
import { compareVersionOp, firstModule } from './version.js';

const h = new Map<string, Handler>();

/** What AC_INCLUDES_DEFAULT brings in (every header these checks need exists on POSIX systems). */
const DEFAULT_INCLUDES = [
  'stddef.h', 'stdio.h', 'stdlib.h', 'string.h', 'inttypes.h', 'stdint.h', 'strings.h', 'sys/types.h', 'sys/stat.h', 'unistd.h',
].map((f) => `#include <${f}>`).join('\n');

function flags(ev: PackageEval, extraLibs = '', extra: Partial<CompileFlags> = {}): CompileFlags {
  const v = (k: string): string => ev.vars.get(k) ?? '';
  return {
    cflags: `${v({ C: 'CFLAGS', 'C++': 'CXXFLAGS', Fortran: 'FCFLAGS' }[ev.lang])} ${extra.cflags ?? ''}`,
    cppflags: `${v('CPPFLAGS')} ${extra.cppflags ?? ''}`,
    ldflags: `${v('LDFLAGS')} ${extra.ldflags ?? ''}`,
    libs: `${extraLibs} ${v('LIBS')}`,
  };
}

/** Compile/link/run `source` in the current language with the configured compiler. */
export async function tryProgram(ev: PackageEval, source: string, mode: CompileMode, extraLibs = '', extra: Partial<CompileFlags> = {}): Promise<boolean> {
  const compiler = ev.vars.get({ C: 'CC', 'C++': 'CXX', Fortran: 'FC' }[ev.lang]);
  const r = await ev.world.prober.compile(ev.lang, source, flags(ev, extraLibs, extra), mode, compiler);
  return r.status === 0;
}

function cacheName(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, '_');
}

// ---- headers ----------------------------------------------------------------------------

async function checkHeader(ev: PackageEval, header: string, includes: M4Arg | undefined): Promise<boolean> {
  const prologue = ev.hasCode(includes) ? await ev.program(includes) : DEFAULT_INCLUDES;
  const ok = await tryProgram(ev, `${ev.confdefText()}${prologue}\n#include <${header}>\nint main (void) { return 0; }\n`, 'compile');
  ev.vars.set(`ac_cv_header_${cacheName(header)}`, ok ? 'yes' : 'no');
  if (ok) ev.fact(header);
  else ev.fail(`header ${header} not found`);
  return ok;
}

h.set('AC_CHECK_HEADER', async (ev, a) => {
  const ok = await checkHeader(ev, await ev.word(a[0]), a[3]);
  return ok ? ev.code(a[1]) : ev.code(a[2]);
});

h.set('AC_CHECK_HEADERS', async (ev, a) => {
  let status = 0;
  try {
    for (const header of words(await ev.word(a[0]))) {
      if (await checkHeader(ev, header, a[3])) {
        ev.confdefs.push(`#define HAVE_${cacheName(header).toUpperCase()} 1`);
        status = await ev.code(a[1]);
      } else status = await ev.code(a[2]);
    }
  } catch (err) {
    // The actions run inside autoconf's `for` loop, so `break` ends the list.
    if (!(err instanceof BreakSignal)) throw err;
  }
  return status;
});

// ---- libraries and functions --------------------------------------------------------------

function callProgram(ev: PackageEval, fn: string): string {
  const decl = ev.lang === 'C++' ? `extern "C" char ${fn} ();` : `char ${fn} (void);`;
  return `${ev.confdefText()}${decl}\nint main (void) { return ${fn} (); }\n`;
}

h.set('AC_SEARCH_LIBS', async (ev, a) => {
  const fn = await ev.word(a[0]);
  const other = await ev.word(a[4]);
  for (const lib of ['', ...words(await ev.word(a[1]))]) {
    const extra = lib ? `-l${lib} ${other}` : '';
    if (await tryProgram(ev, callProgram(ev, fn), 'link', extra)) {
      ev.vars.set(`ac_cv_search_${fn}`, lib ? `-l${lib}` : 'none required');
      if (lib) ev.vars.set('LIBS', `-l${lib} ${ev.vars.get('LIBS') ?? ''}`.trim());
      ev.fact(lib ? `-l${lib} (${fn})` : `${fn} (no library needed)`);
      return ev.code(a[2]);
    }
  }
  ev.vars.set(`ac_cv_search_${fn}`, 'no');
  ev.fail(`${fn} not found in ${(await ev.word(a[1])) || 'the default libraries'}`);
  return ev.code(a[3]);
});

h.set('AC_CHECK_LIB', async (ev, a) => {
  const lib = await ev.word(a[0]);
  const fn = await ev.word(a[1]);
  const ok = await tryProgram(ev, callProgram(ev, fn), 'link', `-l${lib} ${await ev.word(a[4])}`);
  ev.vars.set(`ac_cv_lib_${cacheName(lib)}_${cacheName(fn)}`, ok ? 'yes' : 'no');
  if (!ok) {
    ev.fail(`${fn} not in -l${lib}`);
    return ev.code(a[3]);
  }
  ev.fact(`-l${lib} (${fn})`);
  if (ev.hasCode(a[2])) return ev.code(a[2]);
  ev.vars.set('LIBS', `-l${lib} ${ev.vars.get('LIBS') ?? ''}`.trim());
  ev.confdefs.push(`#define HAVE_LIB${cacheName(lib).toUpperCase()} 1`);
  return 0;
});

h.set('AC_CHECK_FUNC', async (ev, a) => {
  const fn = await ev.word(a[0]);
  const ok = await tryProgram(ev, callProgram(ev, fn), 'link');
  ev.vars.set(`ac_cv_func_${fn}`, ok ? 'yes' : 'no');
  if (ok) ev.fact(`${fn}()`);
  else ev.fail(`function ${fn} not found`);
  return ok ? ev.code(a[1]) : ev.code(a[2]);
});

// ---- test programs --------------------------------------------------------------------------

function programCheck(mode: CompileMode): Handler {
  return async (ev, a) => {
    const what = ev.checking ?? `${mode} test`;
    const ok = await tryProgram(ev, await ev.program(a[0]), mode);
    if (ok) ev.fact(`${mode} test passed: ${what}`);
    else ev.fail(`${mode} test failed: ${what}`);
    return ok ? ev.code(a[1]) : ev.code(a[2]);
  };
}
h.set('AC_COMPILE_IFELSE', programCheck('compile'));
h.set('AC_LINK_IFELSE', programCheck('link'));
h.set('AC_RUN_IFELSE', programCheck('run'));
h.set('AC_TRY_COMPILE', async (ev, a) => {
  const src = `${ev.confdefText()}${await ev.program(a[0])}\nint main (void) {\n${await ev.program(a[1])}\n;\nreturn 0;\n}\n`;
  return (await tryProgram(ev, src, 'compile')) ? ev.code(a[2]) : ev.code(a[3]);
});

// ---- pkg-config ------------------------------------------------------------------------------

export async function pkgExists(ev: PackageEval, spec: string): Promise<{ ok: boolean; error: string }> {
  const r = await ev.world.prober.pkgConfig(['--exists', '--print-errors', spec], ev.vars);
  return { ok: r.status === 0, error: r.stderr.trim().split('\n')[0] ?? '' };
}

async function pkgVersion(ev: PackageEval, spec: string): Promise<string> {
  const mod = firstModule(spec);
  if (!mod) return '';
  const r = await ev.world.prober.pkgConfig(['--modversion', mod], ev.vars);
  return r.status === 0 ? r.stdout.trim() : '';
}

h.set('PKG_CHECK_MODULES', async (ev, a) => {
  const prefix = ev.text(a[0]).trim();
  const spec = await ev.word(a[1]);
  // pkg.m4 lets the user override the query with FOO_CFLAGS and FOO_LIBS.
  if (ev.vars.has(`${prefix}_CFLAGS`) && ev.vars.has(`${prefix}_LIBS`)) {
    ev.fact(`${spec} (given by ${prefix}_CFLAGS/${prefix}_LIBS)`);
    return ev.code(a[2]);
  }
  const { ok, error } = await pkgExists(ev, spec);
  if (!ok) {
    ev.fail(`pkg-config '${spec}': ${error || 'not found'}`);
    if (!ev.hasCode(a[3])) throw new ConfigureError(`PKG_CHECK_MODULES ${spec} failed and has no fallback (${ev.where()})`);
    return ev.code(a[3]);
  }
  const pc = ev.world.prober;
  const [cflags, libs, version] = await Promise.all([
    pc.pkgConfig(['--cflags', spec], ev.vars),
    pc.pkgConfig(['--libs', spec], ev.vars),
    pkgVersion(ev, spec),
  ]);
  ev.vars.set(`${prefix}_CFLAGS`, cflags.stdout.trim());
  ev.vars.set(`${prefix}_LIBS`, libs.stdout.trim());
  ev.fact(`${firstModule(spec)} ${version} (pkg-config '${spec}')`.replace('  ', ' '));
  return ev.code(a[2]);
});

h.set('PKG_CHECK_EXISTS', async (ev, a) => {
  const spec = await ev.word(a[0]);
  const { ok, error } = await pkgExists(ev, spec);
  if (ok) ev.fact(`${spec} (pkg-config)`);
  else ev.fail(`pkg-config '${spec}': ${error || 'not found'}`);
  return ok ? ev.code(a[1]) : ev.code(a[2]);
});

h.set('PKG_CHECK_VAR', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  const r = await ev.world.prober.pkgConfig([`--variable=${await ev.word(a[2])}`, await ev.word(a[1])], ev.vars);
  const value = r.status === 0 ? r.stdout.trim() : '';
  ev.vars.set(name, value);
  return value ? ev.code(a[3]) : ev.code(a[4]);
});

h.set('PKG_PROG_PKG_CONFIG', async () => 0);

// ---- programs ---------------------------------------------------------------------------------

async function searchPath(ev: PackageEval, arg: M4Arg | undefined): Promise<string> {
  return (await ev.word(arg)) || (ev.vars.get('PATH') ?? '');
}

/** AC_PATH_PROG(S): a preset absolute $VAR wins, else the first program found in PATH, else the default. */
async function pathProgs(ev: PackageEval, a: M4Arg[]): Promise<number> {
  const name = ev.text(a[0]).trim();
  const progs = words(await ev.word(a[1]));
  const preset = ev.vars.get(name) ?? '';
  let found: string | null = preset.startsWith('/') ? preset : null;
  const cached = ev.vars.get(`ac_cv_path_${name}`);
  if (!found && cached) found = cached;
  const where = await searchPath(ev, a[3]);
  for (const p of progs) {
    if (found) break;
    found = await findProgram(p, where);
  }
  const value = found ?? (await ev.word(a[2]));
  ev.vars.set(name, value);
  ev.vars.set(`ac_cv_path_${name}`, value);
  if (found) ev.fact(`${path.basename(found)} at ${found}`);
  else ev.fail(`program ${progs.join(' or ')} not found in PATH`);
  return 0;
}
h.set('AC_PATH_PROG', pathProgs);
h.set('AC_PATH_PROGS', pathProgs);
h.set('AC_PATH_TOOL', pathProgs);

h.set('AC_CHECK_PROG', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  if (ev.vars.get(name)) return 0; // "Let the user override the test."
  const prog = words(await ev.word(a[1]))[0] ?? '';
  const found = await findProgram(prog, await searchPath(ev, a[4]));
  ev.vars.set(name, found ? await ev.word(a[2]) : await ev.word(a[3]));
  if (found) ev.fact(`${prog} at ${found}`);
  else ev.fail(`program ${prog} not found in PATH`);
  return 0;
});

h.set('AC_CHECK_PROGS', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  if (ev.vars.get(name)) return 0;
  const progs = words(await ev.word(a[1]));
  const where = await searchPath(ev, a[3]);
  for (const p of progs) {
    const found = await findProgram(p, where);
    if (found) {
      ev.vars.set(name, p);
      ev.fact(`${p} at ${found}`);
      return 0;
    }
  }
  ev.vars.set(name, await ev.word(a[2]));
  ev.fail(`program ${progs.join(' or ')} not found in PATH`);
  return 0;
});

/** Each candidate in PATH runs the feature test until it sets ac_path_VAR_found (autoconf's loop). */
h.set('AC_PATH_PROGS_FEATURE_CHECK', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  const preset = ev.vars.get(name);
  if (preset) {
    ev.vars.set(`ac_cv_path_${name}`, preset);
    return 0;
  }
  const progs = words(await ev.word(a[1]));
  const where = await searchPath(ev, a[4]);
  ev.vars.set(`ac_path_${name}_found`, 'false');
  let rejected: string | null = null;
  search: for (const prog of progs) {
    for (const candidate of await findPrograms(prog, where)) {
      ev.vars.set(`ac_path_${name}`, candidate);
      ev.lastVersion = null;
      ev.lastFailure = null;
      await ev.code(a[2]);
      if (ev.lastFailure) rejected = `${candidate}: ${String(ev.lastFailure).replace(/ \([^()]*:\d+\)$/, '')}`;
      const result = ev.vars.get(`ac_cv_path_${name}`);
      if (result && result === candidate) ev.fact(`${prog}${ev.lastVersion ? ` ${ev.lastVersion}` : ''} at ${candidate}`);
      if (/^(:|true)$/.test(ev.vars.get(`ac_path_${name}_found`) ?? '')) break search;
    }
  }
  if (!ev.vars.get(`ac_cv_path_${name}`)) {
    ev.fail(`no suitable ${progs.join(' or ')} in PATH${ev.checking ? ` (${ev.checking})` : ''}${rejected ? `; ${rejected}` : ''}`);
    return ev.code(a[3]);
  }
  return 0;
});

h.set('AX_COMPARE_VERSION', async (ev, a) => {
  const [x, op, y] = [await ev.word(a[0]), ev.text(a[1]).trim(), await ev.word(a[2])];
  const ok = compareVersionOp(x, op, y);
  ev.vars.set('ax_compare_version', ok ? 'true' : 'false');
  if (ok) ev.lastVersion = x;
  else ev.fail(`version '${x}' is not ${op} ${y}`);
  return ok ? ev.code(a[3]) : ev.code(a[4]);
});

// ---- compiler facts (gcc's spkg-configure.m4) ----------------------------------------------------

async function progCompiler(ev: PackageEval, lang: Lang): Promise<number> {
  const gnu = await ev.world.isGnu(lang);
  ev.vars.set(lang === 'C' ? 'GCC' : 'GXX', gnu ? 'yes' : '');
  return 0;
}
h.set('AC_PROG_CC', (ev) => progCompiler(ev, 'C'));
h.set('AC_PROG_CXX', (ev) => progCompiler(ev, 'C++'));
for (const noop of ['AC_PROG_CPP', 'AC_PROG_OBJC', 'AC_PROG_OBJCXX', 'AC_CANONICAL_HOST', 'AC_CANONICAL_BUILD', 'AC_PROG_SED', 'AC_PROG_GREP']) {
  h.set(noop, async () => 0);
}

h.set('AX_COMPILER_VENDOR', async (ev) => {
  const test = (cond: string): Promise<boolean> =>
    tryProgram(ev, `#if !(${cond})\n#error no\n#endif\nint main (void) { return 0; }\n`, 'compile');
  const vendor = (await test('defined(__clang__)'))
    ? 'clang'
    : (await test('defined(__INTEL_COMPILER) || defined(__ICC)'))
      ? 'intel'
      : (await test('defined(__GNUC__)'))
        ? 'gnu'
        : 'unknown';
  ev.vars.set(`ax_cv_${ev.lang === 'C' ? 'c' : 'cxx'}_compiler_vendor`, vendor);
  return 0;
});

const CXX11_PROGRAM = `#include <memory>
#include <vector>
#if __cplusplus < 201103L
#error not C++11
#endif
template <typename T> struct check { static_assert(sizeof(int) <= sizeof(T), "not big enough"); };
int main () { auto f = [](int x) { return x + 1; }; std::vector<int> v{1, 2}; std::unique_ptr<int> p(nullptr);
  for (auto& i : v) i = f(i); return p ? 1 : 0; }
`;

/**
 * AX_CXX_COMPILE_STDCXX(VERSION, [ext|noext], [mandatory|optional]) (m4/ax_cxx_compile_stdcxx.m4):
 * this version never tries the compiler's default; it appends the first switch that works
 * (-std=gnu++11 first) to CXX, so Sage's CXX becomes `g++ -std=gnu++11`.
 */
async function cxxStd(ev: PackageEval, version: string, ext: string, mandatory: boolean): Promise<number> {
  const alternatives = ({ '11': ['11', '0x'], '14': ['14', '1y'], '17': ['17', '1z'] } as Record<string, string[]>)[version];
  if (!alternatives) throw new ConfigureError(`AX_CXX_COMPILE_STDCXX: unsupported version ${version} (${ev.where()})`);
  const switches = [
    ...(ext === 'noext' ? [] : alternatives.map((alt) => `-std=gnu++${alt}`)),
    ...(ext === 'ext' ? [] : alternatives.flatMap((alt) => [`-std=c++${alt}`, `+std=c++${alt}`, `-h std=c++${alt}`])),
  ];
  ev.langs.push('C++');
  let found: string | null = null;
  try {
    for (const sw of switches) {
      if (await tryProgram(ev, CXX11_PROGRAM, 'compile', '', { cflags: sw })) {
        found = sw;
        break;
      }
    }
  } finally {
    ev.langs.pop();
  }
  if (found === null) {
    if (mandatory) throw new ConfigureError(`A compiler with support for C++${version} language features is required (${ev.where()})`);
    ev.vars.set(`HAVE_CXX${version}`, '0');
    ev.fail(`the C++ compiler does not support C++${version}`);
    return 0;
  }
  ev.vars.set('CXX', `${ev.vars.get('CXX') ?? ''} ${found}`);
  ev.vars.set(`HAVE_CXX${version}`, '1');
  ev.fact(`C++${version} with ${found}`);
  return 0;
}
h.set('AX_CXX_COMPILE_STDCXX_11', async (ev, a) => cxxStd(ev, '11', ev.text(a[0]).trim(), ev.text(a[1]).trim() !== 'optional'));
h.set('AX_CXX_COMPILE_STDCXX', async (ev, a) => cxxStd(ev, ev.text(a[0]).trim(), ev.text(a[1]).trim(), ev.text(a[2]).trim() !== 'optional'));

async function compilerVersion(ev: PackageEval, varName: string, compilerVar: string, gnuVar: string): Promise<number> {
  if (ev.vars.get(gnuVar) !== 'yes') {
    ev.vars.set(varName, '');
    return 0;
  }
  const r = await ev.world.prober.bash(`$${compilerVar} -dumpfullversion -dumpversion`, ev.cwd, ev.vars);
  ev.vars.set(varName, r.status === 0 ? r.stdout.trim() : '');
  if (r.status === 0) ev.fact(`${words(ev.vars.get(compilerVar) ?? '')[0] ?? compilerVar} ${r.stdout.trim()}`);
  return 0;
}
h.set('AX_GCC_VERSION', (ev) => compilerVersion(ev, 'GCC_VERSION', 'CC', 'GCC'));
h.set('AX_GXX_VERSION', (ev) => compilerVersion(ev, 'GXX_VERSION', 'CXX', 'GXX'));

h.set('AX_CHECK_COMPILE_FLAG', async (ev, a) => {
  const flag = await ev.word(a[0]);
  const ok = await tryProgram(ev, 'int main (void) { return 0; }\n', 'compile', '', { cflags: `${flag} ${await ev.word(a[3])}` });
  return ok ? ev.code(a[1]) : ev.code(a[2]);
});

h.set('AX_OPENMP', async (ev, a) => {
  const program = '#include <omp.h>\n#ifndef _OPENMP\n#error no OpenMP\n#endif\nint main (void) { omp_set_num_threads (2); return 0; }\n';
  for (const flag of ['', '-fopenmp', '-openmp', '-qopenmp', '-xopenmp', '-mp']) {
    if (await tryProgram(ev, program, 'link', '', { cflags: flag })) {
      ev.vars.set(ev.lang === 'C' ? 'OPENMP_CFLAGS' : 'OPENMP_CXXFLAGS', flag);
      return ev.code(a[0]);
    }
  }
  return ev.code(a[1]);
});

h.set('AX_ABSOLUTE_HEADER', async (ev, a) => {
  const header = await ev.word(a[0]);
  const src = `#include <${header}>\n`;
  const cc = ev.vars.get(ev.lang === 'C' ? 'CC' : 'CXX') ?? 'cc';
  const r = await ev.world.prober.bash(`${cc} -E $CPPFLAGS -x ${ev.lang === 'C' ? 'c' : 'c++'} - <<'__SAGEBUILD_EOF'\n${src}__SAGEBUILD_EOF`, ev.cwd, ev.vars);
  const re = new RegExp(`^#\\s*\\d+\\s+"([^"]*/${header.replace(/[.+]/g, '\\$&')})"`, 'm');
  const found = re.exec(r.stdout)?.[1] ?? '';
  ev.vars.set(`gl_cv_absolute_${cacheName(header)}`, found);
  return 0;
});

export const probeHandlers = h;
