// The package graph: detects cycles (normal-edge cycles are errors; a cycle that needs an
// order-only edge is broken there with a warning, as GNU make does) and gives a topological order.
import { Graph, alg } from '@dagrejs/graphlib';
import path from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import type { ResolvedDeps } from './deps.js';
import type { Recipe } from './recipes.js';
import { cycleThrough } from './util/dag.js';

export interface PkgGraph {
  /** Every package, dependencies before dependents. */
  order: string[];
  /** Edges after dropping order-only edges that closed a cycle. */
  deps: Map<string, ResolvedDeps>;
}

/** Edges point from a package to what it depends on. */
function makeGraph(names: Iterable<string>, deps: Map<string, ResolvedDeps>, withOrderOnly: boolean): Graph {
  const g = new Graph({ directed: true });
  for (const n of names) g.setNode(n);
  for (const [n, d] of deps) {
    for (const x of d.normal) g.setEdge(n, x, 'normal');
    if (withOrderOnly) for (const x of d.orderOnly) g.setEdge(n, x, 'order-only');
  }
  return g;
}

/** Normal-edge cycles go to `diags` (the graph returned is then not to be used). */
export function buildGraph(recipes: Map<string, Recipe>, resolved: Map<string, ResolvedDeps>, warn: (m: string) => void, diags: Diagnostic[]): PkgGraph {
  const names = [...recipes.keys()].sort();
  const normalOnly = makeGraph(names, resolved, false);
  if (!alg.isAcyclic(normalOnly)) {
    const cycles = alg.findCycles(normalOnly).map((comp) => {
      const scc = new Set(comp);
      const start = [...comp].sort()[0]!;
      const cyc = cycleThrough(start, (n) => normalOnly.successors(n) ?? [], scc);
      return {
        file: path.join(recipes.get(start)!.dir, 'dependencies'),
        message: `dependency cycle: ${cyc.join(' -> ')}`,
        hint: `break it in one of: ${[...new Set(cyc)].map((n) => path.join(recipes.get(n)!.dir, 'dependencies')).join(', ')}`,
      };
    });
    diags.push(...cycles);
    return { order: [], deps: new Map() };
  }
  // Copy so that dropping edges doesn't touch the caller's map.
  const deps = new Map<string, ResolvedDeps>();
  for (const [n, d] of resolved) deps.set(n, { ...d, orderOnly: [...d.orderOnly] });
  let full = makeGraph(names, deps, true);
  while (!alg.isAcyclic(full)) {
    const comp = alg.findCycles(full).map((c) => [...c].sort()).sort((a, b) => a[0]!.localeCompare(b[0]!))[0]!;
    const cyc = cycleThrough(comp[0]!, (n) => full.successors(n) ?? [], new Set(comp));
    // Every cycle has an order-only edge (the normal subgraph is acyclic): drop the first one.
    for (let i = 0; i + 1 < cyc.length; i++) {
      const from = cyc[i]!;
      const to = cyc[i + 1]!;
      if (full.edge(from, to) === 'order-only') {
        const d = deps.get(from)!;
        d.orderOnly = d.orderOnly.filter((x) => x !== to);
        warn(`circular ${from} <- ${to} dependency dropped (order-only edge in the cycle ${cyc.join(' -> ')})`);
        break;
      }
    }
    full = makeGraph(names, deps, true);
  }
  // topsort lists sources first; our edges point at dependencies, so reverse it.
  const order = alg.topsort(full).reverse();
  return { order, deps };
}
