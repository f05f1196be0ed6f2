// Facts a Sage checkout keeps beside its recipes (`build/pkgs/`): the make variables its own
// `build/make/Makefile.in` defines (PYTHON_TOOLCHAIN, SAGERUNTIME, BLAS, MP_LIBRARY...), and the
// folder Sage's make runs in, where relative file prerequisites resolve. A tree without them
// (sagebuild's own layout) gets the built-in defaults and resolves relative to SAGE_ROOT.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface SageTreeFacts {
  /** `build/make` when the recipe tree is a Sage checkout's `build/pkgs`, else null. */
  makeDir: string | null;
  /** The Makefile.in the variables were read from, for messages. */
  makefile: string | null;
  variables: Record<string, string[]>;
  /**
   * Packages Sage's `bootstrap` gives a generated version_requirements.txt (from pyproject.toml),
   * which makes them install into SAGE_VENV; an unbootstrapped checkout lacks those files.
   */
  bootstrapPython: Set<string>;
}

/** What Sage's configure.ac substitutes into Makefile.in, for the values a build needs (configure.ac: SAGE_TOOLCHAIN=gcc). */
const CONFIGURE_CHOICES: Record<string, string> = {
  SAGE_TOOLCHAIN: 'gcc',
  // Made by make rules for system gsl/openblas facades, which sagebuild does not generate.
  SAGE_SYSTEM_FACADE_PC_FILES: '',
};

/** Names the dependency resolver computes itself (trees, versions, stamps, check settings). */
const COMPUTED = /^(SAGE_|SPKG_|OPTIONAL_|INSTALLED_|UNINSTALLED_|INST$|vers_|inst_|deps_|trees_|MAKE)/;

export function readSageTree(pkgsDir: string): SageTreeFacts {
  const makeDir = path.resolve(pkgsDir, '..', 'make');
  const makefile = path.join(makeDir, 'Makefile.in');
  const bootstrapPython = readBootstrapPython(path.resolve(pkgsDir, '..', '..', 'bootstrap'));
  let text: string;
  try {
    text = readFileSync(makefile, 'utf8');
  } catch {
    return { makeDir: null, makefile: null, variables: {}, bootstrapPython };
  }
  return { makeDir, makefile, variables: parseMakeVariables(text), bootstrapPython };
}

/** The names of Sage's `for pkgname in ...; do` loop that writes version_requirements.txt files. */
export function readBootstrapPython(file: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Set();
  }
  const m = /for\s+pkgname\s+in\s+([a-z0-9_ \t]+);\s*do\s*\n\s*#[^\n]*version_requirements\.txt/.exec(text);
  return new Set(m ? m[1]!.split(/\s+/).filter(Boolean) : []);
}

/**
 * Simple assignments (`NAME = value`, `:=`, `?=`; `+=` appends) of a Makefile, with continuation
 * lines joined and `@SUBST@` placeholders filled from configure's choices. A value with a
 * placeholder configure decides otherwise is left out, so the built-in default applies.
 */
export function parseMakeVariables(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  let inDefine = 0;
  for (const raw of lines) {
    if (raw.startsWith('\t')) continue; // a recipe line
    const line = raw.replace(/(^|[^\\])#.*$/, '$1').trim();
    if (/^define\b/.test(line)) inDefine++;
    else if (/^endef\b/.test(line)) inDefine = Math.max(0, inDefine - 1);
    if (inDefine) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(:{0,2}=|\?=|\+=)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, name, op, rawValue] = m as unknown as [string, string, string, string];
    if (COMPUTED.test(name)) continue;
    let unresolved = false;
    const value = rawValue.replace(/@([A-Za-z_][A-Za-z0-9_]*)@/g, (_s, v: string) => {
      if (v in CONFIGURE_CHOICES) return CONFIGURE_CHOICES[v]!;
      unresolved = true;
      return '';
    });
    if (unresolved) continue;
    const words = value.split(/\s+/).filter(Boolean);
    if (op === '+=') out[name] = [...(out[name] ?? []), ...words];
    else if (op === '?=') out[name] ??= words;
    else out[name] = words;
  }
  return out;
}
