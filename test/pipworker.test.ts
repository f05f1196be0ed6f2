// The pip worker (python/pipworker.ts) against a real venv with pip: installs forked from one
// Python that imported pip once, each with its own output, exit status and shared flock; what it
// cannot serve is answered null (the caller then starts pip as a process).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { EventBus } from '../src/events.ts';
import { PipWorkers } from '../src/python/pipworker.ts';
import { Rig, waitFor } from './rig.ts';
import { makeWheel, py, withToolchain } from './pyfixtures.ts';

describe('pip worker', { timeout: 300_000 }, () => {
  const rig = new Rig('pipworker');
  let python: string;
  let wheels: string;
  let lockFile: string;
  const lines = new Map<string, string[]>();
  const bus = new EventBus();
  bus.on((e) => {
    if (e.type === 'output') lines.set(e.id, [...(lines.get(e.id) ?? []), e.line]);
  });
  const install = (workers: PipWorkers, id: string, spec: string) =>
    workers.run(python, ['install', '--isolated', '--disable-pip-version-check', '--no-input', '--no-index', '--no-deps', '--find-links', wheels, spec], {
      cwd: rig.path(),
      env: { PATH: process.env.PATH!, HOME: rig.path() },
      id,
      bus,
      lockFile,
      mode: 'shared',
    });

  before(async () => {
    await withToolchain(rig);
    python = rig.path('local', 'bin', 'python3');
    wheels = rig.path('wheels');
    lockFile = rig.path('local', 'var', 'lock', 'pip3.lock');
    mkdirSync(path.dirname(lockFile), { recursive: true });
    mkdirSync(wheels, { recursive: true });
    await makeWheel(wheels, 'wone', '1.0', 'VALUE = 1\n');
    await makeWheel(wheels, 'wtwo', '1.0', 'VALUE = 2\n');
    await makeWheel(wheels, 'wthree', '1.0', 'VALUE = 3\n');
  });
  after(() => rig.cleanup());

  it('installs from one worker, each request its own output and status, at once or one after another', async () => {
    const workers = new PipWorkers();
    try {
      const [a, b] = await Promise.all([install(workers, 'a', 'wone==1.0'), install(workers, 'b', 'wtwo==1.0')]);
      assert.equal(a?.exitCode, 0, (lines.get('a') ?? []).join('\n'));
      assert.equal(b?.exitCode, 0, (lines.get('b') ?? []).join('\n'));
      assert.ok(lines.get('a')!.some((l) => /Successfully installed wone-1\.0/.test(l)), lines.get('a')!.join('\n'));
      assert.ok(!lines.get('a')!.some((l) => /wtwo/.test(l)), 'no line of the other install');
      // A version the wheelhouse lacks: pip's own error and status, for that request only.
      const bad = await install(workers, 'bad', 'wthree==9.9');
      assert.equal(bad?.exitCode, 1);
      assert.ok(lines.get('bad')!.some((l) => /No matching distribution found for wthree==9\.9/.test(l)), lines.get('bad')!.join('\n'));
      // Installed for the venv's Python, which sees the other's install: each child starts from
      // the worker's state, not from what an earlier install saw.
      assert.equal((await py(rig, 'import wone, wtwo; assert wone.VALUE + wtwo.VALUE == 3')).exitCode, 0);
      const c = await install(workers, 'c', 'wthree==1.0');
      assert.equal(c?.exitCode, 0, (lines.get('c') ?? []).join('\n'));
    } finally {
      workers.close();
    }
  });

  it('each install holds a shared flock on the pip lock: an exclusive holder makes it fail, not run unlocked', async () => {
    // Its own process group: flock's sleep holds the lock too, and goes with it.
    const holder = spawn('flock', ['-x', lockFile, 'sleep', '60'], { stdio: 'ignore', detached: true });
    const workers = new PipWorkers();
    try {
      await waitFor('the exclusive lock to be held', () => {
        const r = execaSyncFlock(lockFile);
        return r !== 0;
      });
      const r = await install(workers, 'locked', 'wthree==1.0');
      assert.equal(r?.exitCode, 1);
      assert.ok(lines.get('locked')!.some((l) => /BlockingIOError|Resource temporarily unavailable/.test(l)), lines.get('locked')!.join('\n'));
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
      await waitFor('the exclusive lock to be released', () => execaSyncFlock(lockFile) === 0);
      workers.close();
    }
  });

  it('an exclusive request: the child waits for the lock until the caller hands it over, then runs', async () => {
    // Another process holds the lock (as sagebuild would, until the child has started): the
    // child is seen blocked on it in /proc/locks, and the uninstall runs once it is let go.
    const pre = new PipWorkers();
    assert.equal((await install(pre, 'pre', 'wthree==1.0'))?.exitCode, 0);
    pre.close();
    const holder = spawn('flock', ['-x', lockFile, 'sleep', '60'], { stdio: 'ignore', detached: true });
    const workers = new PipWorkers();
    try {
      await waitFor('the exclusive lock to be held', () => execaSyncFlock(lockFile) !== 0);
      let started = false;
      let done = false;
      const r = workers.run(python, ['uninstall', '--isolated', '--disable-pip-version-check', '--yes', 'wthree'], { cwd: rig.path(), env: { PATH: process.env.PATH! }, id: 'ex', bus, lockFile, mode: 'exclusive', onStarted: () => (started = true) });
      void r.then(() => (done = true));
      const ino = statSync(lockFile).ino;
      await waitFor('the child to wait for the lock', () => started && readFileSync('/proc/locks', 'utf8').split('\n').some((l) => /->\s+FLOCK/.test(l) && l.includes(`:${ino} `)));
      assert.equal(done, false, 'pip ran while another process held the lock');
      process.kill(-holder.pid!, 'SIGKILL');
      assert.equal((await r)?.exitCode, 0, (lines.get('ex') ?? []).join('\n'));
      assert.ok(lines.get('ex')!.some((l) => /Successfully uninstalled wthree-1\.0/.test(l)), lines.get('ex')!.join('\n'));
    } finally {
      try {
        process.kill(-holder.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      workers.close();
    }
  });

  it('runs each request in its own folder and environment', async () => {
    const workers = new PipWorkers();
    try {
      // --find-links . : found only from the request's folder, not the worker's.
      const args = ['install', '--isolated', '--disable-pip-version-check', '--no-index', '--no-deps', '--force-reinstall', '--find-links', '.', 'wtwo==1.0'];
      const r = await workers.run(python, args, { cwd: wheels, env: { PATH: process.env.PATH! }, id: 'cwd', bus, lockFile, mode: 'shared' });
      assert.equal(r?.exitCode, 0, (lines.get('cwd') ?? []).join('\n'));
      // pip reads PIP_* from the request's environment (where not --isolated).
      const env = { PATH: process.env.PATH!, PIP_INDEX_URL: 'http://index.invalid/simple/' };
      assert.equal((await workers.run(python, ['config', 'list'], { cwd: rig.path(), env, id: 'env', bus, lockFile, mode: 'shared' }))?.exitCode, 0);
      assert.match((lines.get('env') ?? []).join('\n'), /env:\.index-url='http:\/\/index\.invalid\/simple\/'/);
    } finally {
      workers.close();
    }
  });

  it("pip's user agent is worded once per worker (rustc, lsb_release started once), not per install", async () => {
    // Both on the requests' PATH, counting their starts.
    const bin = rig.path('agentbin');
    mkdirSync(bin, { recursive: true });
    for (const [name, out] of [['rustc', 'rustc 9.9.9 (test 2026-01-01)'], ['lsb_release', 'Distributor ID:\tTest']]) {
      writeFileSync(path.join(bin, name!), `#!/bin/sh\necho x >> ${JSON.stringify(path.join(bin, `${name}.count`))}\necho '${out}'\n`, { mode: 0o755 });
    }
    const starts = (name: string) => (existsSync(path.join(bin, `${name}.count`)) ? readFileSync(path.join(bin, `${name}.count`), 'utf8').split('\n').filter(Boolean).length : 0);
    const workers = new PipWorkers();
    const env = { PATH: `${bin}:${process.env.PATH!}`, HOME: rig.path() };
    const reinstall = (id: string) =>
      workers.run(python, ['install', '--isolated', '--disable-pip-version-check', '--no-input', '--no-index', '--no-deps', '--force-reinstall', '--find-links', wheels, 'wone==1.0'], { cwd: rig.path(), env, id, bus, lockFile, mode: 'shared' });
    try {
      for (const id of ['ua1', 'ua2', 'ua3']) assert.equal((await reinstall(id))?.exitCode, 0, (lines.get(id) ?? []).join('\n'));
      assert.equal(starts('rustc'), 1, 'rustc --version once, before the first fork');
      assert.ok(starts('lsb_release') <= 1, `lsb_release started ${starts('lsb_release')} times`);
    } finally {
      workers.close();
    }
  });

  it('answers null once pip changed on disk, and for an interpreter without pip', async () => {
    const workers = new PipWorkers();
    try {
      assert.equal((await install(workers, 'warm', 'wtwo==1.0'))?.exitCode, 0);
      const init = (await execa(python, ['-c', 'import pip; print(pip.__file__)'])).stdout;
      const now = new Date(Date.now() + 5000);
      utimesSync(init, now, now);
      assert.equal(await install(workers, 'stale', 'wtwo==1.0'), null);
      // A new worker imports the pip now on disk.
      assert.equal((await install(workers, 'renewed', 'wtwo==1.0'))?.exitCode, 0);
    } finally {
      workers.close();
    }
    const bare = rig.path('bare');
    await execa('python3', ['-m', 'venv', '--without-pip', bare]);
    const none = new PipWorkers();
    try {
      const r = await none.run(path.join(bare, 'bin', 'python3'), ['install', 'x'], { cwd: rig.path(), env: { PATH: process.env.PATH! }, id: 'nopip', bus, lockFile, mode: 'shared' });
      assert.equal(r, null);
    } finally {
      none.close();
    }
  });
});

/** flock -n -s's exit status: 0 when a shared lock could be taken now. */
function execaSyncFlock(lockFile: string): number {
  return spawnSync('flock', ['-n', '-s', lockFile, 'true']).status ?? 1;
}
