// Runs a DAG of tasks under one concurrency limit. In-degree counters and a ready queue mean a
// completion touches only its dependents (no rescans); the queue is a heap ordered by critical
// path length, so long chains start first.
import { foldAcyclic, invert, reachable } from './util/dag.js';

export interface Task {
  id: string;
  /** Ids of tasks (in the same run) that must succeed first. */
  after: string[];
}

export type Outcome = 'ok' | 'failed' | 'skipped' | 'not-started';

export interface ScheduleOptions {
  jobs: number;
  keepGoing: boolean;
  signal: AbortSignal;
  /** Called for tasks that will not run because a dependency failed. */
  onSkip?: (id: string, failedDep: string) => void;
  /**
   * A shared token pool (the make jobserver): every running task but the one in the implicit
   * slot needs a token, so nested makes and packages together stay within the limit.
   */
  tokens?: { tryAcquire(): boolean; release(): void };
  /** A task's expected duration, for the priority (default: every task counts 1). */
  weight?: (id: string) => number;
}

class Heap<T> {
  readonly #a: T[] = [];
  constructor(private readonly less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.#a.length;
  }
  push(v: T): void {
    const a = this.#a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.#a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The longest chain of dependents starting at each task (itself included), each task counting
 * its `weight` (its expected duration; 1 each: the number of tasks).
 */
export function criticalPath(tasks: Task[], weight: (id: string) => number = () => 1): Map<string, number> {
  const dependents = invert(tasks.map((t) => [t.id, t.after]));
  const memo = new Map<string, number>();
  const next = (id: string) => dependents.get(id) ?? [];
  for (const t of tasks) foldAcyclic(t.id, next, (id) => weight(id) + Math.max(0, ...next(id).map((d) => memo.get(d)!)), memo);
  return memo;
}

export async function schedule(tasks: Task[], run: (id: string) => Promise<boolean>, o: ScheduleOptions): Promise<Map<string, Outcome>> {
  const outcome = new Map<string, Outcome>();
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const ids = new Set(tasks.map((t) => t.id));
  for (const t of tasks) {
    const after = t.after.filter((d) => ids.has(d));
    pending.set(t.id, after.length);
    for (const d of after) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(t.id);
  }
  const prio = criticalPath(tasks, o.weight);
  const order = new Map(tasks.map((t, i) => [t.id, i]));
  const ready = new Heap<string>((x, y) => prio.get(x)! > prio.get(y)! || (prio.get(x) === prio.get(y) && order.get(x)! < order.get(y)!));
  for (const t of tasks) if (pending.get(t.id) === 0) ready.push(t.id);

  // The running count is the semaphore: work starts only when a slot is free, so the choice of
  // what runs next stays with the priority queue.
  const slots = Math.max(1, o.jobs);
  let stopping = false;
  let running = 0;
  const holdsToken = new Set<string>();
  // The one slot that needs no token (make's implicit job slot). Whichever task holds it, the next
  // task to start after it ends takes it over: else -j N would shrink to N-1 once the first ends.
  let implicitHolder: string | null = null;
  let retry: NodeJS.Timeout | undefined;
  return new Promise((resolve) => {
    const skipDependents = (failed: string) => {
      for (const id of reachable(dependents.get(failed) ?? [], (n) => dependents.get(n) ?? [])) {
        if (outcome.has(id)) continue;
        outcome.set(id, 'skipped');
        o.onSkip?.(id, failed);
      }
    };
    const finish = (id: string, ok: boolean) => {
      running--;
      if (holdsToken.delete(id)) o.tokens!.release();
      if (implicitHolder === id) implicitHolder = null;
      outcome.set(id, ok ? 'ok' : 'failed');
      if (ok) {
        for (const d of dependents.get(id) ?? []) {
          const n = pending.get(d)! - 1;
          pending.set(d, n);
          if (n === 0 && !outcome.has(d)) ready.push(d);
        }
      } else if (o.signal.aborted) {
        // Stopped by Ctrl-C, not by a failure: what did not start is 'not-started', not skipped.
        stopping = true;
      } else {
        if (!o.keepGoing) stopping = true;
        skipDependents(id);
      }
      pump();
    };
    const pump = () => {
      if (o.signal.aborted) stopping = true;
      while (!stopping && ready.size && running < slots) {
        let token = false;
        if (implicitHolder !== null && o.tokens) {
          // Nested makes may hold the free tokens: look again shortly.
          if (!o.tokens.tryAcquire()) {
            clearTimeout(retry);
            retry = setTimeout(pump, 50);
            break;
          }
          token = true;
        }
        const id = ready.pop()!;
        if (outcome.has(id)) {
          if (token) o.tokens!.release();
          continue;
        }
        if (token) holdsToken.add(id);
        else if (o.tokens) implicitHolder = id;
        running++;
        // Started on the next tick, as p-limit did: the loop picks every free slot first.
        Promise.resolve()
          .then(() => run(id))
          .then(
            (ok) => finish(id, ok),
            () => finish(id, false),
          );
      }
      if (running === 0 && (stopping || !ready.size)) {
        clearTimeout(retry);
        for (const t of tasks) if (!outcome.has(t.id)) outcome.set(t.id, 'not-started');
        o.signal.removeEventListener('abort', pump);
        resolve(outcome);
      }
    };
    o.signal.addEventListener('abort', pump);
    pump();
  });
}
