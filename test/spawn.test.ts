// How a recipe's program is started (proc/spawn.ts's runLogged): through posix_spawn where it can
// be (proc/nativespawn.ts) and through node:child_process otherwise. Both must give the program
// the same world: its own session, signals at their defaults, stdin /dev/null, the extra fds,
// its folder and exactly its environment; and report its end the same way. In-process for the
// native path, and a whole build with SAGEBUILD_SPAWN=node for node's.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EventBus } from '../src/events.ts';
import { nativeSpawn } from '../src/proc/nativespawn.ts';
import { runLogged } from '../src/proc/spawn.ts';
import { Trash } from '../src/proc/trash.ts';
import { GUARD_VAR, SCRIPT as WATCHDOG } from '../src/proc/watchdog.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Rig, processGone, waitFor } from './rig.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'spawn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What a program sees of its own start, one `key value` line each. */
const PROBE = `
echo "ignored $(sed -n 's/^SigIgn:\\t//p' /proc/self/status)"
echo "blocked $(sed -n 's/^SigBlk:\\t//p' /proc/self/status)"
echo "session $(( $(cut -d' ' -f6 /proc/$$/stat) == $$ ))"
echo "stdin $(readlink /proc/$$/fd/0)"
echo "fd3 $(readlink /proc/$$/fd/3)"
echo "fd4 $(readlink /proc/$$/fd/4 || echo none)"
echo "cwd $PWD"
echo "env $(env | grep -c .) $ONLY"
echo "guard $SAGEBUILD_GUARD"
echo "to stderr" >&2
`;

async function run(file: string, args: string[], env: Record<string, string>, fds: { jobserverFd?: number; lockFd?: number } = {}, abort?: AbortController) {
  const bus = new EventBus();
  const lines: string[] = [];
  bus.on((e) => {
    if (e.type === 'output') lines.push(e.line);
  });
  const res = await runLogged(file, args, { cwd: dir, env, id: 'x', bus, signal: (abort ?? new AbortController()).signal, killAfterMs: 200, ...fds });
  return { res, lines };
}

