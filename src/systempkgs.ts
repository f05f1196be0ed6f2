// `sagebuild configure`: which packages the system provides, decided once from the recipes'
// spkg-configure.m4 (src/system/) and cached in the prefix until the m4 files, the compilers or
// the environment the checks see change. Overrides (`system:` in the config,
// --with-system-<pkg> / --without-system-<pkg>) are applied on top, never cached.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { HashCache } from './state/hashcache.js';
import path from 'node:path';
import type { Decision } from './system/decide.js';
import type { Project } from './project.js';
import { toolchain } from './toolchain.js';
import { processEnv } from './util/env.js';
import { readJsonOrNull, writeFileAtomic } from './util/fs.js';
import { configureCacheFile } from './state/layout.js';
import { SAGEBUILD_VERSION } from './util/paths.js';
import { UserError } from './diagnostics.js';

export type { Decision } from './system/decide.js';

/** What the checks see of the environment: a change of any of these decides anew. */
const ENV_KEYS = ['PATH', 'CC', 'CXX', 'FC', 'CPP', 'CXXCPP', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'LIBS', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'LIBRARY_PATH', 'LD_LIBRARY_PATH', 'PKG_CONFIG_PATH', 'PKG_CONFIG_LIBDIR'];

interface CacheFile {
  key: string;
  decidedAt: string;
  decisions: Record<string, Decision>;
}

function cacheFile(project: Project): string {
  return configureCacheFile(project.config.prefix);
}

