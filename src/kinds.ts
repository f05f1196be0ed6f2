// Package kinds: Sage's package.py `source` (normal, wheel, pip, script, none) and sagebuild's
// venv. What analysis, planning and the installed state know of each kind lives here, one object
// per kind; how each builds (sources, environment, download) is spkg/kinds.ts's. A new kind is one
// entry in each table: both are Record<PkgKind, ...>, so the compiler asks for them.
// Imports nothing: recipes.ts, deps.ts and state/ read it.

export type PkgKind = 'normal' | 'wheel' | 'pip' | 'script' | 'none' | 'venv';

/** An install body sagebuild supplies when the recipe has none (`path` names it in logs). */
export interface GeneratedScript {
  path: string;
  body: string;
}

export interface KindFacts {
  /**
   * The checksums.ini tarball is its sources: unpacked into src/, or (a wheel) kept as is.
   * null: the recipe's own src/ (if any) is.
   */
  tarball: 'unpacked' | 'wheel' | null;
  /** false for Sage's dummy packages: building one only removes an old install (plan: `dummy`). */
  installs: boolean;
  /** A Python package, whatever else the recipe says (trees.txt aside): it installs into SAGE_VENV. */
  python: boolean;
  /** Sage sets $(SAGE_CHECK_<pkg>) for it (its NORMAL_PACKAGES and SCRIPT_PACKAGES...; never pip packages or the venv). */
  sageCheck: boolean;
  /** Order-only dependencies when the recipe has no dependencies_order_only (sage_spkg_collect.m4). */
  defaultOrderOnly: readonly string[];
  /**
   * Sage keeps its installation record (the stamp, generated uninstall hooks). Sage keeps none
   * of pip packages: theirs is sagebuild's own, where Sage's tools do not see it (state/manifest.ts).
   */
  sageRecord: boolean;
  /** The install body when the recipe has no spkg-install (Sage generates these). */
  defaultInstall(r: { pythonSdist?: boolean }): GeneratedScript | undefined;
}

const none = () => undefined;

export const KINDS: Record<PkgKind, KindFacts> = {
  normal: {
    tarball: 'unpacked',
    installs: true,
    python: false,
    sageCheck: true,
    defaultOrderOnly: [],
    sageRecord: true,
    // No listed wheel fits the interpreter: its sdist is built into a wheel instead.
    defaultInstall: (r) => (r.pythonSdist ? { path: '(sagebuild: source tarball of a wheel package)', body: 'cd src && sdh_pip_install .' } : undefined),
  },
  wheel: {
    tarball: 'wheel',
    installs: true,
    python: true,
    sageCheck: true,
    defaultOrderOnly: [],
    sageRecord: true,
    defaultInstall: () => ({ path: '(sagebuild: wheel package)', body: 'sdh_store_and_pip_install_wheel .' }),
  },
  pip: {
    tarball: null,
    installs: true,
    python: true,
    sageCheck: false,
    defaultOrderOnly: ['pip'],
    sageRecord: false,
    // The requirements come from pip's package index.
    defaultInstall: () => ({ path: '(sagebuild: pip package)', body: 'sdh_pip_install_requirements' }),
  },
  script: { tarball: null, installs: true, python: false, sageCheck: true, defaultOrderOnly: [], sageRecord: true, defaultInstall: none },
  none: { tarball: null, installs: false, python: false, sageCheck: true, defaultOrderOnly: [], sageRecord: true, defaultInstall: none },
  // sagebuild's own (builtins.ts): its spkg-install.in makes the venv.
  venv: { tarball: null, installs: true, python: true, sageCheck: false, defaultOrderOnly: [], sageRecord: true, defaultInstall: none },
};

export function kindOf(r: { kind: PkgKind }): KindFacts {
  return KINDS[r.kind];
}

/** The facts of a kind recorded in a manifest; undefined for a name this version does not know. */
export function recordedKind(name: unknown): KindFacts | undefined {
  return typeof name === 'string' && Object.hasOwn(KINDS, name) ? KINDS[name as PkgKind] : undefined;
}

/** The kind of a recipe read from the tree, in the order Sage's package.py `source` decides it. */
export function sageKind(has: { requirements: boolean; tarball: string | null; installScript: boolean }): PkgKind {
  if (has.requirements) return 'pip';
  if (has.tarball !== null) return has.tarball.endsWith('.whl') ? 'wheel' : 'normal';
  return has.installScript ? 'script' : 'none';
}
