// Resolves the GNU-make prerequisite lines of Sage recipes (`a b $(VAR) | c d`) into package
// edges, file prerequisites and FORCE, the way Sage's generated Makefile reads them.
import { existsSync, readdirSync } from 'node:fs';
import { fileGlob } from './util/glob.js';
import path from 'node:path';
import { type Diagnostic, closest } from './diagnostics.js';
import type { DepLine, Recipe } from './recipes.js';
import { kindOf } from './kinds.js';
import { INSTALLED_RELDIR, installedDir } from './state/layout.js';

export interface ResolvedDeps {
  /** Normal prerequisites: their rebuild rebuilds this package. */
  normal: string[];
  /** Order-only prerequisites: must be installed first, never trigger a rebuild. */
  orderOnly: string[];
  /** File prerequisites (absolute paths): a newer/changed file rebuilds the package. */
  files: string[];
  force: boolean;
}

/** Sage's current defaults (build/make/Makefile.in); config `variables:` overrides them. */
export const DEFAULT_VARIABLES: Record<string, string[]> = {
  PYTHON: ['python3_venv'],
  MP_LIBRARY: ['gmp'],
  BLAS: ['openblas'],
  PYTHON_TOOLCHAIN: ['setuptools', 'pip', 'setuptools_scm', 'wheel', 'flit_core', 'hatchling', 'python_build', 'meson_python'],
  SAGERUNTIME: ['sagelib', '$(inst_ipython)', '$(inst_pexpect)'],
  TOOLCHAIN: ['gcc'],
  SCRIPTS: [],
  PCFILES: [],
};


export interface ResolveContext {
  recipes: Map<string, Recipe>;
  /** Every make variable in force (defaults, the tree's Makefile.in, the config). */
  variables: Record<string, string[]>;
  root: string;
  /** Where relative file prerequisites resolve (Sage's make runs in build/make). */
  makeDir: string;
  sageSrc: string;
  /** Installation tree of each package (SAGE_LOCAL or SAGE_VENV), for stamp paths. */
  treeOf: (r: Recipe) => string;
  prefix: string;
  venv: string;
  /** standard packages + enabled optional ones (Sage's OPTIONAL_INSTALLED_PACKAGES). */
  enabled: Set<string>;
  checkFor: (name: string) => boolean;
  warn: (msg: string) => void;
  /** Recipes that exist but have errors of their own. */
  broken: Set<string>;
  /** Told when a file prerequisite has wildcards: the result then depends on the folders' contents. */
  onWildcard?: () => void;
}

/** Resolves every recipe's dependencies; problems go to `diags`, and those recipes are left out. */
export function resolveAll(ctx: ResolveContext, diags: Diagnostic[]): Map<string, ResolvedDeps> {
  const out = new Map<string, ResolvedDeps>();
  for (const r of ctx.recipes.values()) {
    const before = diags.length;
    const d = resolveOne(r, ctx, diags);
    if (diags.length === before) out.set(r.name, d);
  }
  return out;
}

