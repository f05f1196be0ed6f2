// `graph [targets] --format dot|json` and `why A B`: the analysed graph, nothing built or changed.
import { existsSync } from 'node:fs';
import { Fingerprinter } from '../fingerprint.js';
import { closure, makePlan, type BuildRequest } from '../plan.js';
import type { Project } from '../project.js';
import { graphDot, graphJson, whyLines, type EdgeKind, type GraphNode, type GraphState } from '../report/graph.js';
import { pkgPaths } from '../spkg/context.js';
import { writeJson } from '../report/json.js';
import type { InstalledState } from '../state/state.js';
import { prepareSystem } from '../systempkgs.js';
import { out, type CommandOptions } from './options.js';

export type GraphFormat = 'dot' | 'json';

/** `requests` empty: every package of the tree. */
export async function graph(project: Project, requests: BuildRequest[], format: GraphFormat, o: CommandOptions, state: InstalledState): Promise<number> {
  // What configure decided (cached): system packages are coloured, never decided anew here.
  await prepareSystem(project, { decideIfStale: false, signal: o.signal, jobs: o.jobs, cliOverrides: o.systemOverrides, installed: (n) => state.db.get(n).length > 0, info: (message) => o.bus.emit({ type: 'info', message }), warn: (message) => o.bus.emit({ type: 'warning', message }), hashes: state.hashes });
  const names = requests.length ? closure(project, requests) : new Set(project.recipes.keys());
  // Lenient, as status: a package that cannot be built is still drawn.
  const plan = makePlan(project, state.db.entries, [...names].map((name) => ({ name, noDeps: false })), new Fingerprinter(project, () => state.hashes), false);
  const byName = new Map(plan.map((i) => [i.name, i]));
  const nodes: GraphNode[] = [...names].sort().map((name) => {
    const r = project.recipes.get(name)!;
    const i = byName.get(name);
    let s: GraphState;
    if (!i || i.action === 'build') {
      // sagebuild keeps a build directory only after a failed or interrupted build.
      if (existsSync(pkgPaths(project, r).buildRoot)) s = 'failed';
      else s = state.db.get(name).length ? 'outdated' : 'not-installed';
    } else s = i.action === 'up-to-date' ? 'installed' : i.action;
    return { name, version: r.version, kind: r.kind, type: r.type, state: s, deps: project.deps.get(name)! };
  });
  // With --json, io.stdout is stderr: the document goes to the JSON writer (the real stdout).
  if (format === 'json') writeJson(o.json ?? o.io.stdout, graphJson(nodes));
  else out(o, [graphDot(nodes)]);
  return 0;
}

/** Exit status of `why` when `a` does not depend on `b` (as grep's "no match"). */
export const NO_PATH_STATUS = 1;

/**
 * `why a b`: one dependency path from `a` to `b`, the shortest all-normal one when there is one
 * (it is the one that rebuilds `a`), else the shortest through order-only edges.
 */
export function why(project: Project, a: string, b: string, o: Pick<CommandOptions, 'io'>): number {
  const path = shortestPath(project, a, b, false) ?? shortestPath(project, a, b, true);
  if (!path) {
    out(o, [`${a} does not depend on ${b}`]);
    return NO_PATH_STATUS;
  }
  out(o, whyLines(path));
  return 0;
}

function shortestPath(project: Project, a: string, b: string, orderOnly: boolean): { from: string; to: string; edge: EdgeKind }[] | null {
  const via = new Map<string, { from: string; edge: EdgeKind }>();
  const queue = [a];
  const seen = new Set([a]);
  while (queue.length) {
    const n = queue.shift()!;
    if (n === b && n !== a) break;
    const d = project.deps.get(n)!;
    const next: [string, EdgeKind][] = [...d.normal.map((x): [string, EdgeKind] => [x, 'normal']), ...(orderOnly ? d.orderOnly.map((x): [string, EdgeKind] => [x, 'order-only']) : [])];
    for (const [x, edge] of next) {
      if (seen.has(x)) continue;
      seen.add(x);
      via.set(x, { from: n, edge });
      queue.push(x);
    }
  }
  if (!via.has(b)) return null;
  const path: { from: string; to: string; edge: EdgeKind }[] = [];
  for (let n = b; n !== a; ) {
    const v = via.get(n)!;
    path.unshift({ from: v.from, to: n, edge: v.edge });
    n = v.from;
  }
  return path;
}
