// Which packages come from the system, decided as Sage's ./configure decides it: each
// build/pkgs/<name>/spkg-configure.m4 runs through SAGE_SPKG_CONFIGURE's structure
// (m4/sage_spkg_configure.m4): PRE, REQUIRED-CHECK, then CHECK unless not required, then POST.
//
//   decideSystemPackages({ packages, env, cc, cxx, workDir, signal?, jobs?, m4Files? })
//     -> Promise<Map<name, Decision>>
//
// * packages: every recipe, `configureM4` = path of its spkg-configure.m4 or null (no file:
//   Sage builds the package). `dir` is only used for messages.
// * env: the environment checks see (PATH, PKG_CONFIG_PATH, CFLAGS, SAGE_LOCAL…). SAGE_LOCAL
//   should be set: gcc's check looks at $SAGE_LOCAL/bin/gcc, and exports name it.
// * cc / cxx: the compilers (as in CC/CXX), used for every compile and link test.
// * workDir: where scratch files go (created if missing); the run's subfolder is removed at the end.
// * jobs: at most this many processes at once (default: the number of CPUs). Package checks all run
//   concurrently; AC_REQUIRE and SAGE_SPKG_DEPCHECK wait for the other package's result, so
//   dependency chains resolve in dependency order (a cycle: the package that closes it is
//   undecided, and so builds, and the others follow from that).
// * m4Files: m4 files whose AC_DEFUNs the checks may call (SAGE_CHECK_PARI_DEP is in Sage's
//   m4/sage_check_pari_dep.m4). Default: <root>/m4/*.m4 when the recipes are <root>/build/pkgs/*.
//
// Decision.state: `system` (Sage would not build it: the system provides it, or it is not
// required here — then `required` is false), `build` (evidence names the check that failed),
// `undecided` (evidence names the construct that could not be evaluated; such packages build).
// Decision.exports: the configure variables the package's m4 AC_SUBSTs (SAGE_GMP_PREFIX…),
// `$SAGE_LOCAL` and `${prefix}` (the same in Sage) expanded from env.SAGE_LOCAL when it is set,
// plus SAGE_CONFIGURE_<X> as sage-build-env derives them.

import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Prober } from './checks.js';
import type { Lang } from './checks.js';
import { ConfigureError, PackageEval, coreHandlers } from './evaluator.js';
import type { Handler, PackageVars, UserMacro, World } from './evaluator.js';
import { argSource, argValue, parseM4 } from './m4.js';
import type { M4Arg, M4Node } from './m4.js';
import { libraryHandlers } from './probes-libs.js';
import { probeHandlers } from './probes.js';
import { importRequired, sageHandlers } from './sage.js';
import { Unevaluable } from './shell.js';

export type DecisionState = 'system' | 'build' | 'undecided';

export interface Decision {
  state: DecisionState;
  evidence: string;
  exports: Record<string, string>;
  /** false when the REQUIRED-CHECK found the package is not needed here (Sage's "dummy" packages). */
  required: boolean;
}

export interface SystemPackage {
  name: string;
  dir: string;
  configureM4: string | null;
}

export interface DecideInput {
  packages: SystemPackage[];
  env: Record<string, string>;
  cc: string;
  cxx: string;
  workDir: string;
  signal?: AbortSignal;
  jobs?: number;
  m4Files?: string[];
}

const HANDLERS: Map<string, Handler> = new Map([...coreHandlers, ...probeHandlers, ...libraryHandlers, ...sageHandlers]);

/** sage-build-env: SAGE_CONFIGURE_<X>="--with-x=$SAGE_X_PREFIX" when the prefix is not empty. */
const CONFIGURE_FLAGS: Record<string, string> = {
  SAGE_GMP_PREFIX: 'gmp',
  SAGE_MPFR_PREFIX: 'mpfr',
  SAGE_MPC_PREFIX: 'mpc',
  SAGE_NTL_PREFIX: 'ntl',
  SAGE_FLINT_PREFIX: 'flint',
  SAGE_PARI_PREFIX: 'pari',
  SAGE_BOOST_PREFIX: 'boost',
};

interface Loaded {
  pkg: SystemPackage;
  file: string;
  call: (M4Node & { kind: 'macro' }) | null;
  error: string | null;
}

interface Outcome {
  vars: PackageVars;
  decision: Decision;
  overrides: Map<string, string>;
}

