// The graphs the benchmark builds and the two equivalent build descriptions written for each:
// a sagebuild recipe tree (pkgs/, build.config.yaml) and a GNU make Makefile of stamp files.
// Every recipe is `sleep <d>` and then installs its marker file (the make target touches its
// stamp), so both tools do the same work and only orchestration differs.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeSageTree, type SageGraph, type SagePkg } from '../test/fixtures/sage-tree.ts';
import { heavyTailed, rng } from './stats.ts';

/** Seconds of `sleep` per package (0 for the recipe-less `none` packages). */
export type Durations = Map<string, number>;

const VENV = 'python3_venv';

function pkg(name: string, deps: string[]): SagePkg {
  return {
    name, type: 'standard', version: '1', kind: 'script', deps, order_only_deps: [], check_deps: [],
    optional_if_installed_deps: [], file_deps: [], force: false, upstream_tarball: null,
  };
}

/**
 * Sage's graph as the benchmark builds it: `python3_venv` (which `$(PYTHON)` names, a venv that
 * sagebuild would otherwise create with python) becomes a recipe of its own, like every other,
 * so both tools build the same 437 sleep recipes (Sage's `configure` left out, below). `max` keeps only the first packages (in the
 * file's order) whose dependency closure fits: the quick mode's smaller graph of the same shape;
 * without it the whole graph.
 */
export function sageBenchGraph(sage: SageGraph, max = Infinity): SageGraph {
  const byName = new Map(sage.packages.map((p) => [p.name, p]));
  const keep = new Set<string>();
  const closure = (name: string, into: Set<string>): void => {
    if (into.has(name) || keep.has(name) || name === VENV) return;
    into.add(name);
    const p = byName.get(name);
    if (!p) throw new Error(`Sage graph: unknown dependency ${name}`);
    for (const d of [...p.deps, ...p.order_only_deps]) closure(d, into);
  };
  for (const p of sage.packages) {
    // Sage's `configure` (the confball, type base) is not part of `all` in Sage or sagebuild,
    // and nothing depends on it: GNU make's Makefile would build one sleep more.
    if (p.name === 'configure') continue;
    const add = new Set<string>();
    closure(p.name, add);
    if (keep.size + add.size + 1 <= max) for (const n of add) keep.add(n);
  }
  const sub = (xs: string[]): string[] => xs.filter((x) => keep.has(x) || x === VENV);
  const packages = sage.packages.filter((p) => keep.has(p.name)).map((p) => ({
    ...p,
    check_deps: sub(p.check_deps),
    optional_if_installed_deps: sub(p.optional_if_installed_deps),
  }));
  return { packages: [pkg(VENV, []), ...packages], variables: sage.variables };
}

/** `n` packages, each depending on up to 3 random earlier ones (seeded). */
export function randomGraph(n: number, seed: number): SageGraph {
  const r = rng(seed);
  const width = String(n).length;
  const name = (i: number): string => `p${String(i).padStart(width, '0')}`;
  const packages: SagePkg[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    const k = i ? Math.floor(r() * 4) : 0;
    for (let j = 0; j < k; j++) deps.add(name(Math.floor(r() * i)));
    packages.push(pkg(name(i), [...deps]));
  }
  return { packages, variables: {} };
}

export const hasRecipe = (p: SagePkg): boolean => p.kind !== 'none';

/** `total` seconds of seeded heavy-tailed work spread over the packages that have a recipe. */
export function durations(g: SageGraph, total: number, seed: number): Durations {
  const built = g.packages.filter(hasRecipe);
  const d = heavyTailed(built.length, total, seed);
  const out: Durations = new Map(g.packages.map((p) => [p.name, 0]));
  built.forEach((p, i) => out.set(p.name, d[i]!));
  return out;
}

/**
 * The edges both tools order by: normal and order-only dependencies, where an order-only one
 * that closes a cycle is dropped (Sage's sphinx | sphinxcontrib_websupport; sagebuild breaks
 * order-only cycles too).
 */
export function edges(g: SageGraph): Map<string, { normal: string[]; orderOnly: string[] }> {
  const deps = new Map(g.packages.map((p) => [p.name, p.deps]));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const n = stack.pop()!;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(deps.get(n) ?? []));
    }
    return false;
  };
  return new Map(g.packages.map((p) => [p.name, { normal: p.deps, orderOnly: p.order_only_deps.filter((d) => !reaches(d, p.name)) }]));
}

/** The longest chain of durations (seconds) along `edges`. */
export function criticalPath(g: SageGraph, d: Durations): number {
  const e = edges(g);
  const memo = new Map<string, number>();
  const finish = (n: string): number => {
    const m = memo.get(n);
    if (m !== undefined) return m;
    const { normal, orderOnly } = e.get(n)!;
    let start = 0;
    for (const x of [...normal, ...orderOnly]) start = Math.max(start, finish(x));
    const f = start + d.get(n)!;
    memo.set(n, f);
    return f;
  };
  let cp = 0;
  for (const p of g.packages) cp = Math.max(cp, finish(p.name));
  return cp;
}

/** max(critical path, total work / jobs), in seconds: no scheduler can finish sooner. */
export function lowerBound(g: SageGraph, d: Durations, jobs: number): { bound: number; cp: number; work: number } {
  const cp = criticalPath(g, d);
  const work = [...d.values()].reduce((a, b) => a + b, 0);
  return { bound: Math.max(cp, work / jobs), cp, work };
}

export const MARKERS = 'local/share/sagetree';
export const STAMPS = 'stamps';

/** The recipe tree, its build.config.yaml and the Makefile, in `dir`. */
export function writeBenchTree(dir: string, g: SageGraph, d: Durations, jobs: number): void {
  writeSageTree(g, dir, {
    allScripts: true,
    noForce: true, // FORCE would rebuild sagelib and sagemath_objects on every no-op
    body: (p) => `sleep ${d.get(p.name)}\nmkdir -p "$SAGE_DESTDIR_LOCAL/share/sagetree" && echo "$PKG_NAME" > "$SAGE_DESTDIR_LOCAL/share/sagetree/${p.name}"\n`,
  });
  for (const p of g.packages) {
    for (const f of p.file_deps) {
      const file = path.join(dir, f.replace('$(SAGE_SRC)', 'src'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, '', { flag: 'a' });
    }
  }
  // Everything builds: optional and experimental packages are listed.
  const optional = g.packages.filter((p) => p.type !== 'standard' && p.type !== 'base' && hasRecipe(p)).map((p) => p.name);
  writeFileSync(path.join(dir, 'build.config.yaml'), `prefix: local\nlogs: logs\noptional: [${optional.join(', ')}]\njobs: ${jobs}\n`);

  // GNU make's peer: one stamp per package, prerequisites = normal | order-only dependencies.
  const e = edges(g);
  const mk: string[] = [`STAMPS := ${STAMPS}`, 'all: ' + g.packages.map((p) => `$(STAMPS)/${p.name}`).join(' '), ''];
  for (const p of g.packages) {
    const { normal, orderOnly } = e.get(p.name)!;
    const s = (xs: string[]): string => xs.map((x) => `$(STAMPS)/${x}`).join(' ');
    mk.push(`$(STAMPS)/${p.name}: ${s(normal)}${orderOnly.length ? ` | ${s(orderOnly)}` : ''}`, `\t@sleep ${d.get(p.name)} && mkdir -p $(STAMPS) && touch $@`, '');
  }
  writeFileSync(path.join(dir, 'Makefile'), mk.join('\n'));
}
