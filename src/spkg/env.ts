// The environment a recipe script sees: Sage's variables, pointing installs at the staging tree.
import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Recipe } from '../recipes.js';
import { HELPERS_FILE } from '../util/paths.js';
import { processEnv } from '../util/env.js';
import { toolchain } from '../toolchain.js';
import { installedDir, scriptsDir, wheelhouseOf } from '../state/layout.js';
import { kindBuild } from './kinds.js';

export interface PkgPaths {
  /** <build_dir>/<pkg>-<version> */
  buildRoot: string;
  /** SAGE_DESTDIR */
  destdir: string;
  /** The tree the package installs into (SAGE_INST_LOCAL). */
  tree: string;
  logFile: string;
}

/**
 * Packages whose `SAGE_<X>_PREFIX` and `SAGE_CONFIGURE_<X>` (`--with-x=$SAGE_LOCAL`) Sage's
 * configure sets when it builds them rather than using the system's.
 */
const PREFIX_VARS: [pkg: string, prefixVar: string, configureVar?: string, flag?: string][] = [
  ['gmp', 'SAGE_GMP_PREFIX', 'SAGE_CONFIGURE_GMP', 'gmp'],
  ['mpfr', 'SAGE_MPFR_PREFIX', 'SAGE_CONFIGURE_MPFR', 'mpfr'],
  ['mpc', 'SAGE_MPC_PREFIX', 'SAGE_CONFIGURE_MPC', 'mpc'],
  ['ntl', 'SAGE_NTL_PREFIX', 'SAGE_CONFIGURE_NTL', 'ntl'],
  ['flint', 'SAGE_FLINT_PREFIX', 'SAGE_CONFIGURE_FLINT', 'flint'],
  ['pari', 'SAGE_PARI_PREFIX', 'SAGE_CONFIGURE_PARI', 'pari'],
  ['boost_cropped', 'SAGE_BOOST_PREFIX', 'SAGE_CONFIGURE_BOOST', 'boost'],
  ['glpk', 'SAGE_GLPK_PREFIX'],
  ['freetype', 'SAGE_FREETYPE_PREFIX'],
  ['suitesparse', 'SAGE_SUITESPARSE_PREFIX'],
];

function builtPrefixes(prefix: string, builtHere: (pkg: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [pkg, prefixVar, configureVar, flag] of PREFIX_VARS) {
    const built = builtHere(pkg);
    out[prefixVar] = built ? prefix : '';
    if (built && configureVar) out[configureVar] = `--with-${flag}=${prefix}`;
  }
  if (builtHere('gmp')) out.SAGE_GMP_INCLUDE = path.join(prefix, 'include');
  return out;
}

/**
 * Sage's sage-build-env: CFLAGS from the user, else from SAGE_DEBUG (`-O2 -g`, `-Og -g` for
 * yes, `-O2` for no); CXXFLAGS and FCFLAGS follow CFLAGS, F77FLAGS follows FCFLAGS, unless set.
 * The user's values are kept as ORIGINAL_*. (Sage appends -march=native unless
 * SAGE_FAT_BINARY=yes; sagebuild builds portable binaries.)
 */
export function compilerFlags(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const debug = env.SAGE_DEBUG;
  const [plain, o3] = debug === 'yes' ? ['-Og -g', '-Og -g'] : debug === 'no' ? ['-O2', '-O3'] : ['-O2 -g', '-O3 -g'];
  let from: Record<string, string> = { '': plain, _O3: o3, _NON_NATIVE: plain, _O3_NON_NATIVE: o3 };
  for (const k of ['CFLAGS', 'CXXFLAGS', 'FCFLAGS', 'F77FLAGS']) {
    const original = env[k] ?? '';
    out[`ORIGINAL_${k}`] = original;
    const vals: Record<string, string> = original ? { '': original, _O3: original, _NON_NATIVE: original, _O3_NON_NATIVE: original } : from;
    for (const [suffix, v] of Object.entries(vals)) out[`${k}${suffix}`] = v;
    // CXXFLAGS and FCFLAGS copy CFLAGS; F77FLAGS copies FCFLAGS.
    if (k === 'CFLAGS' || k === 'FCFLAGS') from = vals;
  }
  return out;
}

