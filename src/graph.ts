// The package graph: detects cycles (normal-edge cycles are errors; a cycle that needs an
// order-only edge is broken there with a warning, as GNU make does) and gives a topological order.
import path from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import type { ResolvedDeps } from './deps.js';
import type { Recipe } from './recipes.js';
import { components, cycleThrough, dependenciesFirst } from './util/dag.js';

export interface PkgGraph {
  /** Every package, dependencies before dependents. */
  order: string[];
  /** Edges after dropping order-only edges that closed a cycle. */
  deps: Map<string, ResolvedDeps>;
}

type EdgeKind = 'normal' | 'order-only';

/**
 * Edges point from a package to what it depends on. Plain Maps: an object-keyed graph library
 * cost more than the rest of the analysis on Sage's tree (a hidden class per key).
 */
interface Graph {
  /** Every node, in the order first named: `names`, then dependencies that have no recipe. */
  nodes: string[];
  out: Map<string, Map<string, EdgeKind>>;
  /** What points at a node, in the order the edges were added. */
  into: Map<string, string[]>;
}

function makeGraph(names: Iterable<string>, deps: Map<string, ResolvedDeps>, withOrderOnly: boolean): Graph {
  const g: Graph = { nodes: [], out: new Map(), into: new Map() };
  const node = (n: string) => {
    if (g.out.has(n)) return;
    g.nodes.push(n);
    g.out.set(n, new Map());
    g.into.set(n, []);
  };
  const edge = (from: string, to: string, kind: EdgeKind) => {
    node(from);
    const out = g.out.get(from)!;
    // The same edge again (listed both ways) keeps its place and takes the later kind.
    if (!out.has(to)) {
      node(to);
      g.into.get(to)!.push(from);
    }
    out.set(to, kind);
  };
  for (const n of names) node(n);
  for (const [n, d] of deps) {
    for (const x of d.normal) edge(n, x, 'normal');
    if (withOrderOnly) for (const x of d.orderOnly) edge(n, x, 'order-only');
  }
  return g;
}

const successors = (g: Graph) => {
  const memo = new Map<string, string[]>();
  return (n: string): string[] => memo.get(n) ?? memo.set(n, [...(g.out.get(n)?.keys() ?? [])]).get(n)!;
};

/** The graph's cycles: components of more than one node, or one with an edge to itself. */
function findCycles(g: Graph): string[][] {
  return components(g.nodes, successors(g)).filter((c) => c.length > 1 || g.out.get(c[0]!)!.has(c[0]!));
}

/** Normal-edge cycles go to `diags` (the graph returned is then not to be used). */
export function buildGraph(recipes: Map<string, Recipe>, resolved: Map<string, ResolvedDeps>, warn: (m: string) => void, diags: Diagnostic[]): PkgGraph {
  const names = [...recipes.keys()].sort();
  const normalOnly = makeGraph(names, resolved, false);
  const normalCycles = findCycles(normalOnly);
  if (normalCycles.length) {
    const next = successors(normalOnly);
    const cycles = normalCycles.map((comp) => {
      const scc = new Set(comp);
      const start = [...comp].sort()[0]!;
      const cyc = cycleThrough(start, next, scc);
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
  for (let cycles = findCycles(full); cycles.length; cycles = findCycles(full)) {
    const comp = cycles.map((c) => [...c].sort()).sort((a, b) => a[0]!.localeCompare(b[0]!))[0]!;
    const cyc = cycleThrough(comp[0]!, successors(full), new Set(comp));
    // Every cycle has an order-only edge (the normal subgraph is acyclic): drop the first one.
    for (let i = 0; i + 1 < cyc.length; i++) {
      const from = cyc[i]!;
      const to = cyc[i + 1]!;
      if (full.out.get(from)!.get(to) === 'order-only') {
        const d = deps.get(from)!;
        d.orderOnly = d.orderOnly.filter((x) => x !== to);
        warn(`circular ${from} <- ${to} dependency dropped (order-only edge in the cycle ${cyc.join(' -> ')})`);
        break;
      }
    }
    full = makeGraph(names, deps, true);
  }
  const order = dependenciesFirst(full.nodes, (n) => full.out.get(n)!.size === 0, (n) => full.into.get(n)!);
  return { order, deps };
}
