// `sagebuild completion bash|zsh`: the bash script, sourced in bash, offers commands, options
// and package names (from `sagebuild list`, found on PATH as the user's shell would).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLI, Rig, scriptPkg } from './rig.ts';

describe('shell completion', () => {
  const rig = new Rig('completion');
  before(() => {
    rig.write({ ...scriptPkg('alpha'), ...scriptPkg('beta', { deps: 'alpha' }), 'build.config.yaml': 'jobs: 1\n' });
    mkdirSync(rig.path('bin'));
    writeFileSync(rig.path('bin/sagebuild'), `#!/bin/sh\nexec node ${CLI} "$@"\n`);
    chmodSync(rig.path('bin/sagebuild'), 0o755);
  });
  after(() => rig.cleanup());

  /** What the completion function offers for the command line `words`, the last word being completed. */
  const complete = async (words: string[]): Promise<string[]> => {
    const script = `source <(sagebuild completion bash) || exit 9
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_sagebuild
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await execa('bash', ['-c', script], { cwd: rig.dir, reject: false, env: { PATH: `${rig.path('bin')}:${process.env.PATH}`, PIP_RETRIES: '0' } });
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };

  it('bash: commands and package names, then options, -clean/-no-deps forms and option values', async () => {
    const all = await complete(['sagebuild', '']);
    for (const w of ['status', 'list', 'graph', 'why', 'completion', 'alpha', 'beta']) assert.ok(all.includes(w), `offers ${w}: ${all.join(' ')}`);
    assert.deepEqual(await complete(['sagebuild', 'be']), ['beta']);
    assert.deepEqual((await complete(['sagebuild', 'alpha-'])).sort(), ['alpha-clean', 'alpha-no-deps', 'alpha-uninstall']);
    assert.deepEqual(await complete(['sagebuild', '--jo']), ['--jobs']);
    assert.deepEqual(await complete(['sagebuild', '--color', 'a']), ['auto', 'always']);
    assert.deepEqual(await complete(['sagebuild', 'graph', '--format', '']), ['dot', 'json']);
    assert.deepEqual(rig.manifests(), [], 'completing built nothing');
  });

  it('zsh: the script is valid zsh', async (t) => {
    const zsh = await execa('zsh', ['--version'], { reject: false });
    if (zsh.exitCode !== 0) return t.skip('zsh is not installed here');
    const script = await execa('node', [CLI, 'completion', 'zsh']);
    const r = await execa('zsh', ['-n'], { input: script.stdout, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    // compadd stubbed to print its candidates (zsh's own matching filters them).
    const run = `autoload -Uz compinit && compinit -u && source <(sagebuild completion zsh) || exit 9
compadd() { print -l -- "\${@:#--}"; }
words=(sagebuild al); CURRENT=2; _sagebuild`;
    const c = await execa('zsh', ['-c', run], { cwd: rig.dir, reject: false, env: { PATH: `${rig.path('bin')}:${process.env.PATH}`, PIP_RETRIES: '0', HOME: rig.dir } });
    assert.equal(c.exitCode, 0, c.stderr);
    const offered = c.stdout.split('\n');
    for (const w of ['status', 'graph', 'alpha', 'beta']) assert.ok(offered.includes(w), `offers ${w}: ${offered.join(' ')}`);
  });

  it('another shell is a usage error', async () => {
    const r = await rig.run('completion', 'fish');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /'completion' takes one shell, bash or zsh/);
  });
});
