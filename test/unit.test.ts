// In-process tests of the pure parts: the scheduler with a fake runner and token pool, the graph,
// dependency-line expansion, target parsing, fingerprint differences and config errors. No CLI
// process: these run in milliseconds, and the end-to-end files keep what only a process shows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { DEFAULT_VARIABLES, resolveAll, type ResolvedDeps } from '../src/deps.ts';
import { UserError, type Diagnostic } from '../src/diagnostics.ts';
import { explainDiff, type FingerprintInputs } from '../src/fingerprint.ts';
import { reasonText } from '../src/report/reasons.ts';
import { buildGraph } from '../src/graph.ts';
import type { PkgKind, Recipe } from '../src/recipes.ts';
import { criticalPath, schedule, type Task } from '../src/scheduler.ts';
import { parseTargets } from '../src/targets.ts';

/** A runner whose tasks end when the test says so; it records what ran at once. */
class FakeRunner {
  readonly started: string[] = [];
  running = 0;
  peak = 0;
  readonly #waiting = new Map<string, (ok: boolean) => void>();
  #onStart: (() => void) | null = null;
  run = (id: string): Promise<boolean> => {
    this.started.push(id);
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    this.#onStart?.();
    return new Promise((resolve) =>
      this.#waiting.set(id, (ok) => {
        this.running--;
        resolve(ok);
      }),
    );
  };
  /** Resolves once `n` tasks have started in all. */
  async startedCount(n: number): Promise<void> {
    while (this.started.length < n) await new Promise<void>((r) => (this.#onStart = r));
  }
  end(id: string, ok = true): void {
    const f = this.#waiting.get(id);
    assert.ok(f, `${id} is running`);
    this.#waiting.delete(id);
    f(ok);
  }
  get runningIds(): string[] {
    return [...this.#waiting.keys()].sort();
  }
}

const never = new AbortController().signal;

describe('scheduler (fake runner)', () => {
  it('runs independent tasks up to -j at once, dependencies first, longest chain first', async () => {
    const tasks: Task[] = [
      { id: 'leaf', after: [] },
      { id: 'a', after: [] },
      { id: 'b', after: ['a'] },
      { id: 'c', after: ['b'] },
    ];
    assert.deepEqual(Object.fromEntries(criticalPath(tasks)), { leaf: 1, a: 3, b: 2, c: 1 });
    const f = new FakeRunner();
    const done = schedule(tasks, f.run, { jobs: 1, keepGoing: false, signal: never });
    await f.startedCount(1);
    assert.deepEqual(f.started, ['a'], 'the head of the longest chain starts first');
    for (let n = 2; n <= 4; n++) {
      f.end(f.runningIds[0]!);
      await f.startedCount(n);
    }
    f.end(f.runningIds[0]!);
    const out = await done;
    // b (2 to go) before leaf (1); then leaf and c tie, and the order given decides.
    assert.deepEqual(f.started, ['a', 'b', 'leaf', 'c']);
    assert.equal(f.peak, 1);
    assert.deepEqual([...out.values()], ['ok', 'ok', 'ok', 'ok']);
  });

  it('-j 2 keeps two running while there is work', async () => {
    const tasks: Task[] = ['p1', 'p2', 'p3', 'p4'].map((id) => ({ id, after: [] }));
    const f = new FakeRunner();
    const done = schedule(tasks, f.run, { jobs: 2, keepGoing: false, signal: never });
    await f.startedCount(2);
    assert.deepEqual(f.runningIds, ['p1', 'p2']);
    f.end('p2');
    await f.startedCount(3);
    assert.deepEqual(f.runningIds, ['p1', 'p3']);
    f.end('p1');
    f.end('p3');
    await f.startedCount(4);
    f.end('p4');
    await done;
    assert.equal(f.peak, 2);
  });

  it('a failure stops new starts without -k; with -k only its dependents are skipped', async () => {
    const tasks: Task[] = [
      { id: 'bad', after: [] },
      { id: 'dep', after: ['bad'] },
      { id: 'other', after: [] },
    ];
    for (const keepGoing of [false, true]) {
      const f = new FakeRunner();
      const skipped: string[] = [];
      const done = schedule(tasks, f.run, { jobs: 1, keepGoing, signal: never, onSkip: (id, failed) => skipped.push(`${id}<-${failed}`) });
      await f.startedCount(1);
      f.end(f.runningIds[0]!, false);
      if (keepGoing) {
        await f.startedCount(2);
        f.end('other');
      }
      const out = await done;
      assert.deepEqual(Object.fromEntries(out), keepGoing ? { bad: 'failed', dep: 'skipped', other: 'ok' } : { bad: 'failed', dep: 'skipped', other: 'not-started' });
      assert.deepEqual(skipped, ['dep<-bad']);
    }
  });

  it('with a token pool, every task but the one in the free slot needs a token', async () => {
    let free = 1;
    const tokens = { tryAcquire: () => (free > 0 ? (free--, true) : false), release: () => void free++ };
    const tasks: Task[] = ['t1', 't2', 't3'].map((id) => ({ id, after: [] }));
    const f = new FakeRunner();
    const done = schedule(tasks, f.run, { jobs: 8, keepGoing: false, signal: never, tokens });
    await f.startedCount(2);
    assert.equal(f.running, 2, 'one free slot + one token, although -j is 8');
    assert.equal(free, 0);
    f.end('t1'); // the free slot passes to the next task: -j does not shrink
    await f.startedCount(3);
    f.end('t2');
    f.end('t3');
    await done;
    assert.equal(free, 1, 'every token is given back');
    assert.equal(f.peak, 2);
  });

  it('an abort starts nothing more; what did not start is reported so', async () => {
    const ac = new AbortController();
    const tasks: Task[] = ['x', 'y'].map((id) => ({ id, after: [] }));
    const f = new FakeRunner();
    const done = schedule(tasks, f.run, { jobs: 1, keepGoing: false, signal: ac.signal });
    await f.startedCount(1);
    ac.abort();
    f.end('x', false);
    assert.deepEqual(Object.fromEntries(await done), { x: 'failed', y: 'not-started' });
  });
});

function recipe(name: string, deps = '', o: { kind?: PkgKind; check?: string; type?: Recipe['type'] } = {}): Recipe {
  const dir = `/pkgs/${name}`;
  return {
    name,
    dir,
    type: o.type ?? 'standard',
    kind: o.kind ?? 'script',
    version: '1.0',
    upstreamVersion: '1.0',
    deps: deps ? { file: `${dir}/dependencies`, text: deps } : null,
    depsOrderOnly: null,
    depsCheck: o.check ? { file: `${dir}/dependencies_check`, text: o.check } : null,
    depsOptional: null,
    checksums: null,
    problems: [],
    configureM4: null,
    scripts: {},
    src: null,
    patches: [],
    requirements: null,
    python: false,
    files: [],
  };
}

function resolve(recipes: Recipe[], check = false, variables: Record<string, string[]> = {}): { deps: Map<string, ResolvedDeps>; diags: Diagnostic[]; warnings: string[] } {
  const diags: Diagnostic[] = [];
  const warnings: string[] = [];
  const map = new Map(recipes.map((r) => [r.name, r]));
  const deps = resolveAll(
    {
      recipes: map,
      variables: { ...DEFAULT_VARIABLES, ...variables },
      root: '/root',
      makeDir: '/root/build/make',
      sageSrc: '/root/src',
      treeOf: () => '/root/local',
      prefix: '/root/local',
      venv: '/root/local',
      enabled: new Set(recipes.filter((r) => r.type === 'standard').map((r) => r.name)),
      checkFor: () => check,
      warn: (m) => warnings.push(m),
      broken: new Set(),
    },
    diags,
  );
  return { deps, diags, warnings };
}

describe('dependency lines (make syntax)', () => {
  it('normal | order-only, variables, make functions, FORCE, stamps and file prerequisites', () => {
    const { deps, diags } = resolve([
      recipe('gmp'),
      recipe('mpfr'),
      recipe('pip'),
      recipe('python3_venv'),
      recipe('nauty'),
      recipe('app', '$(MP_LIBRARY) $(filter-out gmp,gmp mpfr) $(findstring gmp,a gmp b) FORCE $(SAGE_LOCAL)/$(SPKG_INST_RELDIR)/nauty-$(vers_nauty) $(SAGE_SRC)/x.pxd ../rel.txt | pip $(PYTHON) gmp'),
    ]);
    assert.deepEqual(diags, []);
    const d = deps.get('app')!;
    assert.deepEqual([...d.normal].sort(), ['gmp', 'mpfr', 'nauty']);
    assert.deepEqual([...d.orderOnly].sort(), ['pip', 'python3_venv'], 'a name on both sides is a normal prerequisite');
    assert.deepEqual(d.files, ['/root/src/x.pxd', '/root/build/rel.txt'], 'relative paths resolve where make runs');
    assert.equal(d.force, true);
  });

  it('check dependencies only for packages Sage sets SAGE_CHECK_<pkg> for (not pip packages)', () => {
    const { deps } = resolve([recipe('tester'), recipe('lib', '', { check: 'tester' }), recipe('pippkg', '', { kind: 'pip', check: 'nosuchpkg' })], true);
    assert.deepEqual(deps.get('lib')!.orderOnly, ['tester']);
    assert.deepEqual(deps.get('pippkg')!.orderOnly, []);
  });

  it('every bad reference on a line is reported, with a suggestion', () => {
    const { diags } = resolve([recipe('numpy'), recipe('a', '$(NOSUCH) nunpy $(vers_gone)')]);
    assert.deepEqual(
      diags.map((d) => d.message),
      ['unknown variable $(NOSUCH)', "$(vers_gone) names package 'gone', which has no recipe", "dependency 'nunpy' of package 'a' has no recipe"],
    );
    assert.match(diags[2]!.hint!, /did you mean 'numpy'/);
  });
});

describe('graph', () => {
  const graph = (recipes: Recipe[]) => {
    const { deps } = resolve(recipes);
    const diags: Diagnostic[] = [];
    const warnings: string[] = [];
    const g = buildGraph(new Map(recipes.map((r) => [r.name, r])), deps, (m) => warnings.push(m), diags);
    return { g, diags, warnings };
  };
  it('a cycle of normal edges is an error printing the cycle', () => {
    const { diags } = graph([recipe('a', 'b'), recipe('b', 'c'), recipe('c', 'a')]);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.message, 'dependency cycle: a -> b -> c -> a');
  });
  it('a cycle through an order-only edge is broken there, with a warning; dependencies come first', () => {
    const { g, diags, warnings } = graph([recipe('sphinx', '| websupport'), recipe('websupport', 'sphinx'), recipe('docs', 'sphinx websupport')]);
    assert.deepEqual(diags, []);
    assert.match(warnings[0]!, /circular sphinx <- websupport dependency dropped/);
    assert.ok(g.order.indexOf('sphinx') < g.order.indexOf('websupport') && g.order.indexOf('websupport') < g.order.indexOf('docs'), g.order.join(' '));
  });
});

describe('targets', () => {
  const known = new Set(['gmp', 'numpy', 'old']);
  const parse = (t: string[], installed: string[] = []) => parseTargets(t, known, () => ['gmp', 'numpy'], new Set(installed));
  it('all, -no-deps, -clean, queries and configure, in the order given', () => {
    assert.deepEqual(parse(['gmp-clean', 'gmp', 'numpy-no-deps', 'status', 'configure']), [
      { kind: 'clean', name: 'gmp' },
      { kind: 'build', requests: [{ name: 'gmp', noDeps: false }, { name: 'numpy', noDeps: true }] },
      { kind: 'status', names: [] },
      { kind: 'configure' },
    ]);
    // The names after a query are what it reports on, not build targets; a -clean or another
    // command ends them; `all` means every package.
    assert.deepEqual(parse(['status', 'gmp', 'numpy', 'gmp-clean', 'list', 'all', 'numpy']), [
      { kind: 'status', names: ['gmp', 'numpy'] },
      { kind: 'clean', name: 'gmp' },
      { kind: 'list', names: ['numpy'] },
    ]);
    assert.deepEqual(parse(['status', 'old'], ['old']), [{ kind: 'status', names: ['old'] }], 'an installed package without a recipe can be asked about');
    assert.deepEqual(parse(['all']), [{ kind: 'build', requests: [{ name: 'gmp', noDeps: false }, { name: 'numpy', noDeps: false }] }]);
    assert.deepEqual(parse(['gone-clean'], ['gone']), [{ kind: 'clean', name: 'gone' }], 'an installed package without a recipe can be cleaned');
    assert.deepEqual(parse(['download', 'gmp']), [{ kind: 'download', requests: [{ name: 'gmp', noDeps: false }] }]);
  });
  it('unknown targets are errors with suggestions', () => {
    assert.throws(() => parse(['numpyy']), (e: unknown) => e instanceof UserError && /did you mean 'numpy'/.test(e.diagnostics[0]!.hint!));
    assert.throws(() => parse(['gmp', 'watch']), (e: unknown) => e instanceof UserError && /'watch' must come first/.test(e.diagnostics[0]!.message));
  });
});

describe('fingerprint differences (--explain)', () => {
  const base: FingerprintInputs = { version: '1.0', recipe: { 'spkg-install.in': 'h1', 'src/a.c': 's1', 'src/b.c': 's2' }, tool: 't', deps: { gmp: 'g1', mpfr: 'm1' }, tarball: 'sha256:aa', python: 'py1' };
  it('names each change, in terms a person reads', () => {
    const cur: FingerprintInputs = { version: '1.1', recipe: { 'spkg-install.in': 'h2', 'src/a.c': 's9', 'src/b.c': 's9', 'src/c.c': 'new' }, tool: 't', deps: { gmp: 'g2', mpc: 'c1' }, tarball: 'sha256:bb', python: 'py2' };
    assert.deepEqual(explainDiff(base, cur, (d) => d === 'gmp').map(reasonText), [
      'version 1.0 -> 1.1',
      'spkg-install.in changed',
      '2 files in src/ changed (src/a.c, src/b.c)',
      'src/c.c added',
      'upstream tarball checksum sha256:aa -> sha256:bb',
      'python py1 -> py2',
      'dependency gmp rebuilt',
      'new dependency mpc',
      'dependency mpfr removed',
    ]);
  });
  it('a switch to or from the system is said so; nothing changed says nothing', () => {
    assert.deepEqual(explainDiff(base, { ...base, system: 'gmp 6.3 via gmp.h' }, () => false).map(reasonText), ['now from the system (gmp 6.3 via gmp.h)']);
    assert.deepEqual(explainDiff(base, base, () => false), []);
  });
});

describe('config errors (in-process)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (yaml: string) => {
    writeFileSync(path.join(dir, 'build.config.yaml'), yaml);
    return loadConfig(null, {}, dir);
  };
  const diagsOf = (yaml: string): Diagnostic[] => {
    try {
      load(yaml);
    } catch (e) {
      if (e instanceof UserError) return e.diagnostics;
      throw e;
    }
    assert.fail('expected an error');
  };
  it('unknown keys and wrong types name line and column, all at once', () => {
    const d = diagsOf('jbos: 4\ncheck: maybe\nsystem:\n  gmp: perhaps\n');
    assert.deepEqual(d.map((x) => `${x.line}:${x.col} ${x.message}`), ["1:1 unknown config key 'jbos'", "2:8 'check': expected true or false", "4:3 'system': 'gmp' must be yes (take it from the system) or no (always build it)"]);
    assert.equal(d[0]!.hint, "did you mean 'jobs'?");
  });
  it('paths are relative to the config; venv defaults to the prefix; system: takes yes/no and booleans', () => {
    const c = load('prefix: out\nsystem:\n  gmp: yes\n  openssl: false\n');
    assert.equal(c.prefix, path.join(dir, 'out'));
    assert.equal(c.venv, c.prefix);
    assert.deepEqual(c.system, { gmp: 'yes', openssl: 'no' });
    assert.deepEqual(c.systemAt.gmp, { line: 3, col: 3 });
  });
});
