// Concurrency limit, failure policy (-k), and Ctrl-C/SIGTERM with real processes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Rig, processGone, scriptPkg, waitFor, type Tree } from './rig.ts';

/**
 * A recipe that records how many probe recipes are running when it starts and ends. It waits
 * (up to 30 s) until `meet` probes run at once, so recipes that may overlap do overlap whatever
 * the machine's load, instead of hoping a sleep is long enough; a run that never reaches `meet`
 * only takes longer, and the counts show it.
 */
function probePkg(name: string, deps?: string, meet = 1): Tree {
  const body = [
    'probe="$SAGE_ROOT/probe"; mkdir -p "$probe/running"',
    'touch "$probe/running/$PKG_BASE"',
    'ls "$probe/running" | wc -l >> "$probe/counts"',
    `for i in $(seq 300); do [ "$(ls "$probe/running" | wc -l)" -ge ${meet} ] && break; [ -e "$probe/done" ] && break; sleep 0.1; done`,
    'ls "$probe/running" | wc -l >> "$probe/counts"',
    // The last ones have nobody left to meet: whoever leaves first lets them go.
    'touch "$probe/done"',
    'rm "$probe/running/$PKG_BASE"',
  ].join('\n');
  return scriptPkg(name, { deps, body });
}

const peak = (rig: Rig) => Math.max(...readFileSync(rig.path('probe/counts'), 'utf8').trim().split('\n').map(Number));

describe('parallel builds', () => {
  it('runs independent packages concurrently, never more than -j', async () => {
    const rig = new Rig('par');
    rig.write({ ...probePkg('p1', undefined, 2), ...probePkg('p2', undefined, 2), ...probePkg('p3', undefined, 2), ...probePkg('p4', undefined, 2), ...probePkg('p5', undefined, 2) });
    const r = await rig.run('-j', '2', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(peak(rig), 2, 'with -j 2 and five independent packages, exactly two run at once');
    rig.cleanup();
  });

  it('-j 1 runs one at a time', async () => {
    const rig = new Rig('par1');
    rig.write({ ...probePkg('p1'), ...probePkg('p2'), ...probePkg('p3') });
    const r = await rig.run('-j', '1', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(peak(rig), 1);
    rig.cleanup();
  });

  it('the config `jobs:` is the default limit; a chain never overlaps', async () => {
    const rig = new Rig('par3');
    rig.write({ ...probePkg('c1'), ...probePkg('c2', 'c1'), ...probePkg('c3', 'c2'), 'build.config.yaml': 'jobs: 3\n' });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(peak(rig), 1, 'a dependency chain runs strictly one after the other');
    rig.cleanup();
  });
});

describe('failures', () => {
  const tree: Tree = {
    ...scriptPkg('bad', { body: 'echo "compiling bad..."\necho "error: something broke" >&2\nexit 3' }),
    ...scriptPkg('needsbad', { deps: 'bad' }),
    ...scriptPkg('good1'),
    ...scriptPkg('good2', { deps: 'good1' }),
  };

  it('without -k: start nothing new, exit 1, show the log tail and summary (the real binary)', async () => {
    const rig = new Rig('fail');
    rig.write(tree);
    const r = await rig.cli('-j', '1', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /\[bad-1\.0\] Error: spkg-install failed \(exit code 3\)/);
    // Printed once: the output streamed (prefixed) is not repeated as a tail; with -q it is the tail.
    assert.match(r.all, /\[bad-1\.0\] error: something broke/);
    assert.doesNotMatch(r.stderr, /last \d+ lines of the log/);
    assert.match(r.stderr, /\[bad-1\.0\] its output is above, each line prefixed \[bad-1\.0\]/);
    assert.match(r.stderr, /log file: local\/var\/log\/sagebuild\/pkgs\/bad-1\.0\.log/);
    assert.match(r.stdout, /failed: bad-1\.0 \(log: /);
    assert.ok(!rig.manifests().includes('needsbad-1.0'));
    assert.ok(!rig.exists('local/share/bad/bad.txt'), 'a failed package leaves nothing in the prefix');
    // bad heads the longest chain, so it runs first with -j 1; after it fails nothing new starts.
    assert.match(r.stdout, /not started: .*good/);
    rmSync(rig.path('local'), { recursive: true, force: true });
    const q = await rig.cli('-q', '-j', '1', 'all');
    assert.equal(q.exitCode, 1, q.all);
    assert.doesNotMatch(q.stdout, /something broke/);
    assert.match(q.stderr, /\[bad-1\.0\] last 2 lines of the log:\n\[bad-1\.0\]   compiling bad\.\.\.\n\[bad-1\.0\]   error: something broke/);
    rig.cleanup();
  });

  it('with -k: build everything that does not depend on the failure', async () => {
    const rig = new Rig('failk');
    rig.write(tree);
    const r = await rig.run('-k', '-j', '2', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.deepEqual(rig.manifests(), ['good1-1.0', 'good2-1.0']);
    assert.match(r.stderr, /\[needsbad-1\.0\] skipped: dependency bad-1\.0 failed/);
    assert.match(r.stdout, /summary: built: 2, up to date: 0, failed: 1, skipped \(dependency failed\): 1/);
    rig.cleanup();
  });
});

describe('interruption', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig}: stops the recipe's whole process group, writes no manifest, merges nothing (exit ${code})`, async () => {
      const rig = new Rig('sig');
      rig.write({
        ...scriptPkg('done1'),
        ...scriptPkg('slow', {
          deps: 'done1',
          // Stage a file, then wait on a grandchild process.
          body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/slow" && echo partial > "$SAGE_DESTDIR_LOCAL/share/slow/partial.txt"\nsleep 60 &\necho $! > "$SAGE_ROOT/sleep.pid"\nwait',
        }),
        ...scriptPkg('after', { deps: 'slow' }),
      });
      const child = rig.start(['-j', '2', 'all']);
      const pidFile = rig.path('sleep.pid');
      // The file is written once the grandchild runs: then the signal meets a running build.
      await waitFor('the slow recipe to start its grandchild', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 60_000);
      const sleepPid = Number(readFileSync(pidFile, 'utf8'));
      child.kill(sig);
      const r = await child;
      assert.equal(r.exitCode, code, String(r.all));
      assert.deepEqual(rig.manifests(), ['done1-1.0'], 'finished packages stay installed; nothing unfinished is recorded');
      assert.ok(!rig.exists('local/share/slow'), 'no partial merge');
      assert.match(String(r.all), /interrupted \(nothing of them installed\): slow-1\.0/);
      assert.doesNotMatch(String(r.all), /failed: slow-1\.0/);
      await waitFor('the recipe grandchild to be killed with its process group', () => processGone(sleepPid), 30_000);
      // The next run resumes: slow and after build.
      rig.write({ 'pkgs/slow/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/slow" && echo ok > "$SAGE_DESTDIR_LOCAL/share/slow/ok.txt"\n' });
      const again = await rig.run('all');
      assert.equal(again.exitCode, 0, again.all);
      assert.deepEqual(rig.manifests(), ['after-1.0', 'done1-1.0', 'slow-1.0']);
      rig.cleanup();
    });
  }
});

