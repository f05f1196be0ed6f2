// Issue 9: what must hold whatever happens to a run (crashes, hostile environments, full disks).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { CLI, Rig, scriptPkg } from './rig.ts';

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
    assert.equal(st.exitCode, 0, st.all);
    const dry = await rig.run('-n', 'zero', 'fifo', 'root');
    assert.equal(dry.exitCode, 0, dry.all);
    const r = await rig.run('-k', 'zero', 'fifo', 'root');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all, /src\/zero leads to \/dev\/zero, which is not a regular file or folder/);
    assert.match(r.all, /src\/pipe leads to .*fifo-target, which is not a regular file or folder/);
    assert.match(r.all, /symlink loop: .*src\/all leads to \/, which contains the link itself/);
    assert.deepEqual(rig.manifests('local4'), []);
  });
});
