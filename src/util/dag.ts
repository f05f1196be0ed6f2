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

/**
 * Strongly connected components (Tarjan), iterative. `nodes` are tried in their order and
 * neighbours in theirs; components come out as Tarjan's recursive form finds them (a component
 * once everything it reaches is done), each listed from its last-visited node to its root.
 */
export function components(nodes: Iterable<string>, next: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    // Frames of the recursive walk: a node and how many of its neighbours it has tried.
    const frames: [string, number][] = [];
    const enter = (v: string) => {
      index.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      frames.push([v, 0]);
    };
    enter(root);
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const [v, i] = frame;
      const succ = next(v);
      if (i < succ.length) {
        frame[1]++;
        const w = succ[i]!;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      frames.pop();
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        out.push(comp);
      }
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(v)!));
    }
  }
  return out;
}

/**
 * An acyclic graph's nodes, each after everything it points at: a depth-first walk backwards
 * from the sinks (nodes pointing at nothing, in `nodes`' order), along `back` (node → what points
 * at it, in its order), each node listed once everything pointing at it is; then reversed.
 */
export function dependenciesFirst(nodes: readonly string[], isSink: (node: string) => boolean, back: (node: string) => readonly string[]): string[] {
  const seen = new Set<string>();
  const post: string[] = [];
  for (const sink of nodes) {
    if (!isSink(sink) || seen.has(sink)) continue;
    seen.add(sink);
    const frames: [string, number][] = [[sink, 0]];
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const preds = back(frame[0]);
      if (frame[1] < preds.length) {
        const p = preds[frame[1]++]!;
        if (!seen.has(p)) {
          seen.add(p);
          frames.push([p, 0]);
        }
        continue;
      }
      frames.pop();
      post.push(frame[0]);
    }
  }
  return post.reverse();
}