export async function decideSystemPackages(input: DecideInput): Promise<Map<string, Decision>> {
  await mkdir(input.workDir, { recursive: true });
  const scratch = await mkdtemp(path.join(input.workDir, 'sysdetect-'));
  try {
    return await decideIn(input, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function decideIn(input: DecideInput, scratch: string): Promise<Map<string, Decision>> {
  const prober = new Prober({ cc: input.cc, cxx: input.cxx, env: input.env, workDir: scratch, jobs: input.jobs ?? os.availableParallelism(), signal: input.signal });
  const userMacros = new Map<string, UserMacro>();
  const byName = new Map(input.packages.map((p) => [p.name, p]));
  const loaded = new Map<string, Loaded>();
  for (const p of input.packages) if (p.configureM4) loaded.set(p.name, await load(p, userMacros));
  const root = treeRoot(input.packages);
  for (const f of input.m4Files ?? (await treeM4Files(root))) await loadDefinitions(f, userMacros);

  const outcomes = new Map<string, Promise<Outcome>>();
  const waits = new Map<string, Set<string>>();
  const gnu = new Map<Lang, Promise<boolean>>();
  const world: World = {
    prober,
    root,
    userMacros,
    packageByUpper: new Map(input.packages.map((p) => [p.name.toUpperCase(), p.name])),
    isGnu: (lang) => {
      if (!gnu.has(lang)) gnu.set(lang, isGnuCompiler(prober, lang));
      return gnu.get(lang)!;
    },
    requirePackage: async (from, target) => {
      if (reaches(waits, target, from)) throw new Unevaluable(`circular AC_REQUIRE between ${from} and ${target}`);
      const set = waits.get(from) ?? new Set<string>();
      set.add(target);
      waits.set(from, set);
      try {
        return (await outcomeOf(target)).vars;
      } finally {
        set.delete(target);
      }
    },
  };
  const baseVars = initialVars(input, scratch);
  const outcomeOf = (name: string): Promise<Outcome> => {
    let o = outcomes.get(name);
    if (!o) {
      const l = loaded.get(name);
      o = l ? evaluate(l, world, baseVars, scratch) : Promise.resolve(noConfigure(byName.get(name)));
      outcomes.set(name, o);
    }
    return o;
  };
  // allSettled: on abort or error, no check may still be running when the scratch folder goes.
  const settled = await Promise.allSettled(input.packages.map(async (p) => [p.name, await outcomeOf(p.name)] as const));
  input.signal?.throwIfAborted();
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return finish(settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), input.env);
}

async function load(pkg: SystemPackage, userMacros: Map<string, UserMacro>): Promise<Loaded> {
  const file = path.join(path.basename(pkg.dir), path.basename(pkg.configureM4!));
  try {
    const text = await readFile(pkg.configureM4!, 'utf8');
    const nodes = parseM4(text, { file, line: 1 }, () => false);
    let call: Loaded['call'] = null;
    for (const n of nodes) {
      if (n.kind !== 'macro') continue;
      if (n.name === 'AC_DEFUN' && n.args) define(n.args, file, userMacros);
      if ((n.name === 'SAGE_SPKG_CONFIGURE' || n.name === 'SAGE_SPKG_CONFIGURE_BASE') && !call) call = n;
    }
    return { pkg, file, call, error: call ? null : `${file}: no SAGE_SPKG_CONFIGURE call` };
  } catch (err) {
    return { pkg, file, call: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The tree's m4/*.m4 (SAGE_CHECK_PARI_DEP lives there), when the recipes are in a Sage tree. */
async function treeM4Files(root: string | null): Promise<string[]> {
  if (!root) return [];
  try {
    return (await readdir(path.join(root, 'm4'))).filter((f) => f.endsWith('.m4')).sort().map((f) => path.join(root, 'm4', f));
  } catch {
    return [];
  }
}

/**
 * AC_DEFUNs of an extra m4 file; Sage's own configure macros stay native (HANDLERS). A file
 * this reader cannot parse only loses its definitions: a package that calls one is undecided.
 */
async function loadDefinitions(file: string, userMacros: Map<string, UserMacro>): Promise<void> {
  let nodes: M4Node[];
  try {
    nodes = parseM4(await readFile(file, 'utf8'), { file: path.basename(file), line: 1 }, () => false);
  } catch {
    return;
  }
  for (const n of nodes) {
    if (n.kind === 'macro' && n.name === 'AC_DEFUN' && n.args) define(n.args, path.basename(file), userMacros);
  }
}

function define(args: M4Arg[], file: string, userMacros: Map<string, UserMacro>): void {
  const name = argValue(args[0]?.raw ?? '').trim();
  if (!HANDLERS.has(name) && !userMacros.has(name)) {
    userMacros.set(name, { body: argSource(args[1]?.raw ?? ''), file, line: args[1]?.line ?? 1 });
  }
}

/** SAGE_ROOT when the recipes live in <root>/build/pkgs/<name> (m4_include paths are relative to it). */
function treeRoot(packages: SystemPackage[]): string | null {
  const dir = packages[0]?.dir;
  if (!dir) return null;
  const pkgs = path.dirname(path.resolve(dir));
  return path.basename(pkgs) === 'pkgs' && path.basename(path.dirname(pkgs)) === 'build' ? path.dirname(path.dirname(pkgs)) : null;
}

function reaches(waits: Map<string, Set<string>>, from: string, to: string, seen = new Set<string>()): boolean {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  for (const next of waits.get(from) ?? []) if (reaches(waits, next, to, seen)) return true;
  return false;
}

function initialVars(input: DecideInput, scratch: string): Map<string, string> {
  const vars = new Map(Object.entries(input.env));
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  const defaults: Record<string, string> = {
    CC: input.cc,
    CXX: input.cxx,
    SED: 'sed',
    GREP: 'grep',
    EGREP: 'grep -E',
    host: process.platform === 'darwin' ? `${arch}-apple-darwin` : `${arch}-pc-linux-gnu`,
    SAGE_LOCAL: input.env.SAGE_LOCAL ?? path.join(scratch, 'no-sage-local'),
  };
  for (const [k, v] of Object.entries(defaults)) if (k === 'CC' || k === 'CXX' || !vars.has(k)) vars.set(k, v);
  // configure.ac's AC_CHECK_LIB(m, sqrt) puts -lm in LIBS before any package check runs.
  vars.set('LIBS', `-lm ${vars.get('LIBS') ?? ''}`.trim());
  // configure.ac: AS_VAR_SET([sage_use_system_gcc], [force]).
  if (!vars.has('sage_use_system_gcc')) vars.set('sage_use_system_gcc', 'force');
  return vars;
}

async function isGnuCompiler(prober: Prober, lang: Lang): Promise<boolean> {
  const src = '#ifndef __GNUC__\n#error not GNU\n#endif\nint main (void) { return 0; }\n';
  const r = await prober.compile(lang, src, { cflags: '', cppflags: '', ldflags: '', libs: '' }, 'compile');
  return r.status === 0;
}

function noConfigure(pkg: SystemPackage | undefined): Outcome {
  if (!pkg) throw new Error('internal: unknown package');
  const decision: Decision = { state: 'build', evidence: 'no spkg-configure.m4: Sage always builds it', exports: {}, required: true };
  return { vars: { install: 'yes', require: 'yes', useSystem: 'no' }, decision, overrides: new Map() };
}

/** One package: its SAGE_SPKG_CONFIGURE call, evaluated; errors make it undecided. */
async function evaluate(l: Loaded, world: World, baseVars: Map<string, string>, scratch: string): Promise<Outcome> {
  if (!l.call) {
    const decision: Decision = { state: 'undecided', evidence: l.error ?? 'unreadable', exports: {}, required: true };
    return { vars: { install: 'yes', require: 'yes', useSystem: 'no' }, decision, overrides: new Map() };
  }
  const cwd = path.join(scratch, `pkg-${l.pkg.name}`);
  await mkdir(cwd, { recursive: true });
  const ev = new PackageEval(l.pkg.name, l.file, cwd, world, HANDLERS, baseVars);
  const a = l.call.args ?? [];
  let undecided: string | null = null;
  try {
    await importRequired(ev, l.call.raw);
    await configureSteps(ev, a);
  } catch (err) {
    undecided = reasonOf(err);
    ev.vars.set(`sage_spkg_install_${ev.name}`, 'yes');
  }
  try {
    await ev.code(a[4]); // POST runs whatever the checks decided
  } catch (err) {
    undecided ??= reasonOf(err);
  }
  return outcome(ev, undecided);
}

/** SAGE_SPKG_CONFIGURE_BASE (m4/sage_spkg_configure.m4) up to POST: PRE, REQUIRED-CHECK, CHECK. */
async function configureSteps(ev: PackageEval, a: M4Arg[]): Promise<void> {
  const name = ev.name;
  const [installVar, requireVar, useVar] = [`sage_spkg_install_${name}`, `sage_require_${name}`, `sage_use_system_${name}`];
  if (!ev.vars.get(useVar)) ev.vars.set(useVar, 'yes');
  ev.vars.set(installVar, 'no');
  await ev.code(a[3]); // PRE
  const installed = await installedAs(ev.vars.get('SAGE_LOCAL') ?? '', name);
  if (installed) {
    // Sage: "has already been installed by SageMath" -> keep (and update) the SPKG.
    ev.lastFailure = `already installed in SAGE_LOCAL (${installed}); Sage keeps the SPKG`;
    ev.vars.set(installVar, 'yes');
    ev.vars.set(useVar, 'installed');
  }
  if (!ev.vars.get(requireVar)) ev.vars.set(requireVar, 'yes');
  await ev.code(a[2]); // REQUIRED-CHECK
  if (ev.vars.get(installVar) !== 'no' || ev.vars.get(requireVar) === 'no') return; // not required: no CHECK
  if (ev.vars.get(useVar) === 'no') {
    ev.lastFailure = `${useVar}=no`;
    ev.vars.set(installVar, 'yes');
  } else if (!ev.hasCode(a[1])) {
    ev.lastFailure = 'SAGE_SPKG_CONFIGURE has no CHECK';
    ev.vars.set(installVar, 'yes');
  } else {
    await ev.code(a[1]); // CHECK
    if (ev.vars.get(installVar) === 'yes' && ev.vars.get(useVar) === 'force') {
      throw new ConfigureError(`--with-system-${name}=force, but no system package could be used: ${ev.installReason ?? ev.lastFailure ?? 'the check failed'}`);
    }
  }
}

/** The installation record `<name>-<version>` in $SAGE_LOCAL/var/lib/sage/installed, if any. */
async function installedAs(sageLocal: string, name: string): Promise<string | null> {
  if (!sageLocal) return null;
  try {
    const records = await readdir(path.join(sageLocal, 'var', 'lib', 'sage', 'installed'));
    return records.find((r) => r.startsWith(`${name}-`)) ?? null;
  } catch {
    return null;
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof Unevaluable) return `cannot evaluate ${err.message}`;
  if (err instanceof ConfigureError) return `configure would stop: ${err.message}`;
  if (err instanceof Error && err.name === 'AbortError') throw err;
  return `evaluation failed: ${err instanceof Error ? err.message : String(err)}`;
}

function outcome(ev: PackageEval, undecided: string | null): Outcome {
  const v = (k: string): string => ev.vars.get(k) ?? '';
  const install = v(`sage_spkg_install_${ev.name}`) === 'yes' ? 'yes' : 'no';
  const vars: PackageVars = { install, require: v(`sage_require_${ev.name}`), useSystem: v(`sage_use_system_${ev.name}`) };
  const exports: Record<string, string> = {};
  for (const name of ev.exports) exports[name] = v(name);
  let decision: Decision;
  if (undecided) decision = { state: 'undecided', evidence: undecided, exports, required: true };
  else if (install === 'no' && vars.require !== 'yes') {
    // SAGE_SPKG_FINALIZE reads sage_require_<pkg> at the end: anything but yes is "not required".
    decision = { state: 'system', evidence: `not required on this system (${ev.requireReason ?? `sage_require_${ev.name}=${vars.require}`})`, exports, required: false };
  } else if (install === 'yes') {
    // A package that defaults to installing is explained by the check that then failed to clear it.
    const reason = ev.reasonIsDefault && ev.lastFailure ? ev.lastFailure : ev.installReason;
    decision = { state: 'build', evidence: reason ?? ev.lastFailure ?? `sets sage_spkg_install_${ev.name}=yes`, exports, required: true };
  } else {
    const evidence = ev.facts.join(', ') || ev.results.join(', ') || 'the CHECK found nothing missing';
    decision = { state: 'system', evidence, exports, required: true };
  }
  return { vars, decision, overrides: ev.overrides };
}

/** Cross-package writes (linbox's POST sets givaro's and fflas_ffpack's result) and exported flags. */
function finish(all: (readonly [string, Outcome])[], env: Record<string, string>): Map<string, Decision> {
  const result = new Map(all.map(([n, o]) => [n, { ...o.decision, exports: { ...o.decision.exports } }]));
  for (const [from, o] of all) {
    for (const [target, value] of o.overrides) {
      const d = result.get(target);
      if (!d || d.state === 'undecided' || !d.required) continue;
      const state = value === 'yes' ? 'build' : 'system';
      if (state !== d.state) result.set(target, { ...d, state, evidence: `set to follow ${from} by ${from}'s spkg-configure.m4 (was: ${d.evidence})` });
    }
  }
  for (const d of result.values()) d.exports = finalExports(d.exports, env);
  return result;
}

function finalExports(exports: Record<string, string>, env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(exports)) {
    // Sage's configure.ac sets SAGE_LOCAL="$prefix"; the values are expanded where they are used.
    out[k] = env.SAGE_LOCAL === undefined ? v : v.replace(/\$\{?(SAGE_LOCAL|prefix)\}?(?![A-Za-z0-9_])/g, env.SAGE_LOCAL);
    const flag = CONFIGURE_FLAGS[k];
    if (flag && out[k]) out[`SAGE_CONFIGURE_${flag.toUpperCase()}`] = `--with-${flag}=${out[k]}`;
  }
  return out;
}
