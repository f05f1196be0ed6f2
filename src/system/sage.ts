// Sage's own configure macros (m4/sage_spkg_configure.m4, m4/sage_python_package_check.m4)
// and AC_REQUIRE, which is how one package's check waits for another's result.

import type { Handler, PackageEval } from './evaluator.js';
import { Unevaluable } from './shell.js';

const h = new Map<string, Handler>();

/** Copy another package's configure variables into this package's shell, as the shared configure shell has them. */
async function importPackage(ev: PackageEval, target: string, note = true): Promise<string> {
  const r = await ev.world.requirePackage(ev.name, target);
  ev.vars.quietSet(`sage_spkg_install_${target}`, r.install);
  ev.vars.quietSet(`sage_require_${target}`, r.require);
  ev.vars.quietSet(`sage_use_system_${target}`, r.useSystem);
  if (note && r.install === 'yes') ev.lastFailure = `${target} will be built (${ev.where()})`;
  return r.install;
}

/**
 * autoconf expands an AC_REQUIRE'd macro before the outermost macro that requires it, so every
 * package a SAGE_SPKG_CONFIGURE call requires (AC_REQUIRE, SAGE_SPKG_DEPCHECK, also inside
 * macros it calls) is configured before any of its code runs: distlib's REQUIRED-CHECK reads
 * $sage_spkg_install_virtualenv, which only its CHECK AC_REQUIREs.
 */
export async function importRequired(ev: PackageEval, raw: string): Promise<void> {
  for (const target of requiredPackages(ev, raw, new Set())) {
    if (target !== ev.name) await importPackage(ev, target, false);
  }
}

function requiredPackages(ev: PackageEval, raw: string, seen: Set<string>): Set<string> {
  const found = new Set<string>();
  for (const m of raw.matchAll(/AC_REQUIRE\(\s*\[?\s*SAGE_SPKG_CONFIGURE_([A-Z0-9_]+)/g)) {
    const target = ev.world.packageByUpper.get(m[1]!);
    if (target) found.add(target);
  }
  for (const m of raw.matchAll(/SAGE_SPKG_DEPCHECK\(\s*\[([^\]]*)\]/g)) {
    for (const dep of m[1]!.split(/\s+/).filter(Boolean)) if (ev.world.packageByUpper.has(dep.toUpperCase())) found.add(dep);
  }
  for (const [name, macro] of ev.world.userMacros) {
    if (seen.has(name) || !new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`).test(raw)) continue;
    seen.add(name);
    for (const t of requiredPackages(ev, macro.body, seen)) found.add(t);
  }
  return found;
}

h.set('AC_REQUIRE', async (ev, a) => {
  const macro = ev.text(a[0]).trim();
  const m = /^SAGE_SPKG_CONFIGURE_(\w+)$/.exec(macro);
  if (m) {
    const target = ev.world.packageByUpper.get(m[1]!);
    if (!target) throw new Unevaluable(`AC_REQUIRE([${macro}]): no such package (${ev.where()})`);
    if (target !== ev.name) await importPackage(ev, target);
    return 0;
  }
  if (!ev.firstRequire(macro)) return 0;
  if (ev.handlers.has(macro) || ev.world.userMacros.has(macro)) {
    return ev.runMacro({ kind: 'macro', name: macro, args: [], line: ev.line, raw: macro });
  }
  throw new Unevaluable(`AC_REQUIRE([${macro}]) (${ev.where()})`);
});

/** SAGE_SPKG_DEPCHECK([a b], [check]): build if any of a, b builds; else run the check. */
h.set('SAGE_SPKG_DEPCHECK', async (ev, a) => {
  const deps = ev.text(a[0]).split(/\s+/).filter(Boolean);
  const building: string[] = [];
  for (const dep of deps) {
    if (!ev.world.packageByUpper.has(dep.toUpperCase())) throw new Unevaluable(`SAGE_SPKG_DEPCHECK on unknown package ${dep} (${ev.where()})`);
    if ((await importPackage(ev, dep)) === 'yes') building.push(dep);
  }
  if (building.length > 0) {
    ev.lastFailure = `SAGE_SPKG_DEPCHECK: ${building.join(', ')} will be built (${ev.where()})`;
    ev.vars.set(`sage_spkg_install_${ev.name}`, 'yes');
    return 0;
  }
  ev.fact(`dependencies from the system: ${deps.join(', ')}`);
  return ev.code(a[1]);
});

/**
 * Python packages come from the system only with --enable-system-site-packages, which sagebuild
 * never uses. Sage sets sage_spkg_install_$1; symengine_py passes [symengine], so Sage would set
 * the C++ library's variable and keep symengine_py. We mark the package being configured.
 */
h.set('SAGE_PYTHON_PACKAGE_CHECK', async (ev) => {
  const pkg = ev.name;
  if (ev.vars.get('enable_system_site_packages') === 'yes') {
    throw new Unevaluable(`SAGE_PYTHON_PACKAGE_CHECK with --enable-system-site-packages (${ev.where()})`);
  }
  ev.lastFailure = `SAGE_PYTHON_PACKAGE_CHECK: Python packages come from the system only with --enable-system-site-packages, which sagebuild does not use (${ev.where()})`;
  ev.vars.set(`sage_spkg_install_${pkg}`, 'yes');
  if (ev.vars.get(`sage_use_system_${pkg}`) === 'yes') ev.vars.set(`sage_use_system_${pkg}`, 'no');
  return 0;
});

/** Poison PYTHONUSERBASE around the body, as sage-env does at run time. */
h.set('WITH_SAGE_PYTHONUSERBASE', async (ev, a) => {
  const saved = ev.vars.get('PYTHONUSERBASE') ?? '';
  if (!saved) ev.vars.set('PYTHONUSERBASE', `${ev.vars.get('HOME') ?? ''}/.sage/local`);
  try {
    return await ev.code(a[0]);
  } finally {
    ev.vars.set('PYTHONUSERBASE', saved);
  }
});

/** Nested SAGE_SPKG_CONFIGURE: only the top-level call is meaningful (decide.ts runs it). */
h.set('SAGE_SPKG_CONFIGURE', async (_ev: PackageEval) => 0);

export const sageHandlers = h;
