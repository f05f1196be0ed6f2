// Issue 9: what must hold whatever happens to a run (crashes, hostile environments, full disks).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, Rig, processGone, scriptPkg, waitFor, type Tree } from './rig.ts';
import { processStart } from '../src/util/proc.ts';
import { defaultLogsDir } from '../src/state/layout.ts';

/** One raw tar header block (ustar), and the data blocks after it. */
function tarBlock(name: string, type: string, o: { data?: string; linkname?: string; mode?: number } = {}): Buffer {
  const data = Buffer.from(o.data ?? '');
  const h = Buffer.alloc(512);
  const put = (s: string, at: number, len: number) => h.write(s.slice(0, len), at, 'latin1');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(oct((o.mode ?? 0o644), 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(data.length, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put(type, 156, 1);
  put(o.linkname ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}

/** A pax extended header record `key=value`. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n++;
  return `${n}${body}`;
}

/** A recipe `name` whose tarball (in upstream/) is `blocks`; its install lists what it unpacked. */
function rawTarPkg(rig: Rig, name: string, blocks: Buffer[]): Tree {
  const body = Buffer.concat([...blocks, Buffer.alloc(1024)]);
  const file = rig.path('upstream', `${name}-1.0.tar`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: '1.0\n',
    [`pkgs/${name}/checksums.ini`]: `tarball=${name}-VERSION.tar\nsha256=${createHash('sha256').update(body).digest('hex')}\n`,
    [`pkgs/${name}/spkg-install.in`]: `mkdir -p "$SAGE_DESTDIR_LOCAL/share/${name}"\n(cd src && find . -print | LC_ALL=C sort) > "$SAGE_DESTDIR_LOCAL/share/${name}/listing"\ncp -a src "$SAGE_DESTDIR_LOCAL/share/${name}/tree"\n`,
  };
}


describe('hostile environments', () => {
  const rig = new Rig('sagebuild-hostile');
  after(() => rig.cleanup());

  it("lock helpers never run the user's ~/.bashrc (cron, systemd and env -i leave SHLVL unset)", async () => {
    rig.write({
      'build.config.yaml': 'prefix: local\n',
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      'home/.bashrc': `echo "$$" >> "${rig.path('bashrc-ran')}"\n`,
    });
    // No SHLVL, $SHELL bash, a HOME with a .bashrc: what a cron job or a systemd unit looks like.
    const r = await execa('node', [CLI, 'all'], { cwd: rig.dir, reject: false, all: true, extendEnv: false, env: { PATH: process.env.PATH!, HOME: rig.path('home'), SHELL: '/bin/bash', PIP_RETRIES: '0' } });
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.exists('local/share/b/b.txt'));
    assert.equal(existsSync(rig.path('bashrc-ran')), false, '~/.bashrc ran for a lock');
  });

  it('-j beyond what the jobserver pipe holds is a usage error (it hung, ignoring Ctrl-C), from -j and from the config', { timeout: 120_000 }, async () => {
    rig.write({ 'build.config.yaml': 'prefix: local3\n', ...scriptPkg('a') });
    const cli = await rig.run('-j', '65538', 'a');
    assert.equal(cli.exitCode, 2, cli.all);
    assert.match(cli.all, /expected a whole number from 1 to 4096/);
    rig.write({ 'build.config.yaml': 'prefix: local3\njobs: 65538\n' });
    const cfg = await rig.run('a');
    assert.equal(cfg.exitCode, 2, cfg.all);
    assert.match(cfg.stderr, /build\.config\.yaml:2:7: error: 'jobs': expected a whole number from 1 to 4096/);
    assert.deepEqual(rig.manifests('local3'), [], 'nothing was built');
  });

  it('a log folder that cannot take files is exit 2 before anything builds, naming it', async () => {
    rig.write({ 'build.config.yaml': 'prefix: local2\nlogs: not-a-folder\n', 'not-a-folder': 'a file\n', ...scriptPkg('a'), ...scriptPkg('b', { deps: 'a' }) });
    const r = await rig.run('b');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /not-a-folder\/pkgs: error: cannot create log files in this folder: (ENOTDIR|EEXIST)/);
    assert.deepEqual(rig.manifests('local2'), [], 'nothing was built');
  });

  it('in-tree sources linking to /dev/zero, a FIFO or / are refused by the one rule: status and -n answer, the build fails naming the link', { timeout: 120_000 }, async () => {
    rig.write({
      'build.config.yaml': 'prefix: local4\n',
      ...scriptPkg('zero'),
      'pkgs/zero/src/zero': { symlink: '/dev/zero' },
      ...scriptPkg('fifo'),
      'pkgs/fifo/src/ok.c': 'int x;\n',
      ...scriptPkg('root'),
      'pkgs/root/src/all': { symlink: '/' },
    });
    execFileSync('mkfifo', [rig.path('fifo-target')]);
    rig.write({ 'pkgs/fifo/src/pipe': { symlink: rig.path('fifo-target') } });
    const st = await rig.run('status');
    assert.equal(st.exitCode, 3, st.all); // answered: not installed
    const dry = await rig.run('-n', 'zero', 'fifo', 'root');
    assert.equal(dry.exitCode, 0, dry.all);
    const r = await rig.run('-k', 'zero', 'fifo', 'root');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all, /src\/zero leads to \/dev\/zero, which is not a regular file or folder/);
    assert.match(r.all, /src\/pipe leads to .*fifo-target, which is not a regular file or folder/);
    assert.match(r.all, /symlink loop: .*src\/all leads to \/, which contains the link itself/);
    assert.deepEqual(rig.manifests('local4'), []);
  });

  it('archives: what is checked is what is extracted; device nodes and FIFOs are refused; set-ID bits are dropped, said so', { timeout: 120_000 }, async () => {
    const outside = rig.path('outside');
    mkdirSync(outside, { recursive: true });
    rig.write({ 'build.config.yaml': 'prefix: local5\n' });
    rig.write({
      // A pax path record, then a GNU long name: readers disagree on which names the member.
      // GNU tar takes the pax path, through a link leading out; node-tar the long name.
      ...rawTarPkg(rig, 'twonames', [
        tarBlock('twonames-1.0/', '5', { mode: 0o755 }),
        tarBlock('twonames-1.0/out', '2', { linkname: outside }),
        tarBlock('twonames-1.0/PaxHeaders/x', 'x', { data: paxRecord('path', 'twonames-1.0/out/pwned') }),
        tarBlock('././@LongLink', 'L', { data: 'twonames-1.0/benign.txt\0' }),
        tarBlock('twonames-1.0/x', '0', { data: 'hello\n' }),
      ]),
      ...rawTarPkg(rig, 'devices', [
        tarBlock('devices-1.0/', '5', { mode: 0o755 }),
        tarBlock('devices-1.0/ok.txt', '0', { data: 'ok\n' }),
        tarBlock('devices-1.0/disk', '4', { mode: 0o666 }),
        tarBlock('devices-1.0/tty', '3', { mode: 0o666 }),
        tarBlock('devices-1.0/pipe', '6', { mode: 0o644 }),
      ]),
      ...rawTarPkg(rig, 'setid', [
        tarBlock('setid-1.0/', '5', { mode: 0o755 }),
        tarBlock('setid-1.0/su', '0', { data: '#!/bin/sh\n', mode: 0o4755 }),
        tarBlock('setid-1.0/sg', '0', { data: '#!/bin/sh\n', mode: 0o2755 }),
        tarBlock('setid-1.0/plain', '0', { data: 'x\n', mode: 0o644 }),
      ]),
    });
    const r = await rig.run('--offline', '-k', 'twonames', 'devices', 'setid');
    assert.equal(r.exitCode, 1, r.all);
    assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the build');
    // The name node-tar checked is the name extracted.
    assert.equal(rig.exists('local5/share/twonames/listing') ? rig.read('local5/share/twonames/listing') : r.all, '.\n./benign.txt\n./out\n');
    assert.equal(readlinkSync(rig.path('local5/share/twonames/tree/out')), outside, 'an absolute link target is kept, as GNU tar keeps it');
    assert.match(r.all, /refusing to unpack .*devices-1\.0\.tar: 3 unsafe member\(s\): devices-1\.0\/disk \(a device node\), devices-1\.0\/tty \(a device node\), devices-1\.0\/pipe \(a FIFO\)/);
    assert.equal(rig.exists('local5/share/devices'), false);
    assert.match(r.all, /dropped set-user\/group-ID bits of 2 member\(s\) of setid-1\.0\.tar: setid-1\.0\/su, setid-1\.0\/sg/);
    for (const f of ['su', 'sg']) assert.equal(statSync(rig.path('local5/share/setid/tree', f)).mode & 0o7777, 0o755, f);
  });

  it('a package that depends on itself (normal or order-only) is an error naming the file, as every normal-edge cycle is', async () => {
    const t = new Rig('sagebuild-selfdep');
    try {
      t.write({ ...scriptPkg('a', { deps: 'a' }), ...scriptPkg('b', { deps: '| b' }), ...scriptPkg('c') });
      const r = await t.run('-n', 'all');
      assert.equal(r.exitCode, 2, r.all);
      assert.match(r.stderr, /pkgs\/a\/dependencies:1: error: package 'a' depends on itself/);
      assert.match(r.stderr, /pkgs\/b\/dependencies:1: error: package 'b' depends on itself/);
    } finally {
      t.cleanup();
    }
  });
  it('links in a recipe folder that lead nowhere, loop, or lead to a folder holding them are left out of its copy with a warning, as Sage\'s cp -RL does (was a raw ENOENT/ELOOP)', { timeout: 120_000 }, async () => {
    rig.write({
      'build.config.yaml': 'prefix: local6\n',
      ...scriptPkg('links'),
      'pkgs/links/dangling': { symlink: 'nowhere' },
      'pkgs/links/loop': { symlink: 'loop' },
      'pkgs/links/patches/up': { symlink: '..' },
    });
    const r = await rig.run('links');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.all, /not copying .*pkgs\/links\/dangling from the recipe: a symlink that leads nowhere/);
    assert.match(r.all, /not copying .*pkgs\/links\/loop from the recipe: a symlink loop/);
    assert.match(r.all, /not copying .*pkgs\/links\/patches\/up from the recipe: a symlink to a folder that contains it/);
    assert.deepEqual(rig.manifests('local6'), ['links-1.0']);
  });
  it('a staged file name that is not UTF-8 fails that package with the name shown escaped (was a raw ENOENT), the prefix untouched', async () => {
    rig.write({
      'build.config.yaml': 'prefix: local7\n',
      ...scriptPkg('latin1', { body: `mkdir -p "$SAGE_DESTDIR_LOCAL/share/l" && echo x > "$SAGE_DESTDIR_LOCAL/share/l/caf$(printf '\\351')"` }),
    });
    const r = await rig.run('latin1');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all, /installed file names that are not UTF-8, which sagebuild cannot merge or record: .*share\/l\/caf\\xe9/);
    assert.deepEqual(rig.manifests('local7'), []);
    assert.equal(rig.exists('local7/share/l'), false);
  });
  it('a --prefix or build_dir: that is a file (or under one) is exit 2 naming it, for every command (-clean was an internal error, exit 70)', async () => {
    rig.write({ 'build.config.yaml': 'prefix: local8\n', ...scriptPkg('e'), 'plainfile': 'not a folder\n' });
    for (const args of [['--prefix', 'plainfile', 'status'], ['--prefix', 'plainfile/sub', 'e-clean'], ['--prefix', 'plainfile', 'e']]) {
      const r = await rig.run(...args);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.all}`);
      assert.match(r.stderr, /plainfile: error: --prefix .*plainfile(\/sub)? cannot be a folder: .*a file/);
    }
    rig.write({ 'build.config.yaml': 'prefix: local8\nbuild_dir: plainfile\n' });
    const b = await rig.run('status');
    assert.equal(b.exitCode, 2, b.all);
    assert.match(b.stderr, /`build_dir:` .*plainfile cannot be a folder: it is a file/);
  });
  it("a record's temp file that a killed write left (between write and rename) is removed by the next command that may change the prefix; a live writer's is kept", async () => {
    rig.write({ 'build.config.yaml': 'prefix: local9\n', ...scriptPkg('f') });
    assert.equal((await rig.run('f')).exitCode, 0);
    const dead = execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim(); // a process that has ended
    const stale = `local9/var/lib/sage/installed/.f-1.0.tmp-${dead}`;
    const staleAsync = `local9/var/lib/sage/installed/.f-1.0.tmp-${dead}-3`; // writeFileAtomicAsync's
    const start = processStart(process.pid);
    const live = `local9/var/lib/sage/installed/.f-1.0.tmp-${process.pid}-s${start}`;
    const liveOld = `local9/var/lib/sage/installed/.f-1.0.tmp-${process.pid}`; // an older sagebuild's, or without /proc
    // A live process that reuses a dead writer's pid: its start time differs.
    const reused = `local9/var/lib/sage/installed/.f-1.0.tmp-${process.pid}-s${Number(start) - 1}-2`;
    rig.write({ [stale]: '{"cut off', [staleAsync]: '{"cut off', [live]: '{"in progress', [liveOld]: '{"in progress', [reused]: '' });
    assert.equal((await rig.run('-n', 'f')).exitCode, 0);
    assert.ok(rig.exists(stale), 'a dry run changes nothing');
    const st = await rig.run('status');
    assert.equal(st.exitCode, 3, st.all); // answered: the earlier tests' packages are not installed in local9
    assert.equal(rig.exists(stale), false, "the dead writer's temp file is gone");
    assert.equal(rig.exists(staleAsync), false, 'its numbered one too');
    assert.ok(rig.exists(live), "a live writer's temp file stays");
    assert.ok(rig.exists(liveOld), "a live writer's temp file stays (named by its pid alone)");
    assert.equal(rig.exists(reused), false, 'the temp file of a dead writer whose pid a live process reuses is gone');
    assert.deepEqual(rig.manifests('local9'), ['f-1.0']);
  });
});

describe('recipes die with their run', () => {
  const rig = new Rig('sagebuild-orphans');
  after(() => rig.cleanup());

  for (const how of ['sagebuild alone', 'its whole process group'] as const) {
    it(`kill -9 of ${how}: the recipes' process groups are stopped`, { timeout: 120_000 }, async () => {
      const tag = how === 'sagebuild alone' ? 'one' : 'group';
      rig.write({
        'build.config.yaml': `prefix: local-${tag}\n`,
        // A recipe that starts a grandchild and waits: both must go.
        ...scriptPkg(`slow${tag}`, { body: `sleep 1000 & echo $! > "${rig.path(`child-${tag}`)}"\necho $$ > "${rig.path(`shell-${tag}`)}"\nwait` }),
      });
      const run = execa('node', [CLI, `slow${tag}`], { cwd: rig.dir, reject: false, detached: true, env: { PIP_RETRIES: '0' } });
      await waitFor('the recipe to start', () => rig.exists(`shell-${tag}`) && rig.exists(`child-${tag}`) && rig.read(`child-${tag}`).trim() !== '');
      const pids = [rig.read(`shell-${tag}`), rig.read(`child-${tag}`)].map((x) => Number(x.trim()));
      process.kill(how === 'sagebuild alone' ? run.pid! : -run.pid!, 'SIGKILL');
      await run;
      await waitFor('the recipe processes to be gone', () => pids.every(processGone), 20_000);
    });
  }

  it("a straggler that escaped a killed run writes into that run's stage, never into the next run's install", { timeout: 120_000 }, async () => {
    const f = (n: string) => rig.path(`stray-${n}`);
    rig.write({
      'build.config.yaml': 'prefix: local-stray\n',
      ...scriptPkg('stray', {
        body: [
          // First run: leave a daemon (its own session: no process group or watchdog reaches it)
          // that writes into this run's stage once told to, then hang until killed.
          `if [ ! -e "${f('first')}" ]; then`,
          `  touch "${f('first')}"`,
          `  setsid bash -c 'while [ ! -e "${f('go')}" ]; do sleep 0.05; done; mkdir -p "$SAGE_DESTDIR_LOCAL/share/stray"; echo straggler > "$SAGE_DESTDIR_LOCAL/share/stray/straggler"; touch "${f('wrote')}"' </dev/null >/dev/null 2>&1 &`,
          `  touch "${f('hanging')}"`,
          '  echo "the straggler is out"',
          '  sleep 1000',
          'fi',
          // Second run: let the straggler write, and install only once it has.
          `touch "${f('go')}"`,
          `while [ ! -e "${f('wrote')}" ]; do sleep 0.05; done`,
        ].join('\n'),
      }),
    });
    const first = execa('node', [CLI, 'stray'], { cwd: rig.dir, reject: false, env: { PIP_RETRIES: '0' } });
    // Once sagebuild has read the recipe's output, it has the recipe's group: only that group
    // dies with the run (a start it had not heard back from would take the straggler too).
    const log = path.join(defaultLogsDir('local-stray'), 'pkgs', 'stray-1.0.log');
    await waitFor('the first run to hang', () => rig.exists('stray-hanging') && rig.exists(log) && rig.read(log).includes('the straggler is out'));
    first.kill('SIGKILL');
    await first;
    const second = await rig.run('stray');
    assert.equal(second.exitCode, 0, second.all);
    assert.deepEqual(rig.manifest('stray-1.0', 'local-stray').files, ['share/stray/stray.txt']);
    assert.equal(rig.exists('local-stray/share/stray/straggler'), false);
  });
});

