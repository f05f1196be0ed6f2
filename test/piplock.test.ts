// The pip lock (Sage's protocol) with real processes: installs take <venv>/var/lock/pip3.lock
// shared, uninstalls exclusive, wheel builds and C builds never wait for it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Rig, scriptPkg, waitFor } from './rig.ts';
import { withToolchain, purePkg, py } from './pyfixtures.ts';

const LOCK = 'local/var/lock/pip3.lock';

/** Holds the pip lock from another process (as a user's `flock -x ... pip uninstall` would) until released. */
function holdLock(rig: Rig, mode: '-x' | '-s', tag: string): ResultPromise {
  return execa('flock', [mode, rig.path(LOCK), 'bash', '-c', `touch ${tag}.held; while [ ! -e ${tag}.release ]; do sleep 0.05; done`], { cwd: rig.dir });
}

function collect(child: ResultPromise<{ all: true; reject: false }>): { text: () => string } {
  let buf = '';
  child.all?.on('data', (d: Buffer) => (buf += d.toString()));
  return { text: () => buf };
}

describe('pip lock', { timeout: 600_000 }, () => {
  const rig = new Rig('piplock');
  before(async () => {
    await withToolchain(rig, 'jobs: 2\n');
    rig.write(purePkg('pa', '0.1'));
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
  });
  after(() => rig.cleanup());

  it('while the lock is held exclusively, no install happens; wheel builds and C builds go on', async () => {
    const holder = holdLock(rig, '-x', 'x1');
    let child: ReturnType<Rig['start']> | undefined;
    try {
      await waitFor('the lock holder', () => rig.exists('x1.held'));
      rig.write({ ...purePkg('pb', '0.1'), ...scriptPkg('cnew') });
      child = rig.start(['all']);
      const out = collect(child);
      await waitFor('the wait message', () => /waiting for shared lock/.test(out.text()));
      assert.match(out.text(), new RegExp(`\\[pb-0\\.1\\] waiting for shared lock .*pip3\\.lock \\(held by PID ${holder.pid} \\(exclusive: flock -x `));
      await waitFor('the C package', () => rig.manifests().includes('cnew-1.0'));
      // The run's staging folder is build/<pkg>/inst-<run>/ (one per run).
      const build = rig.path('local/var/tmp/sage/build/pb-0.1');
      const staged = (existsSync(build) ? readdirSync(build) : []).filter((d) => d.startsWith('inst-')).map((d) => path.join(build, d, rig.path('local/var/lib/sage/wheels/pb-0.1-py3-none-any.whl')));
      const inWheelhouse = rig.path('local/var/lib/sage/wheels/pb-0.1-py3-none-any.whl');
      assert.ok(staged.some((f) => existsSync(f)) || existsSync(inWheelhouse), 'the wheel was built while the lock was held');
      assert.ok(!rig.manifests().includes('pb-0.1'), 'not installed while the lock is held');
      assert.notEqual((await py(rig, 'import pb')).exitCode, 0);
    } finally {
      writeFileSync(rig.path('x1.release'), ''); // never leave the holder (and so the run) waiting
    }
    await holder;
    const r = await child!;
    assert.equal(r.exitCode, 0, String(r.all));
    assert.ok(rig.manifests().includes('pb-0.1'));
    assert.equal((await py(rig, 'import pb')).exitCode, 0);
  });

  it('while it is held shared, installs proceed; an uninstall waits for it', async () => {
    const holder = holdLock(rig, '-s', 's1');
    let clean: ReturnType<Rig['start']> | undefined;
    try {
      await waitFor('the lock holder', () => rig.exists('s1.held'));
      rig.write(purePkg('pc', '0.1'));
      const r = await rig.run('all');
      assert.equal(r.exitCode, 0, r.all);
      assert.doesNotMatch(r.all, /waiting for/);
      assert.equal((await py(rig, 'import pc')).exitCode, 0, 'installed while another process held the lock shared');
      clean = rig.start(['pa-clean']);
      const out = collect(clean);
      await waitFor('the wait message', () => /waiting for exclusive lock/.test(out.text()));
      assert.equal((await py(rig, 'import pa')).exitCode, 0, 'not uninstalled while an install may run');
    } finally {
      writeFileSync(rig.path('s1.release'), '');
    }
    await holder;
    const c = await clean!;
    assert.equal(c.exitCode, 0, String(c.all));
    assert.notEqual((await py(rig, 'import pa')).exitCode, 0);
  });

  it('two sagebuild processes on one prefix: an uninstall never overlaps another pip run', async () => {
    rig.write({ ...purePkg('pb', '0.1'), ...purePkg('pc', '0.1') });
    assert.equal((await rig.run('pb', 'pc')).exitCode, 0);
    // Every Python start in the venv logs its pip command, and when it ended; so does every
    // install or uninstall forked by sagebuild's pip worker (from taking its flock to os._exit,
    // which skips atexit).
    const site = readdirSync(rig.path('local/lib')).find((d) => d.startsWith('python'))!;
    const log = rig.path('pipruns.log');
    writeFileSync(
      rig.path('local/lib', site, 'site-packages', 'sitecustomize.py'),
      [
        'import atexit, os, sys, time',
        `LOG = ${JSON.stringify(log)}`,
        'op = next((a for a in sys.argv[1:] if a in ("install", "uninstall")), None)',
        'if op and (sys.argv[0] == "-m" or "pip" in sys.argv[0]):',
        '    start = time.time()',
        '    atexit.register(lambda: open(LOG, "a").write(f"{os.getpid()} {op} {start} {time.time()}\\n"))',
        'def forked():',
        '    import fcntl',
        '    exit_, flock_, held = os._exit, fcntl.flock, []',
        '    def flock(fd, op):',
        '        flock_(fd, op)',
        '        held.append(time.time())',
        '    def logged(code):',
        '        op = next((a for a in sys.argv[1:] if a in ("install", "uninstall")), None)',
        '        if op and held:',
        '            open(LOG, "a").write(f"{os.getpid()} {op} {held[0]} {time.time()}\\n")',
        '        exit_(code)',
        '    fcntl.flock, os._exit = flock, logged',
        'os.register_at_fork(after_in_child=forked)',
      ].join('\n') + '\n',
    );
    const run = (args: string[]) => rig.start(args);
    const a = run(['pb-clean', 'pb', 'pb-clean', 'pb']);
    const b = run(['pc-clean', 'pc', 'pc-clean', 'pc']);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.exitCode, 0, String(ra.all));
    assert.equal(rb.exitCode, 0, String(rb.all));
    const runs = readFileSync(log, 'utf8').trim().split('\n').map((l) => {
      const [pid, op, start, end] = l.split(' ');
      return { pid, op, start: Number(start), end: Number(end) };
    });
    assert.equal(runs.filter((x) => x.op === 'uninstall').length, 4);
    assert.equal(runs.filter((x) => x.op === 'install').length, 4);
    for (const u of runs.filter((x) => x.op === 'uninstall')) {
      for (const o of runs) {
        if (o === u) continue;
        assert.ok(o.end <= u.start || o.start >= u.end, `uninstall ${JSON.stringify(u)} overlaps ${JSON.stringify(o)}`);
      }
    }
    assert.equal((await py(rig, 'import pb, pc')).exitCode, 0);
  });

  it('Ctrl-C / SIGTERM while waiting for the lock stops at once: the installed version stays', async () => {
    rig.write(purePkg('pd', '0.1'));
    assert.equal((await rig.run('pd')).exitCode, 0);
    rig.write(purePkg('pd', '0.2'));
    const holder = holdLock(rig, '-x', 'x2');
    await waitFor('the lock holder', () => rig.exists('x2.held'));
    try {
      const up = rig.start(['pd']);
      const upOut = collect(up);
      await waitFor('the upgrade to wait', () => /\[pd-0\.2\] waiting for exclusive lock/.test(upOut.text()));
      up.kill('SIGTERM');
      const u = await up; // while the lock is still held
      assert.equal(u.exitCode, 143, String(u.all));
      assert.ok(rig.manifests().includes('pd-0.1') && !rig.manifests().includes('pd-0.2'), rig.manifests().join(' '));
      assert.equal((await py(rig, 'import pd; assert pd.VERSION == "0.1"')).exitCode, 0);

      const clean = rig.start(['pd-clean']);
      const cleanOut = collect(clean);
      await waitFor('the clean to wait', () => /waiting for exclusive lock/.test(cleanOut.text()));
      clean.kill('SIGINT');
      const c = await clean;
      assert.equal(c.exitCode, 130, String(c.all));
      assert.ok(rig.manifests().includes('pd-0.1'));
      assert.equal((await py(rig, 'import pd')).exitCode, 0, 'not uninstalled');
    } finally {
      writeFileSync(rig.path('x2.release'), '');
      await holder;
    }
  });
});
