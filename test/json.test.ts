// --json: list, status, graph and builds print one JSON document on stdout, alone, in the shapes
// the README's "JSON output" section documents (checked here by a small hand-written shape check).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { after, before, describe, it } from 'node:test';
import { CLI, Rig, scriptPkg } from './rig.ts';

/** A shape: a type name ('string', 'number', 'boolean', 'string|null', ...), a literal list of allowed strings, an array of one shape, or an object of shapes (every key required, no others). */
type Shape = string | { oneOf: string[] } | [Shape] | { [k: string]: Shape };

function check(v: unknown, s: Shape, at = '$'): void {
  if (typeof s === 'string') {
    const ok = s.split('|').some((t) => (t === 'null' ? v === null : t === 'any' ? true : typeof v === t));
    assert.ok(ok, `${at}: expected ${s}, got ${JSON.stringify(v)}`);
  } else if (Array.isArray(s)) {
    assert.ok(Array.isArray(v), `${at}: expected an array`);
    v.forEach((x, i) => check(x, s[0], `${at}[${i}]`));
  } else if ('oneOf' in s && Array.isArray(s.oneOf)) {
    assert.ok(s.oneOf.includes(v as string), `${at}: ${JSON.stringify(v)} is not one of ${s.oneOf.join(', ')}`);
  } else {
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${at}: expected an object`);
    const o = v as Record<string, unknown>;
    const spec = s as Record<string, Shape>;
    // Reasons carry their kind's own fields besides kind and text.
    const open = '...' in spec;
    for (const k of Object.keys(spec)) if (k !== '...') check(o[k], spec[k]!, `${at}.${k}`);
    if (!open) assert.deepEqual(Object.keys(o).sort(), Object.keys(spec).sort(), `${at}: keys`);
  }
}

// The shapes of README's "JSON output".
const REASON: Shape = { kind: 'string', text: 'string', '...': 'any' };
const LIST: Shape = { command: { oneOf: ['list'] }, packages: [{ name: 'string', version: 'string|null', type: 'string|null', kind: 'string|null' }] };
const STATUS_ROW: Shape = {
  name: 'string',
  version: 'string|null',
  state: { oneOf: ['installed', 'outdated', 'not-installed', 'dummy', 'system', 'cannot-build', 'no-recipe'] },
  installed: ['string'],
  type: 'string|null',
  source: 'string|null',
  testResult: 'string|null',
  reasons: [REASON],
  evidence: 'string|null',
  problems: ['string'],
};
const STATUS: Shape = { command: { oneOf: ['status', 'list'] }, exitCode: 'number', packages: [STATUS_ROW] };
const BUILD: Shape = {
  command: { oneOf: ['build'] },
  dryRun: 'boolean',
  packages: [
    {
      name: 'string',
      id: 'string',
      version: 'string',
      result: { oneOf: ['built', 'removed', 'up-to-date', 'failed', 'interrupted', 'skipped', 'not-started', 'dummy', 'system', 'would-build'] },
      durationMs: 'number|null',
      log: 'string|null',
      buildDir: 'string|null',
      error: 'string|null',
      reasons: [REASON],
    },
  ],
};
const GRAPH: Shape = { command: { oneOf: ['graph'] }, packages: [{ name: 'string', version: 'string', kind: 'string', type: 'string', state: { oneOf: ['installed', 'outdated', 'not-installed', 'failed', 'system', 'dummy'] }, normal: ['string'], orderOnly: ['string'], files: ['string'], force: 'boolean' }] };
const ERROR: Shape = { command: 'null', exitCode: 'number', errors: [{ message: 'string', '...': 'any' }] };

type Pkg = { name: string; result: string; durationMs: number | null; log: string | null; reasons: { kind: string; text: string }[]; error: string | null };

describe('--json', { timeout: 300_000 }, () => {
  const rig = new Rig('json');
  before(() => {
    rig.write({
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      ...scriptPkg('bad', { body: 'echo failing; exit 1' }),
      ...scriptPkg('c', { deps: 'bad' }),
      'build.config.yaml': 'jobs: 1\n',
    });
  });
  after(() => rig.cleanup());

  it('list and status: one document on stdout, in the documented shapes', async () => {
    let r = await rig.run('list', '--json');
    assert.equal(r.exitCode, 0, r.all);
    const list = JSON.parse(r.stdout);
    check(list, LIST);
    assert.deepEqual(list.packages.map((p: { name: string }) => p.name), ['a', 'b', 'bad', 'c', 'python3_venv']);
    r = await rig.run('status', 'b', '--json');
    assert.equal(r.exitCode, 3, r.all);
    const st = JSON.parse(r.stdout);
    check(st, STATUS);
    assert.equal(st.exitCode, 3);
    assert.deepEqual(st.packages.map((p: { name: string; state: string }) => [p.name, p.state]), [['b', 'not-installed']]);
    assert.deepEqual(st.packages[0].reasons, [{ kind: 'not-installed', text: 'not installed' }]);
    r = await rig.run('list', '--installed', '--json', 'a');
    check(JSON.parse(r.stdout), STATUS);
  });

  it('a build: per package result, duration, log and reasons (text and kind); human lines on stderr', async () => {
    const r = await rig.run('-k', '--json', 'b', 'c');
    assert.equal(r.exitCode, 1, r.all);
    const doc = JSON.parse(r.stdout);
    check(doc, BUILD);
    assert.equal(doc.dryRun, false);
    const by = new Map<string, Pkg>(doc.packages.map((p: Pkg) => [p.name, p]));
    assert.equal(by.get('a')!.result, 'built');
    assert.equal(typeof by.get('a')!.durationMs, 'number');
    assert.match(by.get('a')!.log!, /a-1\.0\.log$/);
    assert.deepEqual(by.get('a')!.reasons, [{ kind: 'not-installed', text: 'not installed' }]);
    assert.equal(by.get('bad')!.result, 'failed');
    assert.match(by.get('bad')!.error!, /spkg-install/);
    assert.equal(by.get('c')!.result, 'skipped');
    assert.match(by.get('c')!.error!, /dependency bad-1\.0 failed/);
    assert.match(r.stderr, /\[bad-1\.0\] Error/);
    assert.match(r.stderr, /summary: built: 2/);
    // Again: up to date; and a dry run: would-build.
    rig.write({ 'pkgs/a/package-version.txt': '1.1\n' });
    const n = await rig.run('-n', '--json', 'b');
    const dry = JSON.parse(n.stdout);
    check(dry, BUILD);
    assert.equal(dry.dryRun, true);
    const b = dry.packages.find((p: Pkg) => p.name === 'b');
    assert.equal(b.result, 'would-build');
    assert.deepEqual(b.reasons.map((x: { kind: string }) => x.kind), ['dependency-rebuilt']);
    assert.equal(b.reasons[0].dep, 'a', 'the typed reason keeps its fields');
  });

  it('graph --json is graph --format json', async () => {
    const r = await rig.run('graph', 'b', '--json');
    assert.equal(r.exitCode, 0, r.all);
    check(JSON.parse(r.stdout), GRAPH);
  });

  it('errors are a JSON document too; several targets are a usage error', async () => {
    for (const args of [['status', 'bb', '--json'], ['--json', 'status', 'a-clean'], ['--jbos', '2', '--json'], ['why', 'a', 'b', '--json']]) {
      const r = await rig.run(...args);
      assert.equal(r.exitCode, 2, r.all);
      const doc = JSON.parse(r.stdout);
      check(doc, ERROR);
      assert.equal(doc.exitCode, 2);
    }
  });

  it('the real binary: `status --json | python3 -m json.tool` parses', async () => {
    const r = await execa('bash', ['-c', `set -o pipefail; node ${CLI} status --json | python3 -m json.tool >/dev/null; echo "rc=$?"`], { cwd: rig.dir, reject: false, env: { PIP_RETRIES: '0' } });
    assert.match(r.stdout, /rc=3$/, r.stderr);
    assert.doesNotMatch(r.stderr, /Expecting|Invalid/);
  });
});
