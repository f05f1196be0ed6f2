// The Python helpers real Sage recipes call, on small real packages built offline from in-tree
// sources: sdh_build_and_store_wheel --sdist-then-wheel (sagemath_objects), -C config settings,
// --build-isolation from the wheelhouse, sdh_pip_editable_install (sage_setup, sagelib),
// sdh_setup_bdist_wheel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { Rig } from './rig.ts';
import { withToolchain, pip, py } from './pyfixtures.ts';

const WHEELS = 'local/var/lib/sage/wheels';

function pyPkg(name: string, install: string, src: Record<string, string>, deps = ''): Record<string, string> {
  const t: Record<string, string> = {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: '1.0\n',
    [`pkgs/${name}/version_requirements.txt`]: `${name}\n`,
    [`pkgs/${name}/dependencies`]: `${deps} $(PYTHON) | $(PYTHON_TOOLCHAIN)\n`,
    [`pkgs/${name}/spkg-install.in`]: install,
  };
  for (const [f, c] of Object.entries(src)) t[`pkgs/${name}/src/${f}`] = c;
  return t;
}

const setup = (name: string, extra = '') => `from setuptools import setup\nsetup(name="${name}", version="1.0", packages=["${name}"]${extra})\n`;

/** A PEP 517 backend in the source tree (backend-path), so config settings can be seen: it writes them into the wheel. */
const BACKEND = `
import base64, hashlib, json, os, zipfile
NAME, VERSION = "cfgpkg", "1.0"
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        f"{NAME}/__init__.py": ("SETTINGS = " + json.dumps(config_settings or {}, sort_keys=True) + "\\n").encode(),
        f"{NAME}-{VERSION}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode(),
        f"{NAME}-{VERSION}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: cfgbackend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = f"{NAME}-{VERSION}.dist-info/RECORD"
    lines = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}" for p, d in files.items()]
    files[record] = ("\\n".join(lines + [f"{record},,"]) + "\\n").encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name
`;

async function wheelMembers(file: string): Promise<string[]> {
  const r = await execa('python3', ['-c', 'import sys, zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', file]);
  return r.stdout.split('\n');
}

describe('Python helpers of real recipes', { timeout: 600_000 }, () => {
  const rig = new Rig('pyhelpers');
  before(async () => {
    await withToolchain(rig, 'jobs: 2\n');
    rig.write({
      // sagemath_objects: the sdist decides (MANIFEST.in), the wheel is only stored.
      ...pyPkg('sdw', 'cd src\nsdh_build_and_store_wheel --sdist-then-wheel .\n', {
        'setup.py': setup('sdw'),
        'MANIFEST.in': 'exclude sdw/devonly.py\n',
        'sdw/__init__.py': 'X = 1\n',
        'sdw/devonly.py': 'DEV = True\n',
      }),
      // -C / --config-settings reach the build backend, and sdh_pip_install installs the wheel.
      ...pyPkg('cfgpkg', 'cd src\nsdh_pip_install -C mode=fast --config-settings extra=1 . --config-setting=extra=2 -Cflag=on\n', {
        'pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "cfgbackend"\nbackend-path = ["."]\n',
        'cfgbackend.py': BACKEND,
      }),
      // --build-isolation: setuptools and wheel come from the wheelhouse, never an index.
      ...pyPkg('isolated', 'cd src\nsdh_pip_install --build-isolation .\n', {
        'pyproject.toml': '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        'setup.py': setup('isolated'),
        'isolated/__init__.py': 'KIND = "isolated"\n',
      }),
      // sage_setup with SAGE_EDITABLE=yes (Sage's default).
      ...pyPkg('edt', 'cd src\nif [ "$SAGE_EDITABLE" = yes ]; then\n    sdh_pip_editable_install .\nelse\n    sdh_pip_install .\nfi\n', {
        'setup.py': setup('edt'),
        'edt/__init__.py': 'VALUE = 1\n',
      }),
      ...pyPkg('bdw', 'cd src\nsdh_setup_bdist_wheel\nsdh_store_and_pip_install_wheel .\n', {
        'setup.py': setup('bdw'),
        'bdw/__init__.py': 'KIND = "bdist_wheel"\n',
      }),
    });
  });
  after(() => rig.cleanup());

  it('builds them all offline', async () => {
    const r = await rig.run('sdw', 'cfgpkg', 'isolated', 'edt', 'bdw');
    assert.equal(r.exitCode, 0, r.all);
  });

  it('--sdist-then-wheel: the wheel is built from the sdist, so MANIFEST.in filters it; it is stored, not installed', async () => {
    const wheel = readdirSync(rig.path(WHEELS)).find((f) => f.startsWith('sdw-'));
    assert.ok(wheel, 'stored in the wheelhouse');
    const members = await wheelMembers(rig.path(WHEELS, wheel));
    assert.ok(members.includes('sdw/__init__.py'), members.join(' '));
    assert.ok(!members.includes('sdw/devonly.py'), 'excluded by MANIFEST.in through the sdist');
    assert.match(rig.read('local/var/log/sagebuild/pkgs/sdw-1.0.log'), /Built the sdist .*sdw-1\.0\.tar\.gz; building the wheel from it/);
    assert.notEqual((await py(rig, 'import sdw')).exitCode, 0, 'sdh_build_and_store_wheel does not install');
  });

  it('-C / --config-settings, before or after the source folder, reach the build backend (a repeated key as a list)', async () => {
    const r = await py(rig, 'import cfgpkg; print(cfgpkg.SETTINGS)');
    assert.equal(r.stdout, "{'extra': ['1', '2'], 'flag': 'on', 'mode': 'fast'}", r.stderr);
  });

  it('--build-isolation provisions the build environment from the wheelhouse', async () => {
    assert.equal((await py(rig, 'import isolated; print(isolated.KIND)')).stdout, 'isolated');
    assert.doesNotMatch(rig.read('local/var/log/sagebuild/pkgs/isolated-1.0.log'), /Retrying with --no-build-isolation/);
  });

  it('sdh_setup_bdist_wheel builds with setup.py bdist_wheel', async () => {
    assert.equal((await py(rig, 'import bdw; print(bdw.KIND)')).stdout, 'bdist_wheel');
  });

  it('sdh_pip_editable_install: an editable wheel pointing at the recipe\'s src/, installed and removed like any wheel', async () => {
    const where = await py(rig, 'import edt; print(edt.__file__, edt.VALUE)');
    assert.equal(where.stdout, `${rig.path('pkgs/edt/src/edt/__init__.py')} 1`, where.stderr);
    assert.ok(readdirSync(rig.path(WHEELS)).some((f) => f.startsWith('edt-') && f.endsWith('.whl')), 'the editable wheel is in the wheelhouse');
    const dists = (rig.manifest('edt-1.0').sagebuild as { python_dists?: { name: string }[] }).python_dists;
    assert.deepEqual(dists?.map((d) => d.name), ['edt']);
    // Editable: a change to the source is seen without reinstalling.
    writeFileSync(rig.path('pkgs/edt/src/edt/__init__.py'), 'VALUE = 2\n');
    assert.equal((await py(rig, 'import edt; print(edt.VALUE)')).stdout, '2');
    const c = await rig.run('edt-clean');
    assert.equal(c.exitCode, 0, c.all);
    assert.notEqual((await py(rig, 'import edt')).exitCode, 0);
    const list = await pip(rig, ['list', '--format=freeze']);
    assert.doesNotMatch(list.stdout, /^edt==/m);
  });
});
