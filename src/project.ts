// Analysis: config + recipe tree -> validated, resolved package graph. Nothing runs until this
// succeeded, and it reports every recipe problem at once.
import type { Config } from './config.js';
import { UserError, closest, type Diagnostic } from './diagnostics.js';
import { resolveAll, type ResolvedDeps } from './deps.js';
import { buildGraph } from './graph.js';
import { readRecipes, type Recipe } from './recipes.js';
import { builtinRecipes } from './builtins.js';

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
}

export function analyze(config: Config): Project {
  // Every stage runs even when an earlier one found problems, so that all are reported at once.
  const diags: Diagnostic[] = [];
  const broken = new Set<string>();
  const warnings: string[] = [];
  const recipes = readRecipes(config.pkgs, diags, broken, warnings);
  for (const b of builtinRecipes(config)) if (!recipes.has(b.name)) recipes.set(b.name, b);
  for (const o of config.optional) {
    if (recipes.has(o) || broken.has(o)) continue;
    const near = closest(o, recipes.keys());
    diags.push({ file: config.configFile ?? undefined, ...config.optionalAt[o], message: `'optional:' names '${o}', which has no recipe in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : undefined });
  }
  const treeOf = (r: Recipe) => (r.python ? config.venv : config.prefix);
  const enabled = new Set<string>();
  for (const r of recipes.values()) if (r.type === 'standard' || r.type === 'base') enabled.add(r.name);
  for (const o of config.optional) enabled.add(o);
  const checkFor = (_name: string) => config.check;
  const resolved = resolveAll({
    recipes,
    variables: config.variables,
    root: config.root,
    sageSrc: config.sageSrc,
    treeOf,
    prefix: config.prefix,
    venv: config.venv,
    enabled,
    checkFor,
    warn: (m) => warnings.push(m),
    broken,
  }, diags);
  const graph = buildGraph(recipes, resolved, (m) => warnings.push(m), diags);
  if (diags.length) throw new UserError(diags);
  return {
    config,
    recipes,
    deps: graph.deps,
    order: graph.order,
    warnings,
    treeOf,
    // Built-ins (the venv) are built when something needs them, as Sage's virtual targets are.
    allTargets: () => [...recipes.values()].filter((r) => !r.builtin && (r.type === 'base' || r.type === 'standard' || config.optional.includes(r.name))).map((r) => r.name),
    checkFor,
  };
}
