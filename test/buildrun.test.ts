// One build run in-process with a fake package builder (buildrun.ts's PackageBuilder, as ninja's
// tests fake its CommandRunner): planning, scheduling, outcomes, -k, Ctrl-C, the summary and the
// exit status, without running a recipe. The real builder is exercised by the end-to-end files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { executeBuild, type PackageBuilder } from '../src/buildrun.ts';
import { loadConfig } from '../src/config.ts';
import { EventBus, type SagebuildEvent } from '../src/events.ts';
import { analyze, type Project } from '../src/project.ts';
import type { Reason } from '../src/reasons.ts';
import type { BuildContext, BuildOutcome } from '../src/spkg/context.ts';
import { newManifest, writeManifest } from '../src/state/manifest.ts';
import { InstalledState } from '../src/state/state.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A recipe tree of script packages (name -> dependencies line) and its analysis. */
async function tree(pkgs: Record<string, string>, config = ''): Promise<Project> {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildrun-'));
  dirs.push(dir);
  for (const [name, deps] of Object.entries(pkgs)) {
    mkdirSync(path.join(dir, 'pkgs', name), { recursive: true });
    writeFileSync(path.join(dir, 'pkgs', name, 'type'), 'standard\n');
    writeFileSync(path.join(dir, 'pkgs', name, 'package-version.txt'), '1.0\n');
    writeFileSync(path.join(dir, 'pkgs', name, 'spkg-install.in'), 'true\n');
    if (deps) writeFileSync(path.join(dir, 'pkgs', name, 'dependencies'), `${deps}\n`);
  }
  if (config) writeFileSync(path.join(dir, 'build.config.yaml'), config);
  return analyze(loadConfig(null, {}, dir));
}

/**
 * A builder whose packages come to the outcomes the test names ('built' by default). A built
 * package is recorded as buildPackage records it (a manifest with the fingerprint and its inputs),
 * so the next plan sees it up to date. `hold` packages wait until the test releases them.
 */
class FakeBuilder {
  readonly calls: { name: string; reasons: Reason[]; ctx: BuildContext }[] = [];
  readonly #held = new Map<string, () => void>();
  #onCall: (() => void) | null = null;
  constructor(
    readonly outcomes: Record<string, BuildOutcome> = {},
    readonly hold = new Set<string>(),
  ) {}

