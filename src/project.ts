// Analysis: config + recipe tree -> validated, resolved package graph. Nothing runs until this
// succeeded, and it reports every recipe problem at once.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { UserError, closest, type Diagnostic } from './diagnostics.js';
import { DEFAULT_VARIABLES, resolveAll, type ResolveContext, type ResolvedDeps } from './deps.js';
import { buildGraph, type PkgGraph } from './graph.js';
import { createHash } from 'node:crypto';
import { readRecipes, substituteVersion, type Checksums, type Recipe } from './recipes.js';
import { BUILTIN_NAMES, builtinRecipes } from './builtins.js';
import { askPython } from './python/interpreter.js';
import { chooseTarball, interpreterTags } from './python/tags.js';
import { readSageTree } from './sagetree.js';
import type { RecipeCache } from './recipecache.js';

export interface Project {
  config: Config;
  recipes: Map<string, Recipe>;
  deps: Map<string, ResolvedDeps>;
  /** Dependencies before dependents. */
  order: string[];
  warnings: string[];
  /** SAGE_LOCAL or SAGE_VENV: where a package's files and manifest live. */
  treeOf(r: Recipe): string;
  /** Packages making up `all`. */
  allTargets(): string[];
  checkFor(name: string): boolean;
  /**
   * Packages the system provides in this run (name -> evidence), as `sagebuild configure`
   * decided and overrides changed: they install nothing and satisfy their dependents, as Sage's
   * dummy packages do. Empty until decided (systempkgs.ts).
   */
  system: Map<string, string>;
  /** Variables Sage's configure exports for them (SAGE_GMP_PREFIX...), for recipes' environments. */
  systemExports: Record<string, string>;
  /** The recipes' cache (main.ts's; none in watch mode and most tests): fingerprints keep their recipe hashes in it. */
  recipeCache?: RecipeCache;
}

/**
 * Async only to ask the configured interpreter (a step of its own, its start-up overlapping the
 * reading of the tree): the venv's version is its answer, as plain data for everything after.
 * Asked only when the answer is needed: for the built-in venv (a tree without its own
 * python3_venv recipe), or for the fingerprints of Python packages (then awaited at the end, so
 * that they find it); a tree of neither starts no Python (unless the prefix remembers the answer,
 * it would take a process, through a pyenv shim several).
 */
export async function analyze(config: Config, recipeCache?: RecipeCache): Promise<Project> {
  const needsBuiltins = BUILTIN_NAMES.some((n) => !existsSync(path.join(config.pkgs, n, 'type')));
  let python = needsBuiltins ? askPython(config.python) : null;
  // Every stage runs even when an earlier one found problems, so that all are reported at once.
  const diags: Diagnostic[] = [];
  const broken = new Set<string>();
  const warnings: string[] = [];
  // Several tarball= groups (platform wheels): ask the interpreter for its tags once, if at all.
  let tags: string[] | null | undefined;
  const choose = (name: string, groups: Checksums[], upstreamVersion: string): Checksums => {
    if (tags === undefined) {
      tags = interpreterTags(config.python);
      if (!tags) warnings.push(`cannot ask '${config.python}' for its wheel tags (needs the packaging module or pip): packages that list several tarballs use their source tarball`);
    }
    const named = groups.map((g) => ({ g, tarball: substituteVersion(g.tarball, upstreamVersion) }));
    return chooseTarball(named, tags).chosen.g;
  };
  const tree = readSageTree(config.pkgs);
  const recipes = readRecipes(config.pkgs, diags, broken, { chooseTarball: choose, pythonNames: tree.bootstrapPython, cache: recipeCache });
  // Before dependencies are expanded: $(vers_python3_venv) is the venv's version.
  if (BUILTIN_NAMES.some((n) => !recipes.has(n))) {
    python ??= askPython(config.python);
    for (const b of builtinRecipes(await python)) if (!recipes.has(b.name)) recipes.set(b.name, b);
  }
  // Python packages' fingerprints name the interpreter: asked meanwhile.
  if (!python && [...recipes.values()].some((r) => r.python)) python = askPython(config.python);
  for (const o of config.optional) {
    if (recipes.has(o) || broken.has(o)) continue;
    const near = closest(o, recipes.keys());
    diags.push({ file: config.configFile ?? undefined, ...config.optionalAt[o], message: `'optional:' names '${o}', which has no recipe in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : undefined });
  }
  for (const name of Object.keys(config.system)) {
    if (recipes.has(name) || broken.has(name)) continue;
    const near = closest(name, recipes.keys());
    diags.push({ file: config.configFile ?? undefined, ...config.systemAt[name], message: `'system:' names '${name}', which has no recipe in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : undefined });
  }
  const treeOf = (r: Recipe) => (r.python ? config.venv : config.prefix);
  const enabled = new Set<string>();
  for (const r of recipes.values()) if (r.type === 'standard') enabled.add(r.name);
  for (const o of config.optional) enabled.add(o);
  const checkFor = (_name: string) => config.check;
  // Warnings of the expansion and the graph: kept with them when they are cached.
  const derived: string[] = [];
  let wildcard = false;
  const ctx: ResolveContext = {
    recipes,
    // Built-in defaults < the tree's own build/make/Makefile.in < build.config.yaml.
    variables: { ...DEFAULT_VARIABLES, ...tree.variables, ...config.variables },
    root: config.root,
    // Sage's make runs in build/make: relative file prerequisites resolve there.
    makeDir: tree.makeDir ?? config.root,
    sageSrc: config.sageSrc,
    treeOf,
    prefix: config.prefix,
    venv: config.venv,
    enabled,
    checkFor,
    warn: (m) => derived.push(m),
    broken,
    onWildcard: () => (wildcard = true),
  };
  // Expansion and graph are a function of the recipes and the settings alone (unless a wildcard
  // reads folders): the same inputs as last time give the same result, taken from the cache.
  const key = recipeCache && !diags.length ? analysisKey(ctx, config.check) : null;
  const memo = key ? recipeCache!.analysis(key) : null;
  let graph: PkgGraph;
  if (memo) {
    graph = { deps: new Map(memo.deps), order: memo.order };
    warnings.push(...memo.warnings);
  } else {
    graph = buildGraph(recipes, resolveAll(ctx, diags), (m) => derived.push(m), diags);
    warnings.push(...derived);
    if (key && !diags.length && !wildcard) recipeCache!.setAnalysis(key, { deps: [...graph.deps], order: graph.order, warnings: derived });
  }
  recipeCache?.save(new Set(recipes.keys()));
  if (diags.length) throw new UserError(diags);
  await python;
  return {
    config,
    recipes,
    deps: graph.deps,
    order: graph.order,
    warnings,
    treeOf,
    // Built-ins (the venv) are built when something needs them, as Sage's virtual targets are;
    // base packages (Sage's `configure`) are never part of Sage's `all`.
    allTargets: () => [...recipes.values()].filter((r) => !r.builtin && (r.type === 'standard' || config.optional.includes(r.name))).map((r) => r.name),
    checkFor,
    system: new Map(),
    systemExports: {},
    ...(recipeCache ? { recipeCache } : {}),
  };
}

/** Everything expansion and the graph depend on, hashed (the recipes as plain data, in the tree's order). */
function analysisKey(ctx: ResolveContext, check: boolean): string {
  const { recipes, variables, root, makeDir, sageSrc, prefix, venv, enabled, broken } = ctx;
  const data = [[...recipes], variables, root, makeDir, sageSrc, prefix, venv, [...enabled].sort(), [...broken].sort(), check];
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}