function probeOf(lines: string[]): Record<string, string> {
  return Object.fromEntries(lines.filter((l) => l.includes(' ')).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

describe('starting a recipe program (proc/spawn.ts)', () => {
  it('posix_spawn is used here (Linux, glibc), not node:child_process', async () => {
    const started = nativeSpawn('true', [], dir, { PATH: process.env.PATH! }, []);
    assert.ok(started, 'nativeSpawn returned null: recipes would be started by forking node');
    const c = await started;
    c.stdout.destroy();
    c.stderr.destroy();
    const [code, sig] = await c.exit;
    assert.deepEqual([code, sig], [0, null]);
  });

  it('the program gets its own session, default signals, /dev/null, fds 3 and 4, its folder and only its environment', async () => {
    const jobs = path.join(dir, 'jobs');
    const lock = path.join(dir, 'lock');
    writeFileSync(jobs, '');
    writeFileSync(lock, '');
    const jobFd = openSync(jobs, 'r');
    const lockFd = openSync(lock, 'r');
    try {
      const { res, lines } = await run('bash', ['-c', PROBE], { PATH: process.env.PATH!, ONLY: 'yes' }, { jobserverFd: jobFd, lockFd });
      assert.deepEqual(res, { exitCode: 0, signal: undefined, canceled: false });
      const p = probeOf(lines);
      // glibc's posix_spawn leaves its two internal signals (32, 33) ignored; every other is default.
      assert.equal(BigInt(`0x${p.ignored}`) & 0x7fffffffn, 0n, `ignored signals: ${p.ignored}`);
      assert.equal(BigInt(`0x${p.blocked}`), 0n);
      assert.equal(p.session, '1');
      assert.equal(p.stdin, '/dev/null');
      assert.equal(p.fd3, jobs);
      assert.equal(p.fd4, lock);
      assert.equal(p.cwd, dir);
      // PATH, ONLY, the watchdog's mark (proc/watchdog.ts) and what bash itself sets (PWD, SHLVL,
      // _): nothing of this process's environment.
      assert.match(p.env!, /^[2-6] yes$/);
      assert.match(p.guard!, new RegExp(`^${process.pid}\\.[0-9]+$`));
      assert.ok(lines.includes('to stderr'));
    } finally {
      closeSync(jobFd);
      closeSync(lockFd);
    }
  });

  it('the program is found on the PATH of its own environment, and its end is reported: exit code, signal, not found', async () => {
    const bin = path.join(dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'myprog'), '#!/bin/sh\necho "mine $1"\nexit 7\n', { mode: 0o755 });
    // A PATH entry that is a file (ENOTDIR) is passed over, as execvp does (and one this user cannot search).
    const mine = await run('myprog', ['arg'], { PATH: `${path.join(bin, 'myprog')}:${bin}:${process.env.PATH}` });
    assert.deepEqual(mine.res, { exitCode: 7, signal: undefined, canceled: false });
    assert.deepEqual(mine.lines, ['mine arg']);

    const killed = await run('bash', ['-c', 'kill -TERM $$'], { PATH: process.env.PATH! });
    assert.deepEqual(killed.res, { exitCode: undefined, signal: 'SIGTERM', canceled: false });

    const missing = await run('no-such-program-here', [], { PATH: bin });
    assert.equal(missing.res.exitCode, undefined);
    assert.match(missing.lines.join('\n'), /sagebuild: cannot run no-such-program-here: spawn no-such-program-here ENOENT/);
  });

  it('an abort stops the whole process group, the children the program left behind included', async () => {
    const abort = new AbortController();
    const pidFile = path.join(dir, 'bg.pid');
    rmSync(pidFile, { force: true });
    const running = run('bash', ['-c', `sleep 300 & echo $! > ${pidFile}; echo started; wait`], { PATH: process.env.PATH! }, {}, abort);
    await waitFor('the background sleep', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const bg = Number(readFileSync(pidFile, 'utf8'));
    abort.abort();
    const { res } = await running;
    assert.equal(res.canceled, true);
    await waitFor('the background sleep to be gone', () => processGone(bg), 10_000);
  });
});

describe('the watchdog (proc/watchdog.ts)', () => {
  it("when sagebuild dies it stops the groups it was told of, and finds a start it never heard back from by the mark in its environment; a daemon of a confirmed start is left", async () => {
    const run = `t${process.pid}`;
    // Each in a session of its own, as recipes are; `bash -c` prints the pid of a child in its group.
    const start = (n: number, script: string) => spawn('bash', ['-c', script], { env: { PATH: process.env.PATH!, [GUARD_VAR]: `${run}.${n}` }, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const firstLine = async (c: ReturnType<typeof start>) => Number(String((await once(c.stdout!, 'data'))[0]).trim());
    const told = start(1, 'sleep 300 & echo $!; wait');
    const daemon = start(1, 'echo $$; exec sleep 300'); // carries a confirmed start's mark, in a group of its own
    const unheard = start(2, 'sleep 300 & echo $!; wait');
    const pids = { told: told.pid!, toldChild: await firstLine(told), daemon: await firstLine(daemon), unheard: unheard.pid!, unheardChild: await firstLine(unheard) };
    const dog = spawn('bash', ['--norc', '--noprofile', '-c', WATCHDOG, 'watchdog', run], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      // Start 3 failed (`!`); the pipe then closes without a goodbye, as when sagebuild is killed.
      dog.stdin!.end(`?1\n+${pids.told} 1\n?2\n?3\n!3\n`);
      await once(dog, 'exit');
      for (const k of ['told', 'toldChild', 'unheard', 'unheardChild'] as const) assert.ok(processGone(pids[k]), `${k} (${pids[k]}) still runs`);
      assert.equal(processGone(pids.daemon), false, 'a process outside the groups it knows, of a start it heard back from, is not its to stop');
    } finally {
      for (const pid of Object.values(pids)) if (!processGone(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('build folders removed through the trash (proc/trash.ts)', () => {
  it('a discarded folder leaves its place at once and is removed by rm; what a killed run left goes too', async () => {
    const build = path.join(dir, 'build');
    const trashDir = path.join(build, '.trash');
    mkdirSync(path.join(trashDir, 'old-123-0', 'deep'), { recursive: true });
    writeFileSync(path.join(trashDir, 'old-123-0', 'deep', 'f'), 'left by a killed run');
    const folders = ['a-1.0', 'b-2.0'].map((n) => path.join(build, n));
    for (const f of folders) {
      mkdirSync(path.join(f, 'inst', 'usr', 'lib'), { recursive: true });
      writeFileSync(path.join(f, 'inst', 'usr', 'lib', 'x.so'), 'x');
    }
    const trash = new Trash(trashDir);
    await trash.discard(folders[0]!);
    assert.equal(existsSync(folders[0]!), false);
    mkdirSync(folders[0]!); // the name is free again at once: the next build of a can start
    await trash.discard(folders[1]!);
    await trash.discard(path.join(build, 'never-made')); // nothing there: nothing to do
    await trash.settled();
    assert.deepEqual(readdirSync(trashDir), []);
    assert.deepEqual(readdirSync(build).sort(), ['.trash', 'a-1.0']);
  });
});

describe('without posix_spawn (SAGEBUILD_SPAWN=node)', () => {
  it('a build starts its recipes through node:child_process with the same world', async () => {
    const rig = new Rig();
    const probe = PROBE.replace('echo "cwd $PWD"', 'echo "cwd $([ "$PWD" = "$SAGE_PKG_DIR" ] && echo pkgdir)"').replace('echo "env $(env | grep -c .) $ONLY"', '');
    rig.write({
      'pkgs/a/type': 'standard\n',
      'pkgs/a/package-version.txt': '1.0\n',
      'pkgs/a/spkg-install.in': `${probe}\nmkdir -p "$SAGE_DESTDIR_LOCAL/share" && echo a > "$SAGE_DESTDIR_LOCAL/share/a"\n`,
    });
    try {
      const r = await rig.start(['-v', 'all'], { SAGEBUILD_SPAWN: 'node' });
      assert.equal(r.exitCode, 0, String(r.all));
      const p = probeOf(String(r.stdout).split('\n').map((l) => l.replace(/^\[a-1\.0\] /, '')));
      assert.equal(BigInt(`0x${p.ignored}`), 0n); // all of them: posix_spawn would leave 32 and 33 ignored
      assert.equal(BigInt(`0x${p.blocked}`), 0n);
      assert.equal(p.session, '1');
      assert.equal(p.stdin, '/dev/null');
      assert.match(p.fd3!, /\.jobserver-\d+/);
      assert.match(p.guard!, /^[0-9]+\.[0-9]+$/); // the watchdog's mark (proc/watchdog.ts)
      assert.equal(p.cwd, 'pkgdir');
      assert.match(String(r.all), /to stderr/);
      assert.deepEqual(rig.manifests(), ['a-1.0']);
    } finally {
      rig.cleanup();
    }
  });
});