describe('--trace', () => {
  it('writes a Chrome trace with one slice per package build, in parallel lanes', async () => {
    const rig = new Rig('trace');
    rig.write({ ...probePkg('t1'), ...probePkg('t2'), ...scriptPkg('t3', { deps: 't1' }) });
    const r = await rig.run('-j', '2', '--trace', 'trace.json', 'all');
    assert.equal(r.exitCode, 0, r.all);
    const trace = JSON.parse(readFileSync(rig.path('trace.json'), 'utf8')) as { traceEvents: { name: string; cat: string; ph: string; ts: number; dur: number; tid: number; args: { result: string } }[] };
    // Package slices (phases inside them: test/trace.test.ts).
    const packages = trace.traceEvents.filter((e) => e.cat === 'package');
    const byName = new Map(packages.map((e) => [e.name, e]));
    assert.deepEqual([...byName.keys()].sort(), ['t1-1.0', 't2-1.0', 't3-1.0']);
    for (const e of packages) assert.equal(e.args.result, 'built');
    assert.notEqual(byName.get('t1-1.0')!.tid, byName.get('t2-1.0')!.tid, 'concurrent builds are on different lanes');
    const t1 = byName.get('t1-1.0')!;
    assert.ok(byName.get('t3-1.0')!.ts >= t1.ts + t1.dur, 't3 starts after its dependency ends');
    const bad = await rig.run('--trace', 'no/such/folder/trace.json', 'all');
    assert.equal(bad.exitCode, 2, bad.all);
    assert.match(bad.stderr, /no\/such\/folder\/trace\.json: error: cannot write the --trace file/);
    rig.cleanup();
  });
});
