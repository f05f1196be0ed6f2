// SAGE_VENV apart from the prefix (`venv:`): Python packages, their manifests and the wheelhouse
// live in the venv tree, C packages in the prefix.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { Rig, scriptPkg } from './rig.ts';
import { TOOLCHAIN_CONFIG, copyToolchain, pip, purePkg } from './pyfixtures.ts';

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
});
