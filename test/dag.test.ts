// The graph walks every layer shares (src/util/dag.ts), in-process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { components, cycleThrough, dependenciesFirst, foldAcyclic, invert, reachable } from '../src/util/dag.ts';

const edges: Record<string, string[]> = { a: ['b', 'c'], b: ['d'], c: ['d'], d: [], e: ['a'] };
const next = (n: string) => edges[n] ?? [];

describe('graph walks', () => {
  it('reachable: the starts and everything below them, each once, depth first in the order given', () => {
    assert.deepEqual([...reachable(['a'], next)], ['a', 'b', 'd', 'c']);
    assert.deepEqual([...reachable(['d', 'c'], next)], ['d', 'c']);
    assert.deepEqual([...reachable([], next)], []);
  });

  it('foldAcyclic: neighbours are computed before a node, each once, and memoised across calls', () => {
    const calls: string[] = [];
    const memo = new Map<string, number>();
    const depth = (n: string): number => {
      calls.push(n);
      return 1 + Math.max(0, ...next(n).map((m) => memo.get(m)!));
    };
    assert.equal(foldAcyclic('a', next, depth, memo), 3);
    assert.equal(calls.indexOf('d') < calls.indexOf('b') && calls.indexOf('b') < calls.indexOf('a'), true);
    assert.equal(calls.filter((c) => c === 'd').length, 1, 'a shared dependency is computed once');
    assert.equal(foldAcyclic('e', next, depth, memo), 4);
    assert.deepEqual(calls.slice(4), ['e'], 'a second call reuses what the first computed');
  });

  it('foldAcyclic walks a chain far longer than the call stack allows', () => {
    const n = 200_000;
    const chain = (x: string) => (Number(x) > 0 ? [String(Number(x) - 1)] : []);
    const memo = new Map<string, number>();
    assert.equal(foldAcyclic(String(n), chain, (x) => (x === '0' ? 0 : memo.get(String(Number(x) - 1))! + 1), memo), n);
  });

  it('invert: who points at each node', () => {
    assert.deepEqual(Object.fromEntries(invert(Object.entries(edges))), { b: ['a'], c: ['a'], d: ['b', 'c'], a: ['e'] });
  });

  it('cycleThrough: a shortest cycle through the start inside the component, the same every run', () => {
    const g: Record<string, string[]> = { x: ['z', 'y'], y: ['x'], z: ['w'], w: ['x'], out: ['x'] };
    assert.deepEqual(cycleThrough('x', (n) => g[n] ?? [], new Set(['x', 'y', 'z', 'w'])), ['x', 'y', 'x']);
    assert.deepEqual(cycleThrough('x', (n) => g[n] ?? [], new Set(['x', 'z', 'w'])), ['x', 'z', 'w', 'x']);
  });

  it('components: strongly connected sets in Tarjan\'s order (a component once all it reaches is done), singletons included', () => {
    const g: Record<string, string[]> = { a: ['b'], b: ['c', 'd'], c: ['a'], d: ['e'], e: ['d'], f: ['f'] };
    assert.deepEqual(components(['a', 'b', 'c', 'd', 'e', 'f'], (n) => g[n] ?? []), [['e', 'd'], ['c', 'b', 'a'], ['f']]);
    assert.deepEqual(components(['x'], () => []), [['x']]);
  });

  it('components walks a chain far longer than the call stack allows', () => {
    const n = 200_000;
    const chain = (v: string) => (Number(v) < n ? [String(Number(v) + 1)] : []);
    assert.equal(components(['0'], chain).length, n + 1);
  });

  it('dependenciesFirst: each node after what it points at; from the sinks in order, back along the edges in order', () => {
    const into = invert(Object.entries(edges));
    const order = dependenciesFirst(['a', 'b', 'c', 'd', 'e'], (n) => next(n).length === 0, (n) => into.get(n) ?? []);
    assert.deepEqual(order, ['d', 'c', 'b', 'a', 'e']);
    for (const [from, tos] of Object.entries(edges)) for (const to of tos) assert.ok(order.indexOf(to) < order.indexOf(from), `${to} before ${from}`);
  });
});