  build: PackageBuilder = async (ctx, name, reasons) => {
    this.calls.push({ name, reasons, ctx });
    this.#onCall?.();
    if (this.hold.has(name)) await new Promise<void>((r) => this.#held.set(name, r));
    const outcome = this.outcomes[name] ?? 'built';
    if (outcome === 'built') {
      const r = ctx.project.recipes.get(name)!;
      const fp = ctx.fingerprint(name);
      writeManifest(ctx.project.treeOf(r), newManifest(name, r.version, [], ctx.project.config.root, { tool_version: 'test', kind: r.kind, tree: ctx.project.treeOf(r), fingerprint: fp.hash, inputs: fp.inputs }));
    }
    return outcome;
  };

  get names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** Resolves once `n` packages have started building. */
  async started(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((r) => (this.#onCall = r));
  }

  release(name: string): void {
    const f = this.#held.get(name);
    assert.ok(f, `${name} is being built`);
    f();
  }
}

async function run(project: Project, targets: string[], builder: FakeBuilder, o: { keepGoing?: boolean; jobs?: number; dryRun?: boolean; signal?: AbortSignal } = {}): Promise<{ status: number; events: SagebuildEvent[]; summary: Extract<SagebuildEvent, { type: 'summary' }> | undefined }> {
  const bus = new EventBus();
  const events: SagebuildEvent[] = [];
  bus.on((e) => events.push(e));
  const dryRun = o.dryRun ?? false;
  const status = await executeBuild(project, targets.map((name) => ({ name, noDeps: false })), {
    jobs: o.jobs ?? 1,
    keepGoing: o.keepGoing ?? false,
    dryRun,
    check: false,
    offline: true,
    signal: o.signal ?? new AbortController().signal,
    bus,
    state: new InstalledState(project.config, dryRun),
    builder: builder.build,
  });
  const summary = events.find((e): e is Extract<SagebuildEvent, { type: 'summary' }> => e.type === 'summary');
  return { status, events, summary };
}

describe('a build run with a fake builder', () => {
  it('builds dependencies first, hands each package its reasons and the run context; then all is up to date', async () => {
    const p = await tree({ a: '', b: 'a', c: 'b' });
    const f = new FakeBuilder();
    const r = await run(p, ['c'], f);
    assert.equal(r.status, 0);
    assert.deepEqual(f.names, ['a', 'b', 'c']);
    assert.deepEqual(f.calls[0]!.reasons, [{ kind: 'not-installed' }]);
    const ctx = f.calls[0]!.ctx;
    assert.equal(ctx.offline, true);
    assert.equal(ctx.check, false);
    assert.notEqual(ctx.jobserver, null, 'the jobserver is on unless the config turns it off');
    assert.deepEqual(r.summary, { type: 'summary', built: ['a-1.0', 'b-1.0', 'c-1.0'], upToDate: [], failed: [], interrupted: [], skipped: [], notStarted: [], stoppedEarly: false });
    assert.equal(r.events[0]!.type, 'plan', 'the plan is announced before anything builds');
    assert.deepEqual(r.events[1], { type: 'run-start', jobs: 1, packages: ['a', 'b', 'c'].map((name) => ({ id: `${name}-1.0`, name, expectedMs: null })) }, 'then what will build; no durations recorded yet');
    assert.equal(r.events.at(-1)!.type, 'summary', 'the summary ends the run');
    // What the builder recorded makes the next run build nothing.
    const again = new FakeBuilder();
    const r2 = await run(p, ['c'], again);
    assert.equal(r2.status, 0);
    assert.deepEqual(again.names, []);
    assert.ok(!r2.events.some((e) => e.type === 'run-start'), 'nothing to build: no run starts');
    assert.deepEqual(r2.summary?.upToDate, ['a-1.0', 'b-1.0', 'c-1.0']);
    // A changed dependency rebuilds, and takes its dependents along with that reason.
    writeFileSync(path.join(p.config.pkgs, 'a', 'spkg-install.in'), 'true # changed\n');
    const third = new FakeBuilder();
    const r3 = await run(p, ['c'], third);
    assert.equal(r3.status, 0);
    const start = r3.events.find((e) => e.type === 'run-start');
    assert.ok(start?.type === 'run-start' && start.packages.every((x) => typeof x.expectedMs === 'number'), 'the recorded build times are the expected ones');
    assert.deepEqual(third.names, ['a', 'b', 'c']);
    assert.deepEqual(third.calls.map((c) => c.reasons), [[{ kind: 'recipe-file', change: 'changed', file: 'spkg-install.in' }], [{ kind: 'dependency-rebuilt', dep: 'a' }], [{ kind: 'dependency-rebuilt', dep: 'b' }]]);
  });

  it('with no build timed yet, packages are started by the size of their tarballs in the upstream cache', async () => {
    const p0 = await tree({ absent: '', big: '', small: '' }, 'jobs: 1\n');
    const dir = p0.config.root;
    for (const name of ['absent', 'big', 'small']) writeFileSync(path.join(dir, 'pkgs', name, 'checksums.ini'), `tarball=${name}-VERSION.tar.gz\nsha256=${'0'.repeat(64)}\n`);
    mkdirSync(path.join(dir, 'upstream'));
    writeFileSync(path.join(dir, 'upstream', 'small-1.0.tar.gz'), Buffer.alloc(1000));
    writeFileSync(path.join(dir, 'upstream', 'big-1.0.tar.gz'), Buffer.alloc(3 * 2 ** 20));
    const p = await analyze(loadConfig(null, {}, dir));
    const f = new FakeBuilder();
    assert.equal((await run(p, ['absent', 'big', 'small'], f)).status, 0);
    // By count all three weigh the same, and started small, big, absent.
    assert.deepEqual(f.names, ['big', 'small', 'absent']);
  });

  it('a dry run plans and builds nothing', async () => {
    const p = await tree({ a: '', b: 'a' });
    const f = new FakeBuilder();
    const r = await run(p, ['b'], f, { dryRun: true });
    assert.equal(r.status, 0);
    assert.deepEqual(f.names, []);
    assert.equal(r.summary, undefined);
    const plan = r.events.find((e) => e.type === 'plan');
    assert.ok(plan?.type === 'plan' && plan.dryRun);
    assert.deepEqual(plan.items.map((i) => `${i.name}:${i.action}`), ['a:build', 'b:build']);
  });

  it('a failure without -k: its dependents are skipped, nothing new starts, exit 1', async () => {
    // With -j 1, bad (the head of the longest chain) goes first; then nothing else starts.
    const p = await tree({ bad: '', needsbad: 'bad', deeper: 'needsbad', good1: '', good2: 'good1', other: '' });
    const f = new FakeBuilder({ bad: 'failed' });
    const r = await run(p, ['deeper', 'good2', 'other'], f);
    assert.equal(r.status, 1);
    assert.deepEqual(f.names, ['bad']);
    assert.deepEqual(r.summary?.failed, [{ id: 'bad-1.0', logFile: path.join(p.config.logs, 'pkgs', 'bad-1.0.log') }]);
    assert.deepEqual([...r.summary!.skipped].sort(), ['deeper-1.0', 'needsbad-1.0']);
    assert.deepEqual([...r.summary!.notStarted].sort(), ['good1-1.0', 'good2-1.0', 'other-1.0']);
    assert.deepEqual(r.summary?.built, []);
    assert.equal(r.summary?.stoppedEarly, true, 'the failure stopped the run: -k would have built good1, good2, other');
    assert.deepEqual(r.events.filter((e) => e.type === 'pkg-skipped').sort((x, y) => (x.id < y.id ? -1 : 1)), [
      { type: 'pkg-skipped', id: 'deeper-1.0', name: 'deeper', because: 'dependency bad-1.0 failed' },
      { type: 'pkg-skipped', id: 'needsbad-1.0', name: 'needsbad', because: 'dependency bad-1.0 failed' },
    ]);
  });

  it('-k builds everything that does not depend on the failure; still exit 1', async () => {
    const p = await tree({ bad: '', needsbad: 'bad', deeper: 'needsbad', good1: '', good2: 'good1' });
    const f = new FakeBuilder({ bad: 'failed' });
    const r = await run(p, ['deeper', 'good2'], f, { keepGoing: true, jobs: 2 });
    assert.equal(r.status, 1);
    assert.deepEqual([...f.names].sort(), ['bad', 'good1', 'good2']);
    assert.deepEqual(r.summary?.built, ['good1-1.0', 'good2-1.0']);
    assert.deepEqual(r.summary?.skipped.sort(), ['deeper-1.0', 'needsbad-1.0']);
    assert.deepEqual(r.summary?.notStarted, []);
    assert.equal(r.summary?.stoppedEarly, false);
  });

  it('built elsewhere counts as up to date, a removed dummy as built; both let dependents build', async () => {
    const p = await tree({ other: '', gone: '', top: 'other gone' });
    const f = new FakeBuilder({ other: 'built-elsewhere', gone: 'removed' });
    const r = await run(p, ['top'], f);
    assert.equal(r.status, 0);
    assert.deepEqual(r.summary?.built, ['gone-1.0', 'top-1.0']);
    assert.deepEqual(r.summary?.upToDate, ['other-1.0']);
    assert.deepEqual(r.summary?.failed, []);
  });

  it('Ctrl-C: the interrupted package is reported apart from failures, nothing new starts, exit 1', async () => {
    const p = await tree({ slow: '', after: 'slow', other: '' });
    const ac = new AbortController();
    const f = new FakeBuilder({ slow: 'interrupted' }, new Set(['slow']));
    const done = run(p, ['after', 'other'], f, { signal: ac.signal });
    await f.started(1);
    assert.deepEqual(f.names, ['slow']);
    ac.abort();
    f.release('slow');
    const r = await done;
    assert.equal(r.status, 1);
    assert.deepEqual(r.summary?.interrupted, ['slow-1.0']);
    assert.deepEqual(r.summary?.failed, []);
    assert.deepEqual(f.names, ['slow'], 'nothing starts after the signal');
    // Its dependent did not start because of the signal, not because a dependency failed.
    assert.deepEqual([...r.summary!.notStarted].sort(), ['after-1.0', 'other-1.0']);
    assert.deepEqual(r.summary!.skipped, []);
    assert.ok(!r.events.some((e) => e.type === 'pkg-skipped'), 'no "skipped: dependency failed"');
    assert.equal(r.summary?.stoppedEarly, false, 'stopped by the signal, not by a failure');
  });

  it('-j 2 builds two at once; jobserver: false gives the builder no token pool', async () => {
    const p = await tree({ x: '', y: '', z: 'x y' }, 'jobserver: false\n');
    const f = new FakeBuilder({}, new Set(['x', 'y']));
    const done = run(p, ['z'], f, { jobs: 2 });
    await f.started(2);
    assert.deepEqual([...f.names].sort(), ['x', 'y'], 'both independent packages run at once');
    assert.equal(f.calls[0]!.ctx.jobserver, null);
    f.release('x');
    f.release('y');
    const r = await done;
    assert.equal(r.status, 0);
    assert.deepEqual(f.names.at(-1), 'z');
  });
});