/** The tree's m4/ folder (Sage's AC_DEFUNs that spkg-configure.m4 files call), when there is one. */
function treeM4Files(project: Project): string[] {
  const dir = path.resolve(project.config.pkgs, '..', '..', 'm4');
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.m4')).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * The environment the checks see. `sage_use_system_<pkg>=no` for packages that must be built
 * whatever their check says: as with Sage's --without-system-<pkg>, the checks of packages that
 * need them (SAGE_SPKG_DEPCHECK) see it.
 */
function checkEnv(project: Project, overrides: Map<string, Override>): Record<string, string> {
  const forced = [...overrides].filter(([, o]) => o === 'no').map(([name]) => [`sage_use_system_${name}`, 'no']);
  return { ...processEnv(), SAGE_LOCAL: project.config.prefix, SAGE_ROOT: project.config.root, ...Object.fromEntries(forced) };
}

/** Everything a decision depends on, hashed; file contents through the stat-keyed hash cache. */
function cacheKey(project: Project, env: Record<string, string>, m4Files: string[], hashes: HashCache): string {
  const h = createHash('sha256');
  h.update(`sagebuild ${SAGEBUILD_VERSION}\0`);
  for (const [k, v] of Object.entries(env).filter(([k]) => k.startsWith('sage_use_system_')).sort()) h.update(`${k}=${v}\0`);
  const tc = toolchain(env);
  h.update(`CC=${tc.CC}\0CXX=${tc.CXX}\0`);
  for (const k of ENV_KEYS) h.update(`${k}=${env[k] ?? ''}\0`);
  const files = [...[...project.recipes.values()].map((r) => r.configureM4).filter((f): f is string => f !== null), ...m4Files].sort();
  for (const f of files) {
    h.update(`${f}\0`);
    try {
      h.update(hashes.hash(f));
    } catch {
      h.update('(unreadable)');
    }
  }
  return h.digest('hex');
}

/** The cached decisions if they still hold (never runs a check); `stale`: there are some, made for other inputs. */
export function cachedDecisions(project: Project, overrides: Map<string, Override>, hashes: HashCache): { decisions: Map<string, Decision> | null; stale: boolean } {
  const data = readJsonOrNull<CacheFile>(cacheFile(project));
  if (!data) return { decisions: null, stale: false };
  if (data.key !== cacheKey(project, checkEnv(project, overrides), treeM4Files(project), hashes)) return { decisions: null, stale: true };
  return { decisions: new Map(Object.entries(data.decisions)), stale: false };
}

/** Runs every package's checks (in parallel, bounded by `jobs`) and caches the result. */
export async function decideAnew(project: Project, signal: AbortSignal, jobs: number, overrides: Map<string, Override>, hashes: HashCache): Promise<Map<string, Decision>> {
  const env = checkEnv(project, overrides);
  const m4Files = treeM4Files(project);
  const tc = toolchain(env);
  const scratchRoot = path.join(project.config.buildDir, '.configure');
  mkdirSync(scratchRoot, { recursive: true });
  const workDir = mkdtempSync(path.join(scratchRoot, 'checks-'));
  try {
    const packages = [...project.recipes.values()].filter((r) => !r.builtin).map((r) => ({ name: r.name, dir: r.dir, configureM4: r.configureM4 }));
    // Checks that make temp files (`mktemp` in some m4 files) make them here, not in /tmp.
    const checkEnvWithTmp = { ...env, TMPDIR: workDir };
    // The checks' evaluator is loaded only to decide: a command that reads the cache never loads it.
    const { decideSystemPackages } = await import('./system/decide.js');
    const decisions = await decideSystemPackages({ packages, env: checkEnvWithTmp, cc: tc.CC || 'cc', cxx: tc.CXX || 'c++', workDir, signal, jobs, m4Files });
    if (!signal.aborted) {
      const data: CacheFile = { key: cacheKey(project, env, m4Files, hashes), decidedAt: new Date().toISOString(), decisions: Object.fromEntries(decisions) };
      mkdirSync(path.dirname(cacheFile(project)), { recursive: true });
      writeFileAtomic(cacheFile(project), JSON.stringify(data, null, 1) + '\n');
    }
    return decisions;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

export type Override = 'yes' | 'no';

/**
 * The packages that come from the system in this run: decided `system` (or forced with `yes`),
 * not forced `no`, and not installed by sagebuild already (Sage's configure keeps building a
 * package it installed: `<pkg>-clean` first to switch to the system's).
 */
export function systemPackages(decisions: Map<string, Decision>, overrides: Map<string, Override>, installed: (name: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, d] of decisions) {
    const o = overrides.get(name);
    if (o === 'no' || installed(name)) continue;
    if (o === 'yes') out.set(name, d.state === 'system' ? `${d.evidence} (asked for)` : `asked for with --with-system-${name} / system: (its check says: ${d.evidence})`);
    else if (d.state === 'system') out.set(name, d.evidence);
  }
  for (const [name, o] of overrides) if (o === 'yes' && !decisions.has(name) && !installed(name)) out.set(name, 'asked for (no check was run)');
  return out;
}

export interface PrepareOptions {
  /** The command changes the prefix: decide now if the cache does not hold (a dry run never checks). */
  decideIfStale: boolean;
  /** `sagebuild configure`: decide anew whatever the cache says. */
  force?: boolean;
  signal: AbortSignal;
  jobs: number;
  /** --with-system-<pkg> / --without-system-<pkg>, over `system:` in the config. */
  cliOverrides: Map<string, Override>;
  installed: (name: string) => boolean;
  /** Says what is happening (an event, printed by the reporters). */
  info: (message: string) => void;
  /** What the user should act on (printed apart from the command's output). */
  warn: (message: string) => void;
  /** The command's file-hash cache: the m4 files are hashed through it. */
  hashes: HashCache;
}

/**
 * Sets project.system and project.systemExports for this command, from the cached decisions, or
 * deciding first when asked to. Returns the decisions (null: none yet, and not decided now).
 */
export async function prepareSystem(project: Project, o: PrepareOptions): Promise<Map<string, Decision> | null> {
  const overrides = new Map<string, Override>([...Object.entries(project.config.system), ...o.cliOverrides]);
  // Sage has no --with-system-<pkg> for a package without spkg-configure.m4: it always builds it.
  const unchecked = [...overrides].filter(([name, v]) => v === 'yes' && project.recipes.get(name)?.configureM4 === null).map(([name]) => name);
  if (unchecked.length) {
    throw new UserError(
      unchecked.map((name) => ({
        ...(project.config.system[name] === 'yes' && !o.cliOverrides.has(name) ? { file: project.config.configFile ?? undefined, ...project.config.systemAt[name] } : {}),
        message: `${name} has no spkg-configure.m4, so nothing decides it can come from the system (Sage always builds it)`,
        hint: `drop the override for ${name}, or give its recipe an spkg-configure.m4`,
      })),
    );
  }
  const anyChecks = [...project.recipes.values()].some((r) => r.configureM4 !== null);
  let decisions: Map<string, Decision> | null = null;
  if (anyChecks) {
    const cached = o.force ? { decisions: null, stale: false } : cachedDecisions(project, overrides, o.hashes);
    decisions = cached.decisions;
    if (!decisions && (o.force || o.decideIfStale)) {
      o.info(`configure: deciding which packages the system provides (the spkg-configure.m4 checks of ${[...project.recipes.values()].filter((r) => r.configureM4).length} packages; cached until they or the environment change)`);
      const started = Date.now();
      decisions = await decideAnew(project, o.signal, o.jobs, overrides, o.hashes);
      o.info(`configure: ${summarize(decisions)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } else if (!decisions) {
      o.warn(
        cached.stale
          ? "configure: what decided which packages the system provides has changed (spkg-configure.m4 files, compilers, environment or --without-system options), so all are planned as built; 'sagebuild configure' decides again (a build does first)"
          : "configure: which packages the system provides is not decided yet, so all are planned as built; 'sagebuild configure' decides it (a build does first)",
      );
    }
  }
  project.system = systemPackages(decisions ?? new Map(), overrides, o.installed);
  const exports: Record<string, string> = {};
  for (const name of project.system.keys()) Object.assign(exports, decisions?.get(name)?.exports ?? {});
  project.systemExports = exports;
  return decisions;
}

export function summarize(decisions: Map<string, Decision>): string {
  const n = (s: string) => [...decisions.values()].filter((d) => d.state === s).length;
  return `${n('system')} from the system, ${n('build')} to build, ${n('undecided')} undecided (built)`;
}
