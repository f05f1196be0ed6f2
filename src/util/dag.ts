// Every hand-written graph walk in one place: the analysis (cycles), the plan (what a target
// needs), fingerprints (dependencies first), the scheduler (priorities, skipping dependents).
// A graph here is a function from a node to its neighbours, so callers keep their own maps.
// All walks are iterative: Sage-sized chains would overflow recursion in long trees.

export type Neighbours = (node: string) => Iterable<string>;

/** Every node reachable from `starts` (the starts included), in visiting order. */
export function reachable(starts: Iterable<string>, next: Neighbours): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts].reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const more = [...next(n)];
    for (let i = more.length - 1; i >= 0; i--) if (!seen.has(more[i]!)) stack.push(more[i]!);
  }
  return seen;
}

/**
 * Computes `value(node)` for `start` and everything it reaches, neighbours before the node
 * (post-order), memoised in `memo` across calls. The graph must be acyclic.
 */
export function foldAcyclic<T>(start: string, next: Neighbours, value: (node: string) => T, memo: Map<string, T>): T {
  const stack: [string, boolean][] = [[start, false]];
  while (stack.length) {
    const [n, expanded] = stack.pop()!;
    if (memo.has(n)) continue;
    if (expanded) {
      memo.set(n, value(n));
      continue;
    }
    stack.push([n, true]);
    for (const m of next(n)) if (!memo.has(m)) stack.push([m, false]);
  }
  return memo.get(start)!;
}

/** The reverse adjacency of `edges` (node → what it points at): node → what points at it. */
export function invert(edges: Iterable<[string, Iterable<string>]>): Map<string, string[]> {
  const back = new Map<string, string[]>();
  for (const [from, tos] of edges) for (const to of tos) (back.get(to) ?? back.set(to, []).get(to)!).push(from);
  return back;
}

/**
 * A shortest cycle through `start` that stays inside `within` (one strongly connected
 * component), as a path ending where it began; neighbours are tried in sorted order, so the
 * cycle printed is the same every run.
 */
export function cycleThrough(start: string, next: Neighbours, within: Set<string>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i]!;
    for (const v of [...next(u)].sort()) {
      if (v === start) {
        const path = [u];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return [...path, start];
      }
      if (within.has(v) && !seen.has(v)) {
        seen.add(v);
        parent.set(v, u);
        queue.push(v);
      }
    }
  }
  return [start, start];
}
