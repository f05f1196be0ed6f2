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
});