/** Makes `dir` read-only where it is (a read-only bind mount); false where mounting is not permitted. */
function mountReadOnly(dir: string): boolean {
  try {
    execFileSync('mount', ['--bind', dir, dir], { stdio: 'ignore' });
  } catch {
    return false;
  }
  execFileSync('mount', ['-o', 'remount,ro,bind', dir], { stdio: 'ignore' });
  return true;
}

describe('files that cannot be removed, a prefix that cannot change', () => {
  const rig = new Rig('sagebuild-readonly');
  const mounted: string[] = [];
  after(() => {
    for (const m of mounted.reverse()) execFileSync('umount', [m]);
    rig.cleanup();
  });
  const roOrSkip = (t: { skip: (why: string) => void }, dir: string): boolean => {
    if (mountReadOnly(dir)) {
      mounted.push(dir);
      return true;
    }
    t.skip('mounting is not permitted here (needs root or CAP_SYS_ADMIN)');
    return false;
  };

  it('-clean that cannot remove every file exits 1 naming them, and the manifest lists what remains; a later -clean finishes', async (t) => {
    rig.write({ 'build.config.yaml': 'prefix: local\n', ...scriptPkg('a', { files: ['share/a/ro/f', 'share/a/rw/g'] }) });
    assert.equal((await rig.run('a')).exitCode, 0);
    if (!roOrSkip(t, rig.path('local/share/a/ro'))) return;
    const r = await rig.run('a-clean');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /a-clean: removed 1 file\(s\), but could not remove 1: .*share\/a\/ro\/f \(EROFS\); its manifest .*a-1\.0 now lists what remains/);
    assert.deepEqual(rig.manifest('a-1.0').files, ['share/a/ro/f']);
    assert.equal(rig.exists('local/share/a/rw/g'), false);
    execFileSync('umount', [mounted.pop()!]);
    const again = await rig.run('a-clean');
    assert.equal(again.exitCode, 0, again.all);
    assert.deepEqual(rig.manifests(), []);
    assert.equal(rig.exists('local/share/a'), false);
  });

  it('a replay that cannot remove a landed file says so, naming it and the errno (it was silent)', async (t) => {
    rig.write({ 'build.config.yaml': 'prefix: local4\n', ...scriptPkg('e', { files: ['share/e/ro/f', 'share/e/g'] }) });
    const killed = await rig.start(['e'], { SAGEBUILD_TEST_CRASH_AT: 'merge@e' });
    assert.equal(killed.signal, 'SIGKILL', String(killed.all));
    if (!roOrSkip(t, rig.path('local4/share/e/ro'))) return;
    const r = await rig.run('status');
    assert.match(r.stderr, /recovered an interrupted install of e-1\.0: rolled back/);
    assert.match(r.stderr, /warning: e-1\.0: could not remove 1 file\(s\) the undone install had landed: .*local4\/share\/e\/ro\/f \(EROFS\); they are left in place, owned by no package/);
    assert.equal(rig.exists('local4/share/e/g'), false);
    assert.deepEqual(rig.manifests('local4'), []);
    execFileSync('umount', [mounted.pop()!]);
  });

  it('-clean on a read-only prefix is exit 2 before anything runs, naming the folder and errno; the prefix is as before', async (t) => {
    rig.write({ 'build.config.yaml': 'prefix: local2\n', ...scriptPkg('b', { body: 'mkdir -p "$SAGE_DESTDIR_LOCAL/share"' }) });
    assert.equal((await rig.run('b')).exitCode, 0);
    if (!roOrSkip(t, rig.path('local2'))) return;
    const r = await rig.run('b-clean');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /local2\/var\/lib\/sage\/installed: error: cannot clean b: this folder of installation records cannot change \(EROFS\); nothing was removed/);
    assert.deepEqual(rig.manifests('local2'), ['b-1.0']);
    assert.ok(rig.exists('local2/share/b/b.txt'));
  });

  it('a build into a read-only prefix is exit 2 before anything builds, naming the folders and errno (a package failed with no reason)', async (t) => {
    rig.write({ 'build.config.yaml': 'prefix: local3\n', ...scriptPkg('c'), ...scriptPkg('d') });
    assert.equal((await rig.run('c')).exitCode, 0);
    if (!roOrSkip(t, rig.path('local3'))) return;
    const r = await rig.run('d');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /local3\/var\/tmp\/sage\/build: error: cannot build in this folder: EROFS/);
    assert.match(r.stderr, /local3\/var\/lib\/sage\/installed: error: cannot install into this tree: its folder of installation records cannot take files: EROFS/);
    assert.deepEqual(rig.manifests('local3'), ['c-1.0']);
  });
});
