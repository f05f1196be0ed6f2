// Packages sagebuild provides itself when the recipe tree has none of that name: the Python
// virtual environment that $(PYTHON) names (Sage's python3_venv virtual target).
import path from 'node:path';
import type { Config } from './config.js';
import type { Recipe } from './recipes.js';
import { PACKAGE_ROOT } from './util/paths.js';
import { pythonInfo } from './python/interpreter.js';


export const VENV_PKG = 'python3_venv';

export function builtinRecipes(config: Config): Recipe[] {
  const venv: Recipe = {
    name: VENV_PKG,
    dir: path.join(PACKAGE_ROOT, 'src', 'builtin', VENV_PKG),
    type: 'standard',
    kind: 'venv',
    // Computed on first use so that trees without Python never spawn an interpreter.
    get version(): string {
      try {
        // Short (python3_venv-3.11); which interpreter it is made from is in its fingerprint.
        return pythonInfo(config.python).version;
      } catch {
        return 'unavailable';
      }
    },
    get upstreamVersion(): string {
      return this.version;
    },
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
