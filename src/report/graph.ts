// `sagebuild graph` and `sagebuild why`: the package graph as Graphviz dot or JSON, and a
// dependency path as text. Pure: the command gathers the facts, these word them.
import type { ResolvedDeps } from '../deps.js';

/**
 * A package's state as the graph shows it. `failed`: not up to date and its build directory is
 * kept (sagebuild keeps it only when a build failed or was interrupted; it records nothing else).
 */
export type GraphState = 'installed' | 'outdated' | 'not-installed' | 'failed' | 'system' | 'dummy';

export interface GraphNode {
  name: string;
  version: string;
  /** The recipe's kind (normal, wheel, pip, script, none, venv). */
  kind: string;
  /** Sage's type: base, standard, optional, experimental. */
  type: string;
  state: GraphState;
  /** Dependencies after expansion (variables, functions, stamps): deps.ts's ResolvedDeps. */
  deps: ResolvedDeps;
}

/** Fill colours (ColorBrewer, readable in black text); not-installed stays white. */
const FILL: Record<GraphState, string> = {
  installed: '#a6d96a',
  outdated: '#fdae61',
  'not-installed': '#ffffff',
  failed: '#d7191c',
  system: '#abd9e9',
  dummy: '#e0e0e0',
};

/** A dot ID (names and versions have no quotes or backslashes; labels keep their `\n`). */
const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/** Graphviz dot: an edge from each package to what it depends on; order-only edges dashed. */
export function graphDot(nodes: GraphNode[]): string {
  const lines = [
    'digraph sagebuild {',
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
    '  edge [color="#555555"];',
  ];
  const shown = new Set(nodes.map((n) => n.name));
  for (const n of nodes) {
    const style = n.state === 'dummy' ? ', style="rounded,filled,dashed"' : '';
    const font = n.state === 'failed' ? ', fontcolor="#ffffff"' : '';
    lines.push(`  ${q(n.name)} [label=${q(`${n.name}\\n${n.version}`)}, fillcolor=${q(FILL[n.state])}${style}${font}, tooltip=${q(`${n.kind}, ${n.state}`)}];`);
  }
  for (const n of nodes) {
    for (const d of n.deps.normal) if (shown.has(d)) lines.push(`  ${q(n.name)} -> ${q(d)};`);
    for (const d of n.deps.orderOnly) if (shown.has(d)) lines.push(`  ${q(n.name)} -> ${q(d)} [style=dashed];`);
  }
  // A legend, so the picture explains itself.
  lines.push('  subgraph cluster_legend {', '    label="state"; fontname="Helvetica"; style=dashed;');
  const states = Object.keys(FILL) as GraphState[];
  for (const s of states) lines.push(`    ${q(`legend:${s}`)} [label=${q(s)}, fillcolor=${q(FILL[s])}${s === 'failed' ? ', fontcolor="#ffffff"' : ''}];`);
  for (let i = 0; i + 1 < states.length; i++) lines.push(`    ${q(`legend:${states[i]}`)} -> ${q(`legend:${states[i + 1]}`)} [style=invis];`);
  lines.push('  }', '}');
  return lines.join('\n');
}

/** The JSON document of `graph --format json` (README: "JSON output"). */
export function graphJson(nodes: GraphNode[]): object {
  return {
    command: 'graph',
    packages: nodes.map((n) => ({
      name: n.name,
      version: n.version,
      kind: n.kind,
      type: n.type,
      state: n.state,
      normal: n.deps.normal,
      orderOnly: n.deps.orderOnly,
      files: n.deps.files,
      force: n.deps.force,
    })),
  };
}

export type EdgeKind = 'normal' | 'order-only';

/** `why A B`: the path, one edge a line, and what it means for rebuilds. */
export function whyLines(path: { from: string; to: string; edge: EdgeKind }[]): string[] {
  const a = path[0]!.from;
  const b = path[path.length - 1]!.to;
  const allNormal = path.every((e) => e.edge === 'normal');
  return [
    `${a} depends on ${b}: ${[a, ...path.map((e) => e.to)].join(' -> ')}`,
    ...path.map((e) => `  ${e.from} -> ${e.to}  (${e.edge})`),
    allNormal
      ? `every edge is normal: a rebuild of ${b} rebuilds ${a}`
      : `through an order-only edge: ${b} is built before ${a}, but a rebuild of ${b} does not rebuild ${a} along this path (none is all normal)`,
  ];
}
