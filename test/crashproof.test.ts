// Issue 9: what must hold whatever happens to a run (crashes, hostile environments, full disks).
import assert from 'node:assert/strict';
import { execa } from 'execa';
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
});
