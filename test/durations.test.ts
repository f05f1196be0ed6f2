// Priority by recorded build times (state/durations.ts, scheduler.ts's weighted critical path).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { criticalPath, schedule, type Task } from '../src/scheduler.ts';
import { expectedDurations, guessMs, readDurations, recordDurations, type SourceHint } from '../src/state/durations.ts';
import { durationsFile } from '../src/state/layout.ts';
import { Rig, scriptPkg } from './rig.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('priority by recorded durations', () => {
  it('the critical path weighs each task by its expected duration', () => {
    const tasks: Task[] = [
      { id: 'slow', after: [] },
      { id: 'a', after: [] },
      { id: 'b', after: ['a'] },
    ];
    // By count, the chain a -> b (2) comes before slow (1); by time, slow (60) before a -> b (2 + 3).
    assert.deepEqual(Object.fromEntries(criticalPath(tasks)), { slow: 1, a: 2, b: 1 });
    const w: Record<string, number> = { slow: 60, a: 2, b: 3 };
    assert.deepEqual(Object.fromEntries(criticalPath(tasks, (id) => w[id]!)), { slow: 60, a: 5, b: 3 });
  });

  it('with -j 1 the scheduler starts the task heading the longest timed chain first', async () => {
    const tasks: Task[] = [
      { id: 'a', after: [] },
      { id: 'b', after: ['a'] },
      { id: 'slow', after: [] },
    ];
    const w: Record<string, number> = { slow: 60, a: 2, b: 3 };
    const order: string[] = [];
    await schedule(tasks, async (id) => (order.push(id), true), { jobs: 1, keepGoing: false, signal: new AbortController().signal, weight: (id) => w[id]! });
    assert.deepEqual(order, ['slow', 'a', 'b']);
    order.length = 0;
    await schedule(tasks, async (id) => (order.push(id), true), { jobs: 1, keepGoing: false, signal: new AbortController().signal });
    assert.deepEqual(order, ['a', 'b', 'slow'], 'without times, the longer chain by count');
  });

  it('unknown packages are taken for a typical one (the median); with nothing recorded every package weighs 1', () => {
    const known = new Map([['x', 100], ['y', 300], ['z', 200]]);
    const w = expectedDurations(known, ['x', 'new']);
    assert.equal(w('x'), 100);
    assert.equal(w('new'), 200);
    assert.equal(expectedDurations(new Map(), ['a'])('a'), 1);
  });

  it('a package never timed here is guessed by kind and tarball size, scaled to the times recorded here', () => {
    const c = (mb: number | null): SourceHint => ({ kind: 'normal', python: false, bytes: mb === null ? null : mb * 2 ** 20 });
    const hints: Record<string, SourceHint> = {
      big: c(40), small: c(1), sdist: { kind: 'normal', python: true, bytes: 40 * 2 ** 20 }, wheel: { kind: 'wheel', python: true, bytes: 40 * 2 ** 20 },
      pip: { kind: 'pip', python: true, bytes: null }, dummy: { kind: 'none', python: false, bytes: null }, notar: c(null),
    };
    const hint = (n: string): SourceHint | null => hints[n] ?? null;
    // Nothing recorded: the guesses as they are.
    const w = expectedDurations(new Map(), Object.keys(hints), hint);
    const rank = Object.keys(hints).sort((a, b) => w(b) - w(a));
    assert.deepEqual(rank, ['big', 'sdist', 'small', 'notar', 'pip', 'wheel', 'dummy']);
    assert.equal(w('big'), guessMs(hints.big!));
    assert.equal(w('small'), (30 + 40) * 1000, 'a C tarball: 30 s and 40 s per MB');
    // This machine built `small` ten times faster than guessed: `big`, never built here, is scaled alike.
    const known = new Map([['small', 7000]]);
    const w2 = expectedDurations(known, ['small', 'big', 'other'], hint);
    assert.equal(w2('small'), 7000, 'a recorded time is kept');
    assert.equal(Math.round(w2('big')), Math.round(guessMs(hints.big!) / 10));
    assert.equal(w2('other'), 7000, 'no hint: the median of the recorded times');
    // Recorded times, but none of a hinted package: the median, as without hints.
    assert.equal(expectedDurations(new Map([['gone', 500]]), ['big'], hint)('big'), 500);
  });

  it('times are merged into the prefix file, which a damaged file does not break', () => {
    const prefix = mkdtempSync(path.join(tmpdir(), 'durations-'));
    dirs.push(prefix);
    recordDurations(prefix, new Map([['a', 10]]));
    recordDurations(prefix, new Map([['b', 20]]));
    assert.deepEqual(Object.fromEntries(readDurations(prefix)), { a: 10, b: 20 });
    recordDurations(prefix, new Map([['a', 5]]));
    assert.deepEqual(Object.fromEntries(readDurations(prefix)), { a: 5, b: 20 });
    writeFileSync(durationsFile(prefix), '{"a": 5, "b": "bad", "c": -1, ');
    assert.deepEqual(Object.fromEntries(readDurations(prefix)), {}, 'a cut-off file reads as empty');
    writeFileSync(durationsFile(prefix), '{"a": 5, "b": "bad", "c": -1}');
    assert.deepEqual(Object.fromEntries(readDurations(prefix)), { a: 5 }, 'entries that are not times are ignored');
  });

  it('a build records each built package\'s time in the prefix', async () => {
    const rig = new Rig('sagebuild-durations');
    try {
      rig.write({ 'build.config.yaml': 'prefix: local\n', ...scriptPkg('p'), ...scriptPkg('q', { deps: 'p' }) });
      const r = await rig.run('q');
      assert.equal(r.exitCode, 0, r.all);
      const recorded = JSON.parse(rig.read('local/var/lib/sage/sagebuild/durations.json')) as Record<string, number>;
      assert.deepEqual(Object.keys(recorded).sort(), ['p', 'q']);
      assert.ok(Object.values(recorded).every((v) => typeof v === 'number' && v >= 0));
    } finally {
      rig.cleanup();
    }
  });
});
