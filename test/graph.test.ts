// `sagebuild graph` (dot, json) and `sagebuild why`: the analysed graph, nothing built.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, ROOT, Rig, scriptPkg } from './rig.ts';

/** Graphviz's dot, when installed (.ci/run installs it from .ci/apt-packages.txt). */
const hasDot = async () => (await execa('dot', ['-V'], { reject: false })).exitCode === 0;
const NO_DOT = "graphviz's dot is not installed (apt-get install graphviz; .ci/run installs it)";

/** `dot -Tsvg` of `text`: throws unless dot parses it. */
async function svg(text: string): Promise<string> {
  const r = await execa('dot', ['-Tsvg'], { input: text, reject: false });
  assert.equal(r.exitCode, 0, `dot -Tsvg failed: ${r.stderr}`);
  assert.match(r.stdout, /<svg[\s>]/);
  return r.stdout;
}

/** The node statement of `name` in dot text. */
const nodeLine = (dot: string, name: string) => dot.split('\n').find((l) => l.startsWith(`  "${name}" [`)) ?? '';

describe('graph and why', { timeout: 300_000 }, () => {
  const rig = new Rig('graph');
  before(() => {
    rig.write({
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      ...scriptPkg('c', { deps: 'b $(EXTRA) | d' }),
      ...scriptPkg('d'),
      ...scriptPkg('bad', { deps: 'a', body: 'exit 1' }),
      ...scriptPkg('sys'),
      // stdio.h: every C toolchain has it, so configure decides the system provides `sys`.
      'pkgs/sys/spkg-configure.m4': 'SAGE_SPKG_CONFIGURE([sys], [\n    AC_CHECK_HEADER([stdio.h], [], [sage_spkg_install_sys=yes])\n])\n',
      ...scriptPkg('lone'),
      'stamp.txt': 'x\n',
      'build.config.yaml': 'jobs: 1\nvariables:\n  EXTRA: [sys, $(SAGE_ROOT)/stamp.txt]\n',
    });
  });
  after(() => rig.cleanup());

  it('dot: order-only edges dashed; installed, outdated, failed, system and not installed coloured', async () => {
    assert.equal((await rig.run('b', 'd')).exitCode, 0);
    assert.equal((await rig.run('bad')).exitCode, 1, 'leaves its build directory');
    rig.write({ 'pkgs/d/package-version.txt': '2.0\n' });
    const r = await rig.run('graph', 'c', 'bad');
    assert.equal(r.exitCode, 0, r.all);
    const dot = r.stdout;
    assert.match(dot, /^digraph sagebuild \{/);
    assert.match(dot, /^ {2}"c" -> "b";$/m);
    assert.match(dot, /^ {2}"c" -> "d" \[style=dashed\];$/m);
    assert.match(nodeLine(dot, 'a'), /fillcolor="#a6d96a".*installed/);
    assert.match(nodeLine(dot, 'd'), /fillcolor="#fdae61".*outdated/);
    assert.match(nodeLine(dot, 'bad'), /fillcolor="#d7191c".*failed/);
    assert.match(nodeLine(dot, 'sys'), /fillcolor="#abd9e9".*system/);
    assert.match(nodeLine(dot, 'c'), /fillcolor="#ffffff".*not-installed/);
    assert.equal(nodeLine(dot, 'lone'), '', 'targets limit the graph to their closure');
    assert.deepEqual(rig.manifests(), ['a-1.0', 'b-1.0', 'd-1.0'], 'graph builds nothing');
  });

  it('dot -Tsvg parses it (every state, the legend)', async (t) => {
    if (!(await hasDot())) return t.skip(NO_DOT);
    const r = await rig.run('graph');
    assert.equal(r.exitCode, 0, r.all);
    const out = await svg(r.stdout);
    for (const n of ['c', 'bad', 'sys', 'failed']) assert.match(out, new RegExp(`>${n}<`));
  });

  it('json: every package with kind, version, normal, order-only and file prerequisites after expansion', async () => {
    const r = await rig.run('graph', '--format', 'json');
    assert.equal(r.exitCode, 0, r.all);
    const doc = JSON.parse(r.stdout) as { command: string; packages: { name: string; kind: string; version: string; normal: string[]; orderOnly: string[]; files: string[] }[] };
    assert.equal(doc.command, 'graph');
    assert.deepEqual(doc.packages.map((p) => p.name), ['a', 'b', 'bad', 'c', 'd', 'lone', 'python3_venv', 'sys'], 'no targets: the whole tree (the built-in venv too)');
    const c = doc.packages.find((p) => p.name === 'c')!;
    assert.equal(c.kind, 'script');
    assert.equal(c.version, '1.0');
    assert.deepEqual(c.normal, ['b', 'sys'], '$(EXTRA) expanded');
    assert.deepEqual(c.orderOnly, ['d']);
    assert.deepEqual(c.files, [rig.path('stamp.txt')]);
  });

  it('why: a path, each edge named normal or order-only; no path is exit 1; bad usage exit 2', async () => {
    let r = await rig.run('why', 'c', 'a');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(r.stdout.split('\n'), ['c depends on a: c -> b -> a', '  c -> b  (normal)', '  b -> a  (normal)', 'every edge is normal: a rebuild of a rebuilds c']);
    r = await rig.run('why', 'c', 'd');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^ {2}c -> d {2}\(order-only\)$/m);
    assert.match(r.stdout, /does not rebuild c/);
    r = await rig.run('why', 'a', 'c');
    assert.equal(r.exitCode, 1, r.all);
    assert.equal(r.stdout, 'a does not depend on c');
    r = await rig.run('why', 'a');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /'why' takes two package names/);
    r = await rig.run('why', 'a', 'cc');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /did you mean 'c'\?/);
    r = await rig.run('graph', '--format', 'svg');
    assert.equal(r.exitCode, 2);
    r = await rig.run('a', 'graph');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /'graph' must come first/);
  });
});

describe('the shipped tree', { timeout: 300_000 }, () => {
  it('its graph renders with dot -Tsvg into docs/shipped-graph.svg (the README shows it)', async (t) => {
    if (!(await hasDot())) return t.skip(NO_DOT);
    // A fresh prefix: the picture shows the tree, not what this checkout happens to have built.
    const prefix = mkdtempSync(path.join(tmpdir(), 'shipped-graph-'));
    try {
      const r = await execa('node', [CLI, '-C', path.join(ROOT, 'build.config.yaml'), '--prefix', prefix, 'graph'], { cwd: ROOT, reject: false, env: { PIP_RETRIES: '0' } });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /"democalc" -> "demodocs" \[style=dashed\];/);
      const out = await svg(r.stdout);
      const file = path.join(ROOT, 'docs', 'shipped-graph.svg');
      mkdirSync(path.dirname(file), { recursive: true });
      // Rewritten only when it changed: a test run leaves the checkout as it was.
      if (!existsSync(file) || readFileSync(file, 'utf8') !== out) writeFileSync(file, out);
      assert.match(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /\(docs\/shipped-graph\.svg\)/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
