// In-process OS flocks (src/proc/flock.ts): exclusion inside one process without a program per
// acquisition, and compatibility with flock(1) (Sage's scripts take pip3.lock with it).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireFlock, nativeFlock } from '../src/proc/flock.ts';
import { Rig } from './rig.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sagebuild-flock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NEVER = new AbortController().signal;

/** Takes an exclusive flock on `fd` without waiting, as flock.ts does: true if taken. */
const flockNB = (fd: number): boolean => nativeFlock()!.flock(fd, 2 | 4) === 0;

/** flock(1)'s answer: can another process take the lock now? */
function freeFor(file: string, mode: '-s' | '-x'): boolean {
  return spawnSync('flock', ['-n', '-E', '75', mode, file, 'true']).status === 0;
}

describe('in-process flocks', { skip: nativeFlock() ? false : 'flock(2) cannot be called in-process here' }, () => {
  it('two exclusive holders in one process exclude each other; a release wakes the waiter', async () => {
    const f = path.join(dir, 'a.lock');
    const first = (await acquireFlock(f, 'exclusive', NEVER, () => assert.fail('no other process holds it')))!;
    assert.equal(freeFor(f, '-s'), false, 'another process sees it held');
    let settled = false;
    const waiting = acquireFlock(f, 'exclusive', NEVER, () => assert.fail('a holder in this process is not announced')).then((l) => ((settled = true), l));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'the second waits');
    first.release();
    const second = await waiting;
    assert.ok(second, 'woken by the release');
    second.release();
    assert.equal(freeFor(f, '-x'), true, 'released for other processes');
  });

  it('shared holders coexist; an exclusive one waits for both', async () => {
    const f = path.join(dir, 'b.lock');
    const a = (await acquireFlock(f, 'shared', NEVER, () => assert.fail()))!;
    const b = (await acquireFlock(f, 'shared', NEVER, () => assert.fail()))!;
    assert.equal(freeFor(f, '-s'), true, 'flock -s joins them');
    assert.equal(freeFor(f, '-x'), false);
    let got = false;
    const x = acquireFlock(f, 'exclusive', NEVER, () => assert.fail()).then((l) => ((got = true), l));
    a.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(got, false, 'still one shared holder');
    b.release();
    (await x)!.release();
    assert.equal(got, true);
  });

  it('a lock held by another process (flock(1)) is announced, waited for, then taken; an abort ends the wait', async () => {
    const f = path.join(dir, 'c.lock');
    const holder = spawn('flock', ['-x', f, '-c', 'echo held; read x'], { stdio: ['pipe', 'pipe', 'ignore'] });
    await once(holder.stdout!, 'data');
    let announced = 0;
    const ac = new AbortController();
    const aborted = acquireFlock(f, 'shared', ac.signal, () => announced++);
    const waiting = acquireFlock(f, 'exclusive', NEVER, () => announced++);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    assert.equal(await aborted, null, 'the aborted wait gives up');
    holder.stdin!.end('\n');
    const l = (await waiting)!;
    assert.ok(l);
    assert.equal(announced, 2, 'each wait for another process is announced once');
    assert.equal(freeFor(f, '-s'), false, 'now held here');
    l.release();
  });

  it('release() unlocks every copy of the descriptor: a child holding one (as a child being started does until its execve) does not keep the lock; one that outlives its closing (sagebuild killed) does', async () => {
    const f = path.join(dir, 'd.lock');
    const l = (await acquireFlock(f, 'exclusive', NEVER, () => assert.fail()))!;
    const child = spawn('bash', ['-c', 'echo up; read x'], { stdio: ['pipe', 'pipe', 'ignore', l.fd] });
    try {
      await once(child.stdout!, 'data');
      l.release();
      assert.equal(freeFor(f, '-s'), true, 'released, though the child still has the descriptor');
    } finally {
      child.stdin!.end('\n');
      await once(child, 'exit');
    }
    // A descriptor closed without release(), as when sagebuild dies: the child's copy keeps the lock.
    const fd = openSync(f, 'r');
    assert.equal(flockNB(fd), true);
    const keeper = spawn('bash', ['-c', 'echo up; read x'], { stdio: ['pipe', 'pipe', 'ignore', fd] });
    try {
      await once(keeper.stdout!, 'data');
      closeSync(fd);
      assert.equal(freeFor(f, '-s'), false, 'the child still holds it');
    } finally {
      keeper.stdin!.end('\n');
      await once(keeper, 'exit');
    }
    assert.equal(freeFor(f, '-s'), true);
  });
});

describe('without in-process flock (SAGEBUILD_FLOCK=process)', () => {
  it('a build still takes its locks, through flock(1) processes', async () => {
    const rig = new Rig();
    rig.write({
      'build.config.yaml': 'jobs: 2\n',
      'pkgs/a/type': 'standard\n',
      'pkgs/a/package-version.txt': '1.0\n',
      'pkgs/a/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share" && echo a > "$SAGE_DESTDIR_LOCAL/share/a"\n',
      'pkgs/b/type': 'standard\n',
      'pkgs/b/package-version.txt': '1.0\n',
      'pkgs/b/dependencies': 'a\n',
      'pkgs/b/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share" && echo b > "$SAGE_DESTDIR_LOCAL/share/b"\n',
    });
    try {
      const r = await rig.start(['all'], { SAGEBUILD_FLOCK: 'process' });
      assert.equal(r.exitCode, 0, String(r.all));
      assert.deepEqual(rig.manifests(), ['a-1.0', 'b-1.0']);
    } finally {
      rig.cleanup();
    }
  });
});

describe('install_date', () => {
  it('is what `date` prints (C locale), with the zone asked once per offset', async () => {
    const { dateAsDatePrints } = await import('../src/state/date.ts');
    const tz = process.env.TZ;
    try {
      for (const zone of ['UTC', 'Europe/Paris', 'America/New_York']) {
        process.env.TZ = zone;
        for (const when of [new Date('2026-01-15T12:00:00Z'), new Date('2026-07-04T23:30:05Z')]) {
          const expected = spawnSync('date', [`-d@${Math.floor(when.getTime() / 1000)}`], { env: { ...process.env, LC_ALL: 'C' } }).stdout.toString().trim();
          assert.equal(dateAsDatePrints(when), expected, zone);
        }
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
