// Reads a Sage-layout recipe tree (pkgs/<name>/...) into plain Recipe records. Only reading and
// per-recipe validation happen here; dependency tokens are resolved in deps.ts once every recipe
// (and so every name and version) is known.
import { constants, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { accessible } from './util/paths.js';
import { statOrNull } from './util/fs.js';
import { type Diagnostic, UserError } from './diagnostics.js';
import { type PkgKind, kindOf, sageKind } from './kinds.js';
import type { RecipeCache } from './recipecache.js';
import type { Config } from './config.js';

export type { PkgKind } from './kinds.js';

export const PKG_TYPES = ['base', 'standard', 'optional', 'experimental'] as const;
export type PkgType = (typeof PKG_TYPES)[number];

export interface DepLine {
  file: string;
  /** The first line with its comment stripped. */
  text: string;
}

export interface Checksums {
  file: string;
  /** The pattern as written (VERSION not substituted). */
  tarball: string;
  sha256?: string;
  sha1?: string;
  upstreamUrl?: string;
}

export interface Script {
  path: string;
  /** true for `spkg-X.in` bodies, false for an executable `spkg-X`. */
  isBody: boolean;
}

export interface Recipe {
  name: string;
  dir: string;
  type: PkgType;
  kind: PkgKind;
  /** package-version.txt as written, `.pN` included; 'none' when the file is absent. */
  version: string;
  /** The version without `.pN`: what `VERSION` means in tarball names. */
  upstreamVersion: string;
  deps: DepLine | null;
  depsOrderOnly: DepLine | null;
  depsCheck: DepLine | null;
  depsOptional: DepLine | null;
  /** The chosen `tarball=` group (of several: the best wheel for the interpreter, else the sdist). */
  checksums: Checksums | null;
  /**
   * Problems that concern only building this package (no install script, a checksums.ini that
   * names no usable tarball...): an error when a target needs the package, as Sage fails only
   * `make <pkg>`, never loading the tree.
   */
  problems: Diagnostic[];
  /**
   * The chosen tarball is the sdist of a package that otherwise ships wheels (no wheel fits this
   * interpreter): with no install script of its own it is built as `cd src && sdh_pip_install .`.
   */
  pythonSdist?: boolean;
  /** Sage's `spkg-configure.m4` (how configure decides whether the system provides it), if any. */
  configureM4: string | null;
  /**
   * Sage's hooks too: preinst runs before the build, postinst after the install landed (merge,
   * pip); prerm, piprm, postrm are installed for uninstalling (hooks.ts); legacyUninstall
   * (`spkg-legacy-uninstall`) removes an old install that has no file list.
   */
  scripts: { build?: Script; install?: Script; check?: Script; preinst?: Script; postinst?: Script; prerm?: Script; piprm?: Script; postrm?: Script; legacyUninstall?: Script };
  /** Absolute path of the in-tree `src/` if present. */
  src: string | null;
  patches: string[];
  /** The requirement line(s) of a pip-kind package. */
  requirements: string | null;
  /** Installs into SAGE_VENV rather than SAGE_LOCAL (Python packages). */
  python: boolean;
  /** Files whose content defines the recipe (for fingerprints and watch mode). */
  files: string[];
  /** Synthesised by sagebuild rather than read from pkgs/. */
  builtin?: boolean;
}

export const VERSION_RE = /^(.*)\.p([0-9]+)$/;

export function upstreamVersionOf(version: string): string {
  const m = VERSION_RE.exec(version);
  return m ? m[1]! : version;
}

/**
 * Reads every recipe below `pkgsDir`. Problems go to `diags` (all of them, not just the first);
 * the names of recipes that have problems go to `broken`, so that later stages do not report
 * their dependents as depending on a package with no recipe.
 */
export interface ReadOptions {
  /** Picks one of several `tarball=` groups (called only when there are several). */
  chooseTarball(name: string, groups: Checksums[], upstreamVersion: string): Checksums;
  /** Packages that count as having a version_requirements.txt (Sage's bootstrap generates theirs). */
  pythonNames?: Set<string>;
  /** Recipes read before, taken when their folder is unchanged (recipecache.ts). */
  cache?: RecipeCache;
}

/** Without an interpreter to ask: the first group, as a checksums.ini with one group has. */
const FIRST_GROUP: ReadOptions = { chooseTarball: (_n, groups) => groups[0]! };

export function readRecipes(pkgsDir: string, diags: Diagnostic[], broken: Set<string>, opts: ReadOptions = FIRST_GROUP): Map<string, Recipe> {
  let entries: string[];
  try {
    entries = readdirSync(pkgsDir).sort();
  } catch (e) {
    throw new UserError({ file: pkgsDir, message: `cannot read the recipe tree: ${(e as Error).message}`, hint: 'set `pkgs:` in build.config.yaml or pass --pkgs DIR' });
  }
  const out = new Map<string, Recipe>();
  const { cache } = opts;
  for (const name of entries) {
    const dir = path.join(pkgsDir, name);
    const python = !!opts.pythonNames?.has(name);
    const cached = cache?.get(name, dir, python);
    if (cached) {
      out.set(name, cached);
      continue;
    }
    const snap = cache?.snapshot(dir) ?? null;
    const before = diags.length;
    // A tarball picked by the interpreter's tags is that interpreter's: such a recipe is not cached.
    let asked = false;
    const r = readRecipe(name, dir, diags, { ...opts, chooseTarball: (...a) => ((asked = true), opts.chooseTarball(...a)) });
    if (r) out.set(name, r);
    else if (diags.length > before) broken.add(name);
    if (r && snap && !asked && diags.length === before) cache!.put(name, snap, python, r);
  }
  return out;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** A file a recipe has must be usable: a dangling link, a non-file or an unreadable file is an error (to `diags`). */
function usableFile(p: string, what: string, diags: Diagnostic[]): boolean {
  const st = statOrNull(p);
  if (!st) {
    if (lstatOrNull(p)) diags.push({ file: p, message: 'broken symlink: its target does not exist', hint: 'fix or remove the link' });
    return false;
  }
  if (!st.isFile()) {
    diags.push({ file: p, message: 'expected a regular file' });
    return false;
  }
  if (!accessible(p, constants.R_OK)) {
    diags.push({ file: p, message: `cannot read ${what}: permission denied`, hint: 'check its permissions' });
    return false;
  }
  return true;
}

function readRecipe(name: string, dir: string, diags: Diagnostic[], opts: ReadOptions): Recipe | null {
  // One readdir per recipe, then stat only what exists: failed stats (exceptions) are what
  // would make reading a 400-recipe tree slow.
  let present: Set<string>;
  try {
    present = new Set(readdirSync(dir));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'ENOENT') return null; // not a directory
    diags.push({ file: dir, message: `cannot read the recipe folder: ${code ?? (e as Error).message}`, hint: 'check its permissions' });
    return null;
  }
  const has = (f: string) => present.has(f);
  const typeFile = path.join(dir, 'type');
  const files: string[] = [];
  const read = (f: string): string | null => {
    const p = path.join(dir, f);
    if (!has(f) || !usableFile(p, 'recipe file', diags)) return null;
    try {
      const t = readFileSync(p, 'utf8');
      files.push(p);
      return t;
    } catch (e) {
      diags.push({ file: p, message: `cannot read recipe file: ${(e as Error).message}`, hint: 'check its permissions' });
      return null;
    }
  };
  const typeText = read('type');
  if (typeText === null) return null; // not a package (Sage skips dirs without `type`)
  const before = diags.length;
  if (!/^[a-z0-9_]+$/.test(name)) {
    diags.push({ file: dir, message: `invalid package name '${name}'`, hint: 'names are lowercase letters, digits and _ (never -), as in Sage' });
  }
  const typeWord = typeText.trim().split(/\s+/)[0] ?? '';
  if (!(PKG_TYPES as readonly string[]).includes(typeWord)) {
    diags.push({ file: typeFile, line: 1, message: `bad package type '${typeWord}'`, hint: `one of: ${PKG_TYPES.join(', ')}` });
  }
  const versionText = read('package-version.txt');
  let version = 'none';
  if (versionText !== null) {
    version = (versionText.split('\n')[0] ?? '').trim();
    // The version names files (manifests, logs, build dirs): no '/', no spaces, no '..'.
    if (!/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(version) || version.includes('..')) {
      diags.push({ file: path.join(dir, 'package-version.txt'), line: 1, message: `bad version '${version}'`, hint: 'one word of letters, digits and . _ + ~ -, e.g. 6.3.0 or 6.3.0.p1' });
    }
  }
  const depLine = (f: string): DepLine | null => {
    const t = read(f);
    if (t === null) return null;
    const first = (t.split('\n')[0] ?? '').replace(/#.*$/, '').trim();
    return { file: path.join(dir, f), text: first };
  };
  // Build-only problems: reported when something needs the package built, not at load time.
  const problems: Diagnostic[] = [];
  const checksumsText = read('checksums.ini');
  let checksums: Checksums | null = null;
  let listsWheels = false;
  if (checksumsText !== null) {
    const groups = parseChecksums(path.join(dir, 'checksums.ini'), checksumsText, problems);
    listsWheels = groups.some((g) => g.tarball.endsWith('.whl'));
    if (groups.length) checksums = groups.length === 1 ? groups[0]! : opts.chooseTarball(name, groups, upstreamVersionOf(version));
  }
  /** A script file that is present must be usable: a dangling or unreadable one is an error, not a missing script. */
  const usable = (f: string): boolean => has(f) && usableFile(path.join(dir, f), 'recipe file', diags);
  const script = (base: string): Script | undefined => {
    const body = path.join(dir, `${base}.in`);
    if (usable(`${base}.in`)) {
      files.push(body);
      return { path: body, isBody: true };
    }
    const exe = path.join(dir, base);
    if (usable(base)) {
      files.push(exe);
      return { path: exe, isBody: false };
    }
    return undefined;
  };
  const scripts = {
    build: script('spkg-build'),
    install: script('spkg-install'),
    check: script('spkg-check'),
    preinst: script('spkg-preinst'),
    postinst: script('spkg-postinst'),
    prerm: script('spkg-prerm'),
    piprm: script('spkg-piprm'),
    postrm: script('spkg-postrm'),
    legacyUninstall: script('spkg-legacy-uninstall'),
  };
  const requirements = read('requirements.txt');
  const versionReq = read('version_requirements.txt');
  const treesTxt = read('trees.txt');
  const srcPath = path.join(dir, 'src');
  const src = has('src') && statOrNull(srcPath)?.isDirectory() ? srcPath : null;
  const patchDir = path.join(dir, 'patches');
  let patches: string[] = [];
  if (has('patches') && statOrNull(patchDir)?.isDirectory()) {
    try {
      patches = readdirSync(patchDir)
        .filter((f) => f.endsWith('.patch'))
        .sort()
        .map((f) => path.join(patchDir, f));
    } catch (e) {
      diags.push({ file: patchDir, message: `cannot read the patches folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'check its permissions' });
    }
    for (const p of patches) usableFile(p, 'patch', diags);
    files.push(...patches);
  }

  const kind = sageKind({ requirements: requirements !== null, tarball: checksums?.tarball ?? null, installScript: !!scripts.install });
  const facts = kindOf({ kind });
  const pythonSdist = facts.tarball === 'unpacked' && listsWheels;
  if (facts.installs && !scripts.install && !facts.defaultInstall({ pythonSdist })) {
    // Sage's `configure` (base): a tarball and nothing that installs it.
    problems.push({ file: path.join(dir, 'spkg-install.in'), message: `package '${name}' has a source tarball (checksums.ini) but no spkg-install.in or spkg-install, so it cannot be installed`, hint: 'add an spkg-install.in body that installs into $SAGE_DESTDIR (e.g. sdh_configure; sdh_make; sdh_make_install)' });
  }
  if (facts.tarball && versionText === null) {
    problems.push({ file: path.join(dir, 'package-version.txt'), message: `package '${name}' has a tarball but no package-version.txt`, hint: 'add package-version.txt with the upstream version' });
  }
  if (diags.length > before) return null;
  return {
    name,
    dir,
    type: typeWord as PkgType,
    kind,
    version,
    upstreamVersion: upstreamVersionOf(version),
    deps: depLine('dependencies'),
    depsOrderOnly: depLine('dependencies_order_only'),
    depsCheck: depLine('dependencies_check'),
    depsOptional: depLine('dependencies_optional'),
    checksums,
    problems,
    configureM4: has('spkg-configure.m4') ? path.join(dir, 'spkg-configure.m4') : null,
    scripts,
    src,
    patches,
    requirements: requirements === null ? null : requirements.trim(),
    python: pythonTree(treesTxt, facts.python || versionReq !== null || !!opts.pythonNames?.has(name) || pythonSdist || pipInstalls(scripts.install)),
    ...(pythonSdist ? { pythonSdist } : {}),
    files: files.sort(),
  };
}

/**
 * Whether the package installs into SAGE_VENV, as Sage's `Package.trees` decides: `trees.txt`
 * first (SAGE_DOCS is the prefix, as Sage's default), else a Python package. Sage counts only
 * (version_)requirements.txt; sagebuild also counts wheels and recipes whose install script
 * pip-installs, since pip puts them into the venv whatever the tree (README: differences).
 */
function pythonTree(treesTxt: string | null, isPython: boolean): boolean {
  const tree = treesTxt?.trim().split(/\s+/)[0];
  if (tree === 'SAGE_VENV') return true;
  if (tree === 'SAGE_LOCAL' || tree === 'SAGE_DOCS') return false;
  return isPython;
}

/** The install script stores or pip-installs a wheel (sdh_pip_install and friends). */
function pipInstalls(script: Script | undefined): boolean {
  if (!script) return false;
  try {
    return /\bsdh_(pip_install|pip_editable_install|store_and_pip_install_wheel|store_wheel|build_and_store_wheel)\b/.test(readFileSync(script.path, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The `tarball=` groups of a checksums.ini (several for platform wheels: each `tarball=` starts
 * one). Problems go to `problems`; groups that cannot be used are left out.
 */
export function parseChecksums(file: string, text: string, problems: Diagnostic[]): Checksums[] {
  const groups: { line: number; kv: Record<string, string> }[] = [];
  let cur: { line: number; kv: Record<string, string> } | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) {
      problems.push({ file, line: i + 1, message: `expected key=value, got '${line}'` });
      continue;
    }
    const k = line.slice(0, eq).trim();
    if (!cur || (k === 'tarball' && 'tarball' in cur.kv)) {
      cur = { line: i + 1, kv: {} };
      groups.push(cur);
    }
    if (!(k in cur.kv)) cur.kv[k] = line.slice(eq + 1).trim();
  }
  const out: Checksums[] = [];
  for (const { line, kv } of groups) {
    if (!kv.tarball) {
      problems.push({ file, line, message: 'checksums.ini has no tarball= line', hint: 'e.g. tarball=foo-VERSION.tar.gz' });
    } else if (kv.tarball.includes('/') || kv.tarball.startsWith('.')) {
      problems.push({ file, line, message: `tarball=${kv.tarball} must be a plain file name (it is looked up in, and downloaded into, the upstream folder)` });
    } else if (!kv.sha256 && !kv.sha1) {
      problems.push({ file, line, message: `checksums.ini has neither sha256= nor sha1= for ${kv.tarball}`, hint: 'add sha256=<hex digest of the tarball>' });
    } else out.push({ file, tarball: kv.tarball, sha256: kv.sha256, sha1: kv.sha1, upstreamUrl: kv.upstream_url });
  }
  return out;
}

/** The file name of a recipe's chosen tarball (it has `checksums`). */
export function tarballName(r: Recipe): string {
  return substituteVersion(r.checksums!.tarball, r.upstreamVersion);
}

/** Where a recipe's tarball is kept: the upstream folder. */
export function tarballPath(config: Config, r: Recipe): string {
  return path.join(config.upstream, tarballName(r));
}

/** Substitutes VERSION (and VERSION_MAJOR/_MINOR/_MICRO, with or without ${}) in a pattern. */
export function substituteVersion(pattern: string, upstreamVersion: string): string {
  const [major = '', minor = '', micro = ''] = upstreamVersion.split('.');
  const vals: Record<string, string> = { VERSION: upstreamVersion, VERSION_MAJOR: major, VERSION_MINOR: minor, VERSION_MICRO: micro };
  return pattern.replace(/\$\{(VERSION(?:_MAJOR|_MINOR|_MICRO)?)\}|(VERSION(?:_MAJOR|_MINOR|_MICRO)?)/g, (_m, a: string | undefined, b: string | undefined) => vals[(a ?? b)!]!);
}