/** `builtHere(pkg)`: sagebuild builds `pkg` (a recipe that is not a dummy), so SAGE_<PKG>_PREFIX is the prefix. */
export function buildEnv(config: Config, r: Recipe, p: PkgPaths, check: boolean, offline: boolean, makeflags?: string, builtHere: (pkg: string) => boolean = () => false, systemExports: Record<string, string> = {}): Record<string, string> {
  const env = processEnv();
  const prefix = config.prefix;
  const prepend = (k: string, v: string, sep = ':') => (env[k] = env[k] ? `${v}${sep}${env[k]}` : v);
  const binDirs = [...new Set([path.join(config.venv, 'bin'), path.join(prefix, 'bin')])];
  prepend('PATH', binDirs.join(':'));
  prepend('CPATH', path.join(prefix, 'include'));
  prepend('LIBRARY_PATH', path.join(prefix, 'lib'));
  prepend('PKG_CONFIG_PATH', path.join(prefix, 'lib', 'pkgconfig'));
  prepend('LDFLAGS', `-L${path.join(prefix, 'lib')} -Wl,-rpath,${path.join(prefix, 'lib')}`, ' ');
  // What configure exports for packages taken from the system (SAGE_GMP_PREFIX='' ...) wins.
  Object.assign(env, toolchain(env), compilerFlags(env), builtPrefixes(prefix, builtHere), systemExports);
  Object.assign(env, {
    // sage-build-env-config: what Sage's configure decided. Empty, as a plain ./configure leaves them.
    SAGE_CXX_WITHOUT_STD: env.CXX,
    SAGE_FAT_BINARY: env.SAGE_FAT_BINARY ?? '',
    CONFIGURED_SAGE_DEBUG: '',
    CONFIGURED_CFLAGS: '',
    CONFIGURED_CXXFLAGS: '',
    CONFIGURED_FCFLAGS: '',
    CONFIGURED_F77FLAGS: '',
    CFLAGS_MARCH: '',
    SAGE_PIP_INSTALL_FLAGS: env.SAGE_PIP_INSTALL_FLAGS ?? '',
    // Sage's configure defaults: --enable-editable, wheels only on request.
    CONFIGURED_SAGE_EDITABLE: 'yes',
    CONFIGURED_SAGE_WHEELS: '',
    ENABLE_SYSTEM_SITE_PACKAGES: '',
    // sage-build-env: the user's settings over the configured ones.
    SAGE_BUILD_ENV_SOURCED: '1',
    SAGE_DEBUG: env.SAGE_DEBUG ?? '',
    SAGE_EDITABLE: env.SAGE_EDITABLE || 'yes',
    SAGE_WHEELS: env.SAGE_WHEELS ?? '',
  });
  const threads = String(config.numThreads);
  Object.assign(env, {
    UNAME: os.type(),
    SAGE_PKGCONFIG: path.join(prefix, 'lib', 'pkgconfig'),
    SAGE_ROOT: config.root,
    SAGE_SRC: config.sageSrc,
    SAGE_LOCAL: prefix,
    SAGE_VENV: config.venv,
    SAGE_SHARE: path.join(prefix, 'share'),
    SAGE_INST_LOCAL: p.tree,
    SAGE_BUILD_DIR: config.buildDir,
    SAGE_DESTDIR: p.destdir,
    SAGE_DESTDIR_LOCAL: p.destdir + p.tree,
    SAGE_PKG_DIR: p.buildRoot,
    SAGE_SPKG_INST: installedDir(p.tree),
    SAGE_SPKG_SCRIPTS: scriptsDir(p.tree),
    SAGE_SPKG_WHEELS: wheelhouseOf(p.tree),
    SAGE_DISTFILES: config.upstream,
    SAGE_LOGS: path.join(config.logs, 'pkgs'),
    SAGE_LOGFILE: p.logFile,
    SAGE_RECIPE_DIR: r.dir,
    PKG_NAME: `${r.name}-${r.version}`,
    PKG_BASE: r.name,
    PKG_VER: r.version,
    MAKE: `make -j${threads}`,
    SAGE_NUM_THREADS: threads,
    SAGE_NUM_THREADS_PARALLEL: threads,
    SAGE_CHECK: check ? 'yes' : 'no',
    PYTHON: path.join(config.venv, 'bin', 'python3'),
    SAGEBUILD_HELPERS: HELPERS_FILE,
  });
  // sdh_pip_editable_install points editable installs at the recipe's own src/, not the build dir's copy.
  if (r.src) env.SAGEBUILD_RECIPE_SRC = realpathSync(r.src);
  delete env.MAKEFLAGS;
  delete env.MFLAGS;
  if (makeflags) {
    // Nested makes share sagebuild's job slots through the jobserver (fd 3).
    env.MAKE = 'make';
    env.MAKEFLAGS = makeflags;
  }
  // The network, the base interpreter: as the package's kind has them.
  kindBuild(r).env(env, config, offline);
  return env;
}
