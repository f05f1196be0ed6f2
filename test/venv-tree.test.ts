// SAGE_VENV apart from the prefix (`venv:`): Python packages, their manifests and the wheelhouse
// live in the venv tree, C packages in the prefix.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readdirSync, realpathSync } from 'node:fs';
import { Rig, scriptPkg } from './rig.ts';
import { TOOLCHAIN_CONFIG, copyToolchain, pip, purePkg, twoInterpreters } from './pyfixtures.ts';

describe('a venv separate from the prefix', { timeout: 300_000 }, () => {
  const rig = new Rig('venvtree');
  after(() => rig.cleanup());

  it('installs Python packages into the venv tree and C packages into the prefix', async () => {
    copyToolchain(rig);
    rig.write({
      'build.config.yaml': TOOLCHAIN_CONFIG + 'venv: pyenv\n',
      ...scriptPkg('cdata', { files: ['share/cdata/data.txt'] }),
      ...purePkg('usesdata', '1.0', { deps: 'cdata', code: 'import os\nDATA = open(os.path.join(os.environ.get("SAGE_LOCAL", ""), "share/cdata/data.txt")).read() if os.environ.get("SAGE_LOCAL") else ""\n' }),
    });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests('local'), ['cdata-1.0']);
    const py = rig.manifests('pyenv');
    for (const p of ['pip-', 'setuptools-', 'wheel-', 'packaging-', 'usesdata-1.0', 'python3_venv-']) assert.ok(py.some((m) => m.startsWith(p)), p);
    assert.ok(readdirSync(rig.path('pyenv/var/lib/sage/wheels')).includes('usesdata-1.0-py3-none-any.whl'));
    assert.ok(!rig.exists('local/var/lib/sage/wheels'));
    assert.ok(rig.exists('pyenv/var/lock/pip3.lock'), 'the pip lock lives in the venv');
    const list = await pip(rig, ['show', 'usesdata'], 'pyenv');
    assert.equal(list.exitCode, 0, list.stderr);
    const again = await rig.run('-n', 'all');
    assert.match(again.stdout, /Nothing to \(re\)build/);
    const clean = await rig.run('usesdata-clean');
    assert.equal(clean.exitCode, 0, clean.all);
    assert.notEqual((await pip(rig, ['show', 'usesdata'], 'pyenv')).exitCode, 0);
  });

  it('venv: auto makes one venv per interpreter; a new interpreter rebuilds every Python package into it', async (t) => {
    const pair = twoInterpreters();
    if (!pair) return t.skip('needs two Python interpreters with pip (e.g. python3 and /usr/bin/python3.11)');
    const [first, second] = pair;
    const rig2 = new Rig('venvauto');
    try {
      copyToolchain(rig2);
      const config = (python: { path: string }) => `${TOOLCHAIN_CONFIG}venv: auto\npython: ${python.path}\n`;
      rig2.write({ 'build.config.yaml': config(first), ...purePkg('purex', '1.0'), ...scriptPkg('cpkg') });
      const r = await rig2.run('all');
      assert.equal(r.exitCode, 0, r.all);
      const venv1 = `local/var/lib/sage/venv-python${first.version}`;
      assert.ok(rig2.manifests(venv1).includes(`python3_venv-${first.version}`), rig2.manifests(venv1).join(' '));
      assert.match(r.stdout, new RegExp(`\\[python3_venv-${first.version.replace('.', '\\.')}\\] successfully installed`), 'the venv is named by its version, not the interpreter path');
      assert.equal(realpathSync(rig2.path(venv1, 'bin', 'python3')), realpathSync(first.path));

      rig2.write({ 'build.config.yaml': config(second) });
      const plan = await rig2.run('-n', 'all');
      assert.equal(plan.exitCode, 0, plan.all);
      const rebuilt = plan.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[0]).sort();
      assert.deepEqual(rebuilt, ['packaging', 'pip', 'purex', 'python3_venv', 'setuptools', 'wheel'], 'every Python package, and only those');
      const b = await rig2.run('all');
      assert.equal(b.exitCode, 0, b.all);
      const venv2 = `local/var/lib/sage/venv-python${second.version}`;
      assert.equal(realpathSync(rig2.path(venv2, 'bin', 'python3')), realpathSync(second.path));
      for (const args of [['check'], ['show', 'purex', 'pip']]) {
        const res = await pip(rig2, args, venv2);
        assert.equal(res.exitCode, 0, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
      }
      assert.match((await rig2.run('-n', 'all')).stdout, /Nothing to \(re\)build/);
    } finally {
      rig2.cleanup();
    }
  });
});
