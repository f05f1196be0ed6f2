// The interpreter's answers are remembered in the prefix per binary (python/interpreter.ts): a
// command that finds its binary's answer starts no Python; a script in its place (a pyenv shim,
// which picks an interpreter anew each call) is always asked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Rig } from './rig.ts';

const STATE = 'local/var/lib/sage/sagebuild';
const CACHE = `${STATE}/interpreters.json`;
const real = execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();

describe("the interpreter's answers, remembered", () => {
  const rig = new Rig('sagebuild-interp');
  after(() => rig.cleanup());

  it('a binary: asked once, then taken from the prefix (a forged answer shows it was not asked again)', async () => {
    rig.write({ 'build.config.yaml': `python: ${real}\n`, 'pkgs/.keep': '' });
    const fresh = await rig.run('status');
    assert.equal(fresh.exitCode, 0, fresh.all);
    assert.equal(rig.exists(CACHE), false, 'a query in a folder sagebuild never built into leaves nothing');
    mkdirSync(rig.path(STATE), { recursive: true });
    const dry = await rig.run('-n', 'all');
    assert.equal(dry.exitCode, 0, dry.all);
    assert.equal(rig.exists(CACHE), false, 'a dry run writes nothing');
    assert.equal((await rig.run('status')).exitCode, 0);
    const data = JSON.parse(readFileSync(rig.path(CACHE), 'utf8')) as Record<string, { version: string }>;
    assert.equal(Object.keys(data).length, 1);
    for (const v of Object.values(data)) v.version = '9.9';
    writeFileSync(rig.path(CACHE), JSON.stringify(data));
    const st = await rig.cli('status'); // a process of its own: nothing memoised from earlier runs
    assert.match(st.stdout, /python3_venv\s+not installed\s+9\.9/, st.all);
  });

  it('a script in its place is asked every time', async () => {
    rig.write({ 'bin/python3': `#!/bin/sh\nexec ${real} "$@"\n` });
    chmodSync(rig.path('bin/python3'), 0o755);
    rig.write({ 'build.config.yaml': `python: ${rig.path('bin/python3')}\n` });
    const st = await rig.cli('status');
    assert.doesNotMatch(st.stdout, /9\.9/);
    assert.match(st.stdout, /python3_venv\s+not installed\s+3\.\d+/, st.all);
    const data = JSON.parse(readFileSync(rig.path(CACHE), 'utf8')) as Record<string, unknown>;
    assert.equal(Object.keys(data).length, 1, 'nothing remembered for the script');
  });

  it('a tree with its own python3_venv recipe and no Python package starts no Python; one with a Python package asks', async () => {
    const t = new Rig('sagebuild-nopy');
    try {
      t.write({
        'bin/python3': `#!/bin/sh\necho "$@" >> ${t.path('asked')}\nexec ${real} "$@"\n`,
        'pkgs/python3_venv/type': 'standard\n',
        'pkgs/python3_venv/spkg-install.in': 'true\n',
        'pkgs/a/type': 'standard\n',
        'pkgs/a/dependencies': '$(PYTHON)\n',
        'pkgs/a/spkg-install.in': 'true\n',
      });
      chmodSync(t.path('bin/python3'), 0o755);
      t.write({ 'build.config.yaml': `python: ${t.path('bin/python3')}\n` });
      const built = await t.cli('all');
      assert.equal(built.exitCode, 0, built.all);
      const noop = await t.cli('all');
      assert.equal(noop.exitCode, 0, noop.all);
      assert.match(noop.stdout, /up to date: 2/, noop.all);
      assert.equal(t.exists('asked'), false, 'neither the build nor the no-op needed the interpreter');
      t.write({ 'pkgs/b/type': 'standard\n', 'pkgs/b/requirements.txt': 'b\n' });
      const st = await t.cli('status', 'a');
      assert.equal(st.exitCode, 0, st.all);
      assert.ok(t.exists('asked'), 'a Python package names the interpreter in its fingerprint');
    } finally {
      t.cleanup();
    }
  });
});
