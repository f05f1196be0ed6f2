// Sage's uninstall hooks. sage-spkg installs a package's spkg-prerm, spkg-piprm and spkg-postrm
// into scriptsDir(<tree>)/<pkg>/ (state/layout.ts; outside its manifest), and sage-spkg-uninstall
// (build/sage_bootstrap/uninstall.py) runs them when the package is removed or upgraded:
// prerm (its failure aborts: nothing is removed), piprm (pip-uninstalls the package's wheels; its
// failure only warns), the files are deleted, postrm (its failure only warns), then the scripts
// folder goes. A stamp without a file list gets the recipe's spkg-legacy-uninstall instead.
// The installed scripts are self-contained, as Sage's are, so Sage's own uninstaller can run them.
import { constants, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import type { EventBus } from './events.js';
import type { Recipe, Script } from './recipes.js';
import { runLogged } from './proc/spawn.js';
import { processEnv } from './util/env.js';
import { HELPERS_FILE, accessible } from './util/paths.js';
import { installedDir, scriptsDir, wheelhouseOf } from './state/layout.js';

export const UNINSTALL_HOOKS = ['prerm', 'piprm', 'postrm'] as const;
export type UninstallHook = (typeof UNINSTALL_HOOKS)[number];

/** A hook failed where Sage stops (prerm, legacy-uninstall), or was interrupted: nothing of the package was removed. */
export class HookFailed extends Error {
  constructor(
    message: string,
    readonly canceled = false,
  ) {
    super(message);
  }
}

/** One installed package version, as its hooks see it. */
export interface HookTarget {
  config: Config;
  name: string;
  version: string;
  /** The tree it is installed in (SAGE_INST_LOCAL). */
  tree: string;
}

export function scriptsDirOf(tree: string, name: string): string {
  return path.join(scriptsDir(tree), name);
}

/**
 * The line sage-dist-helpers appends to spkg-piprm for a package whose wheels pip installed.
 * sagebuild pip-uninstalls recorded wheels itself (under the exclusive pip lock, with rollback on
 * upgrades) and so sets SAGEBUILD_PIP_UNINSTALLS when it runs the hook; Sage's uninstaller runs it.
 */
const PIPRM_LINE = '[ -n "$SAGEBUILD_PIP_UNINSTALLS" ] || sdh_pip_uninstall -r "$SAGE_SPKG_SCRIPTS/$PKG_BASE/spkg-requirements.txt"';

/** What sage-spkg's script wrapper and sage-env give an installed hook (Sage runs *rm hooks in SAGE_ROOT). */
export function hookVars(t: HookTarget): Record<string, string> {
  const { config } = t;
  return {
    SAGE_ROOT: config.root,
    SAGE_SRC: config.sageSrc,
    SAGE_LOCAL: config.prefix,
    SAGE_VENV: config.venv,
    SAGE_SHARE: path.join(config.prefix, 'share'),
    SAGE_INST_LOCAL: t.tree,
    SAGE_PKG_DIR: config.root,
    SAGE_SPKG_INST: installedDir(t.tree),
    SAGE_SPKG_SCRIPTS: scriptsDir(t.tree),
    SAGE_SPKG_WHEELS: wheelhouseOf(config.venv),
    PKG_NAME: `${t.name}-${t.version}`,
    PKG_BASE: t.name,
    PKG_VER: t.version,
  };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash script: the hook's environment baked in (as sage-spkg bakes it), the helpers, sdh_guard, cd, then `body`. */
function wrapHook(t: HookTarget, source: string, body: string): string {
  const vars = hookVars(t);
  const bin = [...new Set([path.join(t.config.venv, 'bin'), path.join(t.config.prefix, 'bin')])].join(':');
  return [
    '#!/usr/bin/env bash',
    `# Installed by sagebuild from ${source}, as sage-spkg installs uninstall hooks.`,
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${q(v)}`),
    `export PATH=${q(bin)}:"$PATH"`,
    `source "\${SAGEBUILD_HELPERS:-${HELPERS_FILE}}" || { echo "Error: cannot source the sage-dist-helpers" >&2; exit 1; }`,
    'sdh_guard || exit 1',
    'cd "$SAGE_PKG_DIR" || exit 1',
    '',
    body,
    '',
  ].join('\n');
}

function isExecutable(s: Script): boolean {
  return !s.isBody && accessible(s.path, constants.X_OK);
}

function bodyOf(s: Script): string {
  return isExecutable(s) ? `exec ${q(s.path)}` : readFileSync(s.path, 'utf8');
}

/**
 * Installs the recipe's uninstall hooks for the version just installed, replacing the previous
 * version's: `.in` bodies wrapped, executables copied as they are (as sage-spkg does). A package
 * that pip-installed wheels gets the spkg-piprm line Sage generates.
 */
export function installHooks(t: HookTarget, r: Recipe, pipInstalled: boolean): void {
  const dir = scriptsDirOf(t.tree, t.name);
  for (const hook of UNINSTALL_HOOKS) {
    const file = path.join(dir, `spkg-${hook}`);
    rmSync(file, { force: true });
    const s = r.scripts[hook];
    const generated = hook === 'piprm' && pipInstalled ? PIPRM_LINE : '';
    if (!s && !generated) continue;
    mkdirSync(dir, { recursive: true });
    if (s && isExecutable(s) && !generated) {
      copyFileSync(s.path, file);
      continue;
    }
    const body = [s ? bodyOf(s) : '', generated].filter(Boolean).join('\n');
    writeFileSync(file, wrapHook(t, s?.path ?? '(sagebuild: wheels installed with pip)', body), { mode: 0o755 });
  }
}

export interface HookRun {
  bus: EventBus;
  signal?: AbortSignal;
}

/** The installed hook `hook` of `t`, if there is one. */
export function installedHook(t: HookTarget, hook: UninstallHook): string | null {
  const file = path.join(scriptsDirOf(t.tree, t.name), `spkg-${hook}`);
  return accessible(file, constants.F_OK) ? file : null;
}

type Outcome = 'ok' | 'failed' | 'canceled';

async function run(t: HookTarget, step: string, file: string, args: string[], o: HookRun): Promise<Outcome> {
  const id = `${t.name}-${t.version}`;
  o.bus.emit({ type: 'step', id, step: `spkg-${step}` as 'spkg-prerm' });
  const env = { ...processEnv(), ...hookVars(t), SAGEBUILD_HELPERS: HELPERS_FILE, SAGEBUILD_PIP_UNINSTALLS: '1' };
  const res = await runLogged(file, args, { cwd: t.config.root, env, id, bus: o.bus, signal: o.signal ?? new AbortController().signal });
  if (res.canceled) return 'canceled';
  if (res.exitCode === 0) return 'ok';
  o.bus.emit({ type: 'output', id, line: `sagebuild: spkg-${step} ${res.signal ? `killed by ${res.signal}` : `failed (exit code ${res.exitCode})`}` });
  return 'failed';
}

/** Runs an installed hook; 'ok' when there is none. */
export async function runHook(t: HookTarget, hook: UninstallHook, o: HookRun): Promise<Outcome> {
  const file = installedHook(t, hook);
  if (!file) return 'ok';
  return run(t, hook, accessible(file, constants.X_OK) ? file : 'bash', accessible(file, constants.X_OK) ? [] : [file], o);
}

/** prerm: its failure stops the removal (Sage: "the package will not be uninstalled"). */
export async function runPrerm(t: HookTarget, o: HookRun): Promise<void> {
  const outcome = await runHook(t, 'prerm', o);
  if (outcome === 'canceled') throw new HookFailed(`interrupted in the pre-uninstall script of ${t.name}-${t.version}`, true);
  if (outcome === 'failed') {
    throw new HookFailed(`the pre-uninstall script ${installedHook(t, 'prerm')} of ${t.name}-${t.version} failed, so it was not uninstalled; fix what it reports (or the script) and try again`);
  }
}

/** piprm and postrm: a failure is a warning, the removal goes on (as in Sage). */
export async function runWarningHook(t: HookTarget, hook: 'piprm' | 'postrm', o: HookRun): Promise<void> {
  if ((await runHook(t, hook, o)) !== 'ok') {
    o.bus.emit({ type: 'warning', message: `${t.name}-${t.version}: its ${hook === 'piprm' ? 'pip-uninstall' : 'post-uninstall'} script ${installedHook(t, hook)} failed; ${hook === 'piprm' ? 'uninstallation may have left behind some files' : 'the package is uninstalled, but may have left behind some files or settings'}` });
  }
}

/** After the files are gone: the hooks go too (Sage removes the whole scripts folder). */
export function removeHooks(t: HookTarget): void {
  rmSync(scriptsDirOf(t.tree, t.name), { recursive: true, force: true });
}

/**
 * A stamp without a file list (an old-style install): the recipe's spkg-legacy-uninstall, if it
 * has one, removes what it knows of. Its failure stops the removal, as in Sage.
 */
export async function runLegacyUninstall(t: HookTarget, r: Recipe | undefined, o: HookRun): Promise<boolean> {
  const s = r?.scripts.legacyUninstall;
  if (!s) return false;
  const outcome = await run(t, 'legacy-uninstall', 'bash', ['-c', wrapHook(t, s.path, bodyOf(s))], o);
  if (outcome !== 'ok') throw new HookFailed(`${s.path} ${outcome === 'canceled' ? 'was interrupted' : 'failed'}, so the old install of ${t.name}-${t.version} was not removed`, outcome === 'canceled');
  return true;
}
