// Packages sagebuild provides itself when the recipe tree has none of that name: the Python
// virtual environment that $(PYTHON) names (Sage's python3_venv virtual target).
import path from 'node:path';
import type { Recipe } from './recipes.js';
import { PACKAGE_ROOT } from './util/paths.js';
import type { PythonInfo } from './python/interpreter.js';

export const VENV_PKG = 'python3_venv';
/** The names of the recipes builtinRecipes makes. */
export const BUILTIN_NAMES = [VENV_PKG];

/**
 * `python`: the configured interpreter, as analysis asked it (or why it could not): the venv's
 * version is its X.Y, plain data from here on.
 */
export function builtinRecipes(python: PythonInfo | Error): Recipe[] {
  // Short (python3_venv-3.11); which interpreter it is made from is in its fingerprint.
  const version = python instanceof Error ? 'unavailable' : python.version;
  const venv: Recipe = {
    name: VENV_PKG,
    dir: path.join(PACKAGE_ROOT, 'src', 'builtin', VENV_PKG),
    type: 'standard',
    kind: 'venv',
    version,
    upstreamVersion: version,
    deps: null,
    depsOrderOnly: null,
    depsCheck: null,
    depsOptional: null,
    checksums: null,
    problems: [],
    configureM4: null,
    scripts: { install: { path: path.join(PACKAGE_ROOT, 'src', 'builtin', VENV_PKG, 'spkg-install.in'), isBody: true } },
    src: null,
    patches: [],
    requirements: null,
    python: true,
    files: [path.join(PACKAGE_ROOT, 'src', 'builtin', VENV_PKG, 'spkg-install.in')],
    builtin: true,
  };
  return [venv];
}