function resolveOne(r: Recipe, ctx: ResolveContext, diags: Diagnostic[]): ResolvedDeps {
  // Compose the make prerequisite list exactly as m4/sage_spkg_collect.m4 does.
  type Piece = { words: string[]; file: string };
  const pieces: Piece[] = [];
  const err = (file: string, message: string, hint?: string) => diags.push({ file, line: 1, message, hint });
  const expandLine = (line: DepLine | null): Piece | null => {
    if (!line) return null;
    // Every bad reference on the line is reported, and the words around them are still checked.
    const errors: ExpandError[] = [];
    const words = expand(line.text, r, ctx, errors);
    for (const e of errors) err(line.file, e.message, e.hint);
    return { words, file: line.file };
  };
  const main = expandLine(r.deps) ?? { words: [], file: r.deps?.file ?? path.join(r.dir, 'dependencies') };
  pieces.push(main);
  const opt = expandLine(r.depsOptional);
  if (opt) pieces.push({ file: opt.file, words: opt.words.filter((w) => ctx.enabled.has(w)) });
  if (!pieces.some((p) => p.words.includes('|'))) pieces.push({ words: ['|'], file: main.file });
  const oo = expandLine(r.depsOrderOnly);
  if (oo) pieces.push(oo);
  else pieces.push({ words: kindOf(r).defaultOrderOnly.filter((d) => d !== r.name && ctx.recipes.has(d)), file: main.file });
  // Sage adds check dependencies as $(and $(filter-out no,$(SAGE_CHECK_<pkg>)),...): only
  // the kinds that have SAGE_CHECK_<pkg> set (pip packages never get them).
  if (r.depsCheck && sageCheckOf(r, ctx) !== '' && sageCheckOf(r, ctx) !== 'no') {
    const chk = expandLine(r.depsCheck);
    if (chk) pieces.push(chk);
  }

  const normal = new Set<string>();
  const orderOnly = new Set<string>();
  const files = new Set<string>();
  let force = false;
  let afterBar = false;
  const installedDirs = [...new Set([ctx.prefix, ctx.venv])].map((t) => installedDir(t) + path.sep);
  for (const piece of pieces) {
    for (const w of piece.words) {
      if (w === '|') {
        afterBar = true;
        continue;
      }
      if (w === 'FORCE') {
        force = true;
        continue;
      }
      let dep: string | null = null;
      if (w.includes('/')) {
        const abs = path.resolve(ctx.makeDir, w);
        const stampDir = installedDirs.find((d) => abs.startsWith(d));
        if (stampDir) {
          // A stamp path such as $(SAGE_LOCAL)/$(SPKG_INST_RELDIR)/nauty-$(vers_nauty).
          dep = abs.slice(stampDir.length).split('-')[0]!;
          if (!ctx.recipes.has(dep)) {
            err(piece.file, `stamp prerequisite '${w}' names package '${dep}', which has no recipe`);
            continue;
          }
        } else {
          if (/[*?[]/.test(abs)) ctx.onWildcard?.();
          for (const f of expandWildcard(abs)) files.add(f);
          continue;
        }
      } else {
        dep = w;
      }
      if (!ctx.recipes.has(dep)) {
        if (ctx.broken.has(dep)) continue; // its recipe's own error is reported already
        const near = closest(dep, ctx.recipes.keys());
        err(piece.file, `dependency '${dep}' of package '${r.name}' has no recipe`, near ? `did you mean '${near}'? (no directory ${dep}/ with a 'type' file in the recipe tree)` : `add a recipe directory '${dep}/' with a 'type' file, or remove the dependency`);
        continue;
      }
      if (dep === r.name) {
        // make only warns ("Circular a <- a dependency dropped"), but a cycle of normal edges is an
        // error here, and this is the shortest one; Sage's own tree has none.
        err(piece.file, `package '${r.name}' depends on itself`, `remove '${r.name}' from ${path.basename(piece.file)}`);
        continue;
      }
      (afterBar ? orderOnly : normal).add(dep);
    }
  }
  for (const n of normal) orderOnly.delete(n); // make: a name on both sides is a normal prerequisite
  return { normal: [...normal], orderOnly: [...orderOnly], files: [...files], force };
}

/** $(SAGE_CHECK_<pkg>): set (yes/no) for Sage's NORMAL_PACKAGES and SCRIPT_PACKAGES, undefined (empty) otherwise. */
function sageCheckOf(r: Recipe, ctx: ResolveContext): string {
  if (!kindOf(r).sageCheck) return '';
  return ctx.checkFor(r.name) ? 'yes' : 'no';
}

/**
 * A file prerequisite with wildcards expands as GNU make expands it: to the existing matches,
 * sorted; with none, the word stays as written (and make then has no rule to make it).
 */
export function expandWildcard(abs: string): string[] {
  if (!/[*?[]/.test(abs)) return [abs];
  const parts = abs.split(path.sep).filter(Boolean);
  let found: string[] = [path.sep];
  for (const part of parts) {
    const next: string[] = [];
    if (!/[*?[]/.test(part)) {
      for (const d of found) next.push(path.join(d, part));
    } else {
      const re = fileGlob(part);
      for (const d of found) {
        let names: string[];
        try {
          names = readdirSync(d);
        } catch {
          continue;
        }
        // As the shell and make: a leading dot is matched only by a pattern that starts with one.
        for (const n of names) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(path.join(d, n));
      }
    }
    found = next;
    if (!found.length) break;
  }
  const hits = found.filter((f) => existsSync(f)).sort();
  return hits.length ? hits : [abs];
}


class ExpandError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Expands make references in `text` and splits the result into words. */
function expand(text: string, r: Recipe, ctx: ResolveContext, errors: ExpandError[]): string[] {
  try {
    return expandString(text, r, ctx, 0, errors).split(/\s+/).filter(Boolean);
  } catch (e) {
    if (!(e instanceof ExpandError)) throw e;
    errors.push(e); // the line cannot be parsed (an unterminated or unsupported reference)
    return [];
  }
}

/** `errors`: collect problems with top-level references there (expanding to nothing) instead of throwing. */
function expandString(text: string, r: Recipe, ctx: ResolveContext, depth: number, errors?: ExpandError[]): string {
  if (depth > 20) throw new ExpandError('variable expansion nests too deeply (a variable refers to itself?)');
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const open = text[i + 1];
    if (open === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (open !== '(' && open !== '{') {
      throw new ExpandError(`unsupported make reference '$${open ?? ''}'`, 'write variables as $(NAME)');
    }
    const close = open === '(' ? ')' : '}';
    let level = 0;
    let j = i + 1;
    for (; j < text.length; j++) {
      if (text[j] === open) level++;
      else if (text[j] === close && --level === 0) break;
    }
    if (j >= text.length) throw new ExpandError(`unterminated '$${open}' in '${text}'`);
    try {
      out += evalRef(text.slice(i + 2, j), r, ctx, depth);
    } catch (e) {
      if (!(errors && e instanceof ExpandError)) throw e;
      errors.push(e);
    }
    i = j + 1;
  }
  return out;
}

function splitArgs(s: string): string[] {
  const args: string[] = [];
  let level = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '{') level++;
    if (ch === ')' || ch === '}') level--;
    if (ch === ',' && level === 0) {
      args.push(cur);
      cur = '';
    } else cur += ch;
  }
  args.push(cur);
  return args;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

function evalRef(ref: string, r: Recipe, ctx: ResolveContext, depth: number): string {
  const sp = ref.search(/\s/);
  if (sp > 0) {
    // A make function call: the few that Sage's recipes use.
    const fn = ref.slice(0, sp);
    const args = splitArgs(ref.slice(sp + 1)).map((a) => expandString(a, r, ctx, depth + 1));
    switch (fn) {
      case 'findstring':
        return (args[1] ?? '').includes(args[0]!.trim()) ? args[0]!.trim() : '';
      case 'filter-out': {
        const pats = new Set(words(args[0] ?? ''));
        return words(args[1] ?? '').filter((w) => !pats.has(w)).join(' ');
      }
      case 'filter': {
        const pats = new Set(words(args[0] ?? ''));
        return words(args[1] ?? '').filter((w) => pats.has(w)).join(' ');
      }
      case 'and': {
        let last = '';
        for (const a of args) {
          last = a.trim();
          if (!last) return '';
        }
        return last;
      }
      case 'or':
        return args.map((a) => a.trim()).find(Boolean) ?? '';
      default:
        throw new ExpandError(`unsupported make function '$(${fn} ...)'`, 'sagebuild understands $(findstring), $(filter), $(filter-out), $(and) and $(or)');
    }
  }
  const name = ref;
  const vars = ctx.variables;
  if (name in vars) return expandString(vars[name]!.join(' '), r, ctx, depth + 1);
  switch (name) {
    case 'SAGE_LOCAL':
      return ctx.prefix;
    case 'SAGE_VENV':
      return ctx.venv;
    case 'SAGE_ROOT':
      return ctx.root;
    case 'SAGE_SRC':
      return ctx.sageSrc;
    case 'SPKG_INST_RELDIR':
      return INSTALLED_RELDIR;
    case 'INST':
      return installedDir(ctx.prefix);
    case 'OPTIONAL_INSTALLED_PACKAGES':
      return [...ctx.enabled].join(' ');
    case 'SAGE_CHECK':
      return ctx.checkFor(r.name) ? 'yes' : 'no';
  }
  let m = /^vers_([a-z0-9_]+)$/.exec(name);
  if (m) {
    const dep = ctx.recipes.get(m[1]!);
    if (!dep) throw new ExpandError(`$(${name}) names package '${m[1]}', which has no recipe`);
    return dep.version;
  }
  m = /^inst_([a-z0-9_]+)$/.exec(name);
  if (m) {
    const dep = ctx.recipes.get(m[1]!);
    if (!dep) throw new ExpandError(`$(${name}) names package '${m[1]}', which has no recipe`);
    return path.join(installedDir(ctx.treeOf(dep)), `${dep.name}-${dep.version}`);
  }
  m = /^SAGE_CHECK_([a-z0-9_]+)$/.exec(name);
  if (m) {
    const dep = ctx.recipes.get(m[1]!);
    return dep ? sageCheckOf(dep, ctx) : '';
  }
  const known = [...Object.keys(vars), 'SAGE_LOCAL', 'SAGE_VENV', 'SAGE_ROOT', 'SAGE_SRC', 'SPKG_INST_RELDIR'];
  const near = closest(name, known);
  throw new ExpandError(`unknown variable $(${name})`, `${near ? `did you mean $(${near})? ` : ''}define it under 'variables:' in build.config.yaml`);
}
