// The environment a recipe script sees: Sage's variables, pointing installs at the staging tree.
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Recipe } from '../recipes.js';
import { HELPERS_FILE } from '../util/paths.js';
import { processEnv } from '../util/env.js';
import { pythonInfo } from '../python/interpreter.js';

export interface PkgPaths {
  /** <build_dir>/<pkg>-<version> */
  buildRoot: string;
  /** SAGE_DESTDIR */
  destdir: string;
  /** The tree the package installs into (SAGE_INST_LOCAL). */
  tree: string;
  logFile: string;
}

/** A black-hole proxy (TEST-NET address) so builds cannot reach the network, as in Sage. */
const NO_NETWORK_PROXY = 'http://192.0.2.0:5187/';

export function buildEnv(config: Config, r: Recipe, p: PkgPaths, check: boolean, offline: boolean, makeflags?: string): Record<string, string> {
  const env = processEnv();
  const prefix = config.prefix;
  const prepend = (k: string, v: string, sep = ':') => (env[k] = env[k] ? `${v}${sep}${env[k]}` : v);
  const binDirs = [...new Set([path.join(config.venv, 'bin'), path.join(prefix, 'bin')])];
  prepend('PATH', binDirs.join(':'));
  prepend('CPATH', path.join(prefix, 'include'));
  prepend('LIBRARY_PATH', path.join(prefix, 'lib'));
  prepend('PKG_CONFIG_PATH', path.join(prefix, 'lib', 'pkgconfig'));
  prepend('LDFLAGS', `-L${path.join(prefix, 'lib')} -Wl,-rpath,${path.join(prefix, 'lib')}`, ' ');
  // Sage's sage-build-env: optimisation flags unless the user set their own (kept as ORIGINAL_*),
  // and the -O3 variants recipes opt into with `export CFLAGS=$CFLAGS_O3`. (Sage adds
  // -march=native unless SAGE_FAT_BINARY=yes; sagebuild builds portable binaries.)
  for (const k of ['CFLAGS', 'CXXFLAGS', 'FCFLAGS', 'F77FLAGS']) {
    const original = env[k] ?? '';
    env[`ORIGINAL_${k}`] = original;
    env[`${k}_NON_NATIVE`] = '-O2 -g';
    env[`${k}_O3_NON_NATIVE`] = '-O3 -g';
    env[k] = original || '-O2 -g';
    env[`${k}_O3`] = original || '-O3 -g';
  }
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
    SAGE_SPKG_INST: path.join(p.tree, 'var/lib/sage/installed'),
    SAGE_SPKG_SCRIPTS: path.join(p.tree, 'var/lib/sage/scripts'),
    SAGE_SPKG_WHEELS: path.join(p.tree, 'var/lib/sage/wheels'),
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
  if (r.kind === 'venv' || r.kind === 'pip') {
    // The base interpreter, resolved now: on PATH, `python3` is the venv's own.
    env.SAGEBUILD_PYTHON = pythonInfo(config.python).executable;
  }
  if (r.kind === 'pip' && offline) {
    // --offline: pip packages come from wheels already in the upstream folder (`sagebuild download`).
    env.PIP_NO_INDEX = '1';
    env.PIP_FIND_LINKS = config.upstream;
  }
  delete env.MAKEFLAGS;
  delete env.MFLAGS;
  if (makeflags) {
    // Nested makes share sagebuild's job slots through the jobserver (fd 3).
    env.MAKE = 'make';
    env.MAKEFLAGS = makeflags;
  }
  if (r.kind !== 'pip') {
    for (const k of ['http_proxy', 'https_proxy', 'ftp_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY']) env[k] = NO_NETWORK_PROXY;
    env.PIP_NO_INDEX = '1';
    delete env.no_proxy;
    delete env.NO_PROXY;
  }
  return env;
}
