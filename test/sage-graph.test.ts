// The real graph of Sage 10.10's 437 recipes: `list` and `-n all` must handle it, including the
// one cycle that goes through an order-only edge (sphinx | sphinxcontrib_websupport).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { ROOT, Rig } from './rig.ts';
import { loadSageGraph, writeSageTree } from './fixtures/sage-tree.ts';

const graph = loadSageGraph(path.join(ROOT, 'test', 'fixtures', 'sage-graph-10.10.json'));

describe("Sage 10.10's real package graph", () => {
  const rig = new Rig('sagegraph');
  before(() => {
    writeSageTree(graph, rig.dir);
    // file prerequisites name $(SAGE_SRC) files
    for (const p of graph.packages) for (const f of p.file_deps) rig.write({ [f.replace('$(SAGE_SRC)', 'src')]: '' });
  });
  after(() => rig.cleanup());

  it('list prints every package (and the built-in venv), sorted', async () => {
    const r = await rig.run('list');
    assert.equal(r.exitCode, 0, r.stderr);
    const expected = [...graph.packages.map((p) => p.name), 'python3_venv'].sort();
    assert.equal(expected.length, 438);
    assert.deepEqual(r.stdout.split('\n'), expected);
  });

  it('-n all plans every standard package in dependency order, breaking the order-only cycle with a warning', async () => {
    const r = await rig.run('-n', 'all');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /warning: circular sphinx <- sphinxcontrib_websupport dependency dropped/);
    const planned = r.stdout.split('\n').map((l) => l.split(':')[0]!);
    const pos = new Map(planned.map((n, i) => [n, i]));
    const byName = new Map(graph.packages.map((p) => [p.name, p]));
    for (const p of graph.packages) {
      if (p.type === 'standard' && p.kind !== 'none') assert.ok(pos.has(p.name), `${p.name} is planned`);
      if (p.type === 'base') assert.ok(!pos.has(p.name), `base package ${p.name} is not part of all, as in Sage`);
    }
    assert.ok(pos.has('python3_venv'));
    let checked = 0;
    for (const [name, i] of pos) {
      const p = byName.get(name);
      if (!p) continue;
      for (const dep of [...p.deps, ...p.order_only_deps]) {
        if (name === 'sphinx' && dep === 'sphinxcontrib_websupport') continue; // the dropped edge
        const j = pos.get(dep);
        if (j === undefined) continue; // a dummy (none-kind) dependency is never built
        assert.ok(j < i, `${dep} must come before ${name}`);
        checked++;
      }
    }
    assert.ok(checked > 1000, `checked ${checked} edges`);
    for (const line of r.stdout.split('\n')) assert.match(line, /^[a-z0-9_]+: (depends on FORCE \(always rebuilt\); )?not installed$/);
  });
});
