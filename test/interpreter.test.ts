// The interpreter's answers are remembered in the prefix per binary (python/interpreter.ts): a
// command that finds its binary's answer starts no Python; a pyenv shim's answer is remembered by
// what pyenv chooses by and the binary it chose; any other script in its place is always asked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

  it('a pyenv shim: remembered with what pyenv chooses by; a new choice, or a changed binary, asks again', async () => {
    const t = new Rig('sagebuild-pyenv');
    try {
      // A pyenv root as pyenv lays it out: its shims run the chosen version's binary.
      t.write({
        'pyenv/libexec/pyenv': '#!/bin/sh\n',
        'pyenv/shims/python3': `#!/bin/sh\necho "$PYENV_VERSION" >> ${t.path('asked')}\nexec ${t.path('pyenv/versions/3.x/bin/python3')} "$@"\n`,
        'pyenv/version': '3.x\n',
        'build.config.yaml': 'python: python3\n',
        'pkgs/.keep': '',
      });
      chmodSync(t.path('pyenv/shims/python3'), 0o755);
      mkdirSync(t.path('pyenv/versions/3.x/bin'), { recursive: true });
      copyFileSync(real, t.path('pyenv/versions/3.x/bin/python3'));
      mkdirSync(t.path(STATE), { recursive: true });
      const env = { PATH: `${t.path('pyenv/shims')}:${process.env.PATH}`, PYENV_ROOT: t.path('pyenv') };
      const asked = (): number => (t.exists('asked') ? t.read('asked').split('\n').length - 1 : 0);
      const status = async (extra: Record<string, string> = {}): Promise<void> => {
        const r = await t.start(['status'], { ...env, ...extra });
        assert.equal(r.exitCode, 0, String(r.all));
        assert.match(String(r.stdout), /python3_venv\s+not installed\s+3\.\d+/, String(r.all));
      };
      await status();
      assert.equal(asked(), 1);
      await status();
      assert.equal(asked(), 1, 'the same choice: the shim is not started');
      t.write({ '.python-version': '3.x\n' });
      await status();
      assert.equal(asked(), 2, 'a .python-version in the folder');
      t.write({ 'pyenv/version': '3.y\n' });
      await status();
      assert.equal(asked(), 3, 'the global version file');
      await status({ PYENV_VERSION: '3.x' });
      assert.equal(asked(), 4, 'PYENV_VERSION');
      await status();
      assert.equal(asked(), 4, 'back to an earlier choice: still remembered');
      copyFileSync(real, t.path('pyenv/versions/3.x/bin/python3.new'));
      renameSync(t.path('pyenv/versions/3.x/bin/python3.new'), t.path('pyenv/versions/3.x/bin/python3'));
      await status();
      assert.equal(asked(), 5, 'the chosen binary was replaced');
    } finally {
      t.cleanup();
    }
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
