// Python packages with real venvs and real pip: wheelhouse invariants, upgrades, clean, failures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { Rig } from './rig.ts';
import { TOOLCHAIN_CONFIG, interpreters, withToolchain, makeWheel, pip, purePkg, py } from './pyfixtures.ts';

const WHEELS = 'local/var/lib/sage/wheels';

const CLIB = {
  'pkgs/clib/type': 'standard\n',
  'pkgs/clib/package-version.txt': '1.0\n',
  'pkgs/clib/spkg-install.in': [
    'mkdir -p src && cd src',
    'printf "int clib_answer(void) { return 42; }\\n" > clib.c',
    'printf "int clib_answer(void);\\n" > clib.h',
    'gcc -shared -fPIC -o libclib.so clib.c || sdh_die "compile failed"',
    'sdh_install libclib.so "$SAGE_LOCAL/lib/"',
    'sdh_install clib.h "$SAGE_LOCAL/include/"',
  ].join('\n'),
};

const CEXT_C = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <clib.h>
static PyObject *answer(PyObject *self, PyObject *noargs) { return PyLong_FromLong(clib_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "cext", "", -1, methods};
PyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&mod); }
`;

const CEXT = {
  'pkgs/cext/type': 'standard\n',
  'pkgs/cext/package-version.txt': '0.5\n',
  'pkgs/cext/version_requirements.txt': 'cext\n',
  'pkgs/cext/dependencies': 'clib $(PYTHON) | $(PYTHON_TOOLCHAIN)\n',
  'pkgs/cext/spkg-install.in': 'cd src\nsdh_pip_install .\n',
  'pkgs/cext/src/cext.c': CEXT_C,
  'pkgs/cext/src/setup.py': [
    'import os',
    'from setuptools import Extension, setup',
    'lib = os.path.join(os.environ["SAGE_LOCAL"], "lib")',
    'setup(name="cext", version="0.5", ext_modules=[Extension("cext", ["cext.c"], libraries=["clib"], runtime_library_dirs=[lib])])',
  ].join('\n'),
};

// purea declares its requirements, so plain pip must resolve them from the wheelhouse too.
const PUREA_SETUP = (v: string) => `from setuptools import setup\nsetup(name="purea", version="${v}", packages=["purea"], install_requires=["cext", "whlpkg"])\n`;

/** Python dists that pip sees in the venv, normalised. */
async function pipNames(rig: Rig): Promise<string[]> {
  const r = await pip(rig, ['list', '--format=json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { name: string }[]).map((d) => d.name.toLowerCase().replace(/[-_.]+/g, '-')).sort();
}

/** Python dists the manifests record. */
function manifestDists(rig: Rig): { names: string[]; wheels: string[] } {
  const names: string[] = [];
  const wheels: string[] = [];
  for (const id of rig.manifests()) {
    for (const d of (rig.manifest(id).sagebuild as { python_dists?: { name: string; wheel: string }[] }).python_dists ?? []) {
      names.push(d.name.toLowerCase().replace(/[-_.]+/g, '-'));
      wheels.push(d.wheel);
    }
  }
  return { names: names.sort(), wheels: wheels.sort() };
}

function wheelFiles(rig: Rig): string[] {
  return readdirSync(rig.path(WHEELS)).filter((f) => f.endsWith('.whl')).sort();
}

/** The venv, the wheelhouse and the manifests agree, with exactly one wheel per Python package. */
async function assertConsistent(rig: Rig): Promise<void> {
  const m = manifestDists(rig);
  assert.deepEqual(await pipNames(rig), m.names, 'pip list agrees with the manifests');
  assert.deepEqual(wheelFiles(rig), m.wheels, 'exactly the recorded wheels are in the wheelhouse');
  const check = await pip(rig, ['check']);
  assert.equal(check.exitCode, 0, check.stdout + check.stderr);
  // The PEP 503 index lists exactly the wheels, with correct hashes.
  const root = readFileSync(rig.path(WHEELS, 'simple/index.html'), 'utf8');
  for (const w of m.wheels) {
    const project = w.split('-')[0]!.toLowerCase().replace(/[-_.]+/g, '-');
    assert.match(root, new RegExp(`href="${project}/"`));
    const sha = createHash('sha256').update(readFileSync(rig.path(WHEELS, w))).digest('hex');
    assert.ok(readFileSync(rig.path(WHEELS, 'simple', project, 'index.html'), 'utf8').includes(`href="../../${w}#sha256=${sha}"`), w);
  }
  assert.equal([...root.matchAll(/<a href=/g)].length, new Set(m.names).size);
}

/** The rig's config; tests that change it restore it in `finally`. */
const CONFIG = TOOLCHAIN_CONFIG + 'jobs: 2\n';

describe('Python packages', { timeout: 600_000 }, () => {
  const rig = new Rig('py');
  before(async () => {
    await withToolchain(rig, 'jobs: 2\n');
    mkdirSync(rig.path('upstream'), { recursive: true });
    const whl = await makeWheel(rig.path('upstream'), 'whlpkg', '2.0', 'KIND = "wheel"\n');
    const sha = createHash('sha256').update(readFileSync(rig.path('upstream', whl))).digest('hex');
    rig.write({
      ...CLIB,
      ...CEXT,
      ...purePkg('purea', '1.0', { deps: 'cext whlpkg', setup: PUREA_SETUP('1.0'), code: 'import cext, whlpkg\nVERSION = "1.0"\ndef answer():\n    return cext.answer()\n' }),
      'pkgs/whlpkg/type': 'standard\n',
      'pkgs/whlpkg/package-version.txt': '2.0\n',
      'pkgs/whlpkg/checksums.ini': `tarball=whlpkg-VERSION-py3-none-any.whl\nsha256=${sha}\n`,
      'pkgs/whlpkg/dependencies': '$(PYTHON) | pip\n',
    });
  });
  after(() => rig.cleanup());

  it('builds C library -> C extension -> pure Python, wheels stored, venv consistent', async () => {
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    await assertConsistent(rig);
    assert.deepEqual(wheelFiles(rig).map((w) => w.split('-')[0]), ['cext', 'packaging', 'pip', 'purea', 'setuptools', 'wheel', 'whlpkg']);
    const imp = await py(rig, 'import purea, whlpkg; print(purea.answer(), whlpkg.KIND)');
    assert.equal(imp.stdout, '42 wheel', imp.stderr);
    assert.ok(rig.manifests().some((m) => m.startsWith('python3_venv-')), 'the venv has a manifest');
  });

  it('`wheelhouse-index` rewrites the PEP 503 index on demand', async () => {
    rmSync(rig.path(WHEELS, 'simple'), { recursive: true, force: true });
    const r = await rig.run('wheelhouse-index');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /wrote the PEP 503 index .*simple\/ \(7 project\(s\)\)/);
    await assertConsistent(rig);
  });

  it('an unreadable wheelhouse entry: `wheelhouse-index` fails naming it; a package change still lands, with a warning', async () => {
    const bogus = rig.path(WHEELS, 'bogus-1.0-py3-none-any.whl');
    mkdirSync(bogus); // readable by nobody as a wheel, root included
    try {
        const r = await rig.run('wheelhouse-index');
        assert.equal(r.exitCode, 1, r.all);
        assert.match(r.stderr, /cannot read the wheel .*bogus-1\.0-py3-none-any\.whl: EISDIR/);
        const c = await rig.run('whlpkg-clean');
        assert.equal(c.exitCode, 0, c.all);
        assert.match(c.stderr, /could not rewrite the PEP 503 index/);
        const b = await rig.run('whlpkg');
        assert.equal(b.exitCode, 0, b.all);
        assert.match(b.stderr, /could not rewrite the PEP 503 index/);
        assert.ok(rig.manifests().includes('whlpkg-2.0'));
    } finally {
      rmSync(bogus, { recursive: true, force: true });
    }
    assert.equal((await rig.run('wheelhouse-index')).exitCode, 0);
    await assertConsistent(rig);
  });

  it("pip's records never name a build dir", async () => {
    const freeze = await pip(rig, ['freeze']);
    assert.doesNotMatch(freeze.stdout, /var\/tmp|file:\/\//);
    const site = readdirSync(rig.path('local/lib')).find((d) => d.startsWith('python'))!;
    for (const d of readdirSync(rig.path('local/lib', site, 'site-packages'))) {
      if (d.endsWith('.dist-info')) assert.ok(!existsSync(rig.path('local/lib', site, 'site-packages', d, 'direct_url.json')), d);
    }
  });

  it('the wheelhouse serves plain pip: --find-links and the PEP 503 index', async () => {
    // Fresh venvs (without their own pip: ensurepip takes seconds), which plain pip installs into
    // with --python, with no configuration but what is given here.
    const v = rig.path('othervenv');
    await execa('python3', ['-m', 'venv', '--without-pip', v]);
    const env = { PIP_CONFIG_FILE: '/dev/null', PIP_RETRIES: '0' };
    const plainPip = (args: string[]) => execa(rig.path('local/bin/python3'), ['-m', 'pip', '--disable-pip-version-check', ...args], { env, reject: false });
    let r = await plainPip(['--python', `${v}/bin/python`, 'install', '--no-index', '--find-links', rig.path(WHEELS), 'purea']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    r = await execa(`${v}/bin/python`, ['-c', 'import purea; print(purea.answer())'], { reject: false });
    assert.equal(r.stdout, '42', String(r.stderr));
    const v2 = rig.path('othervenv2');
    await execa('python3', ['-m', 'venv', '--without-pip', v2]);
    r = await plainPip(['--python', `${v2}/bin/python`, 'install', '--index-url', `file://${rig.path(WHEELS)}/simple/`, 'purea']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    r = await execa(`${v2}/bin/python`, ['-c', 'import purea, whlpkg, cext'], { reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
  });

  it('an upgrade replaces the wheel and the installed version; a dependency rebuild reinstalls', async () => {
    rig.write(purePkg('purea', '1.1', { deps: 'cext whlpkg', setup: PUREA_SETUP('1.1'), code: 'import cext\nVERSION = "1.1"\ndef answer():\n    return cext.answer()\n' }));
    rig.write({ 'pkgs/clib/package-version.txt': '1.1\n' });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /built: clib-1\.1 cext-0\.5 purea-1\.1$/m);
    assert.ok(wheelFiles(rig).includes('purea-1.1-py3-none-any.whl'));
    assert.ok(!wheelFiles(rig).includes('purea-1.0-py3-none-any.whl'), 'no stale wheel');
    const show = await pip(rig, ['show', 'purea']);
    assert.match(show.stdout, /^Version: 1\.1$/m);
    await assertConsistent(rig);
  });

  it('<pkg>-clean removes the dist from pip and its wheel together, nothing else; building restores it', async () => {
    let r = await rig.run('purea-clean');
    assert.equal(r.exitCode, 0, r.all);
    assert.notEqual((await pip(rig, ['show', 'purea'])).exitCode, 0, 'pip show: not found');
    assert.notEqual((await py(rig, 'import purea')).exitCode, 0, 'import fails');
    assert.ok(!wheelFiles(rig).some((w) => w.startsWith('purea-')));
    assert.equal((await py(rig, 'import cext; assert cext.answer() == 42')).exitCode, 0, 'other packages are untouched');
    await assertConsistent(rig);
    r = await rig.run('purea');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal((await py(rig, 'import purea')).exitCode, 0);
    await assertConsistent(rig);
  });

  it('a broken setup.py fails that package only: no wheel, no manifest, nothing in the venv', async () => {
    rig.write({
      ...purePkg('broken', '0.1', { setup: 'raise SystemExit("this setup.py is broken")\n' }),
      ...purePkg('fine', '0.1'),
    });
    const r = await rig.run('-k', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /\[broken-0\.1\] Error: spkg-install failed/);
    assert.match(r.all, /\[broken-0\.1\] .*this setup\.py is broken/); // streamed once, prefixed (no tail repeats it)
    assert.ok(!rig.manifests().some((m) => m.startsWith('broken-')));
    assert.ok(rig.manifests().includes('fine-0.1'), 'with -k the rest builds');
    assert.ok(!wheelFiles(rig).some((w) => w.startsWith('broken-')));
    assert.ok(!(await pipNames(rig)).includes('broken'));
    await assertConsistent(rig);
  });

  it('keep_wheels_cache: a cleaned package with an unchanged fingerprint reuses its wheel', async () => {
    rig.write({ 'build.config.yaml': CONFIG + 'keep_wheels_cache: true\n' });
    try {
      assert.equal((await rig.run('purea')).exitCode, 0);
      let r = await rig.run('purea-clean');
      assert.equal(r.exitCode, 0, r.all);
      const cache = rig.path('local/var/cache/sagebuild/wheels');
      assert.equal(readdirSync(cache).length, 1);
      r = await rig.run('purea');
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.stdout, /\[purea-1\.1\] sagebuild: reusing cached wheel\(s\) purea-1\.1-py3-none-any\.whl/);
      assert.doesNotMatch(rig.read('local/var/log/sagebuild/pkgs/purea-1.1.log'), /Building a wheel/);
      assert.equal((await py(rig, 'import purea; assert purea.answer() == 42')).exitCode, 0);
      assert.deepEqual(readdirSync(cache), [], 'the entry went back to the wheelhouse');
      await assertConsistent(rig);
      // A changed source has another fingerprint: the cached wheel is not used.
      assert.equal((await rig.run('purea-clean')).exitCode, 0);
      rig.write({ 'pkgs/purea/src/purea/extra.py': 'X = 1\n' });
      r = await rig.run('purea');
      assert.equal(r.exitCode, 0, r.all);
      assert.match(rig.read('local/var/log/sagebuild/pkgs/purea-1.1.log'), /Building a wheel/);
      await assertConsistent(rig);
    } finally {
      rig.write({ 'build.config.yaml': CONFIG });
    }
  });

  // Last: whatever runs after it would rebuild the whole venv again, back to `python3`.
  it('the venv is rebuilt, with everything that needs it, when the interpreter changes', async (t) => {
    // Another interpreter than the default `python3`, wherever this machine has one; another
    // X.Y if there is one (its venv then has another lib/pythonX.Y).
    const cur = (await execa('python3', ['-c', 'import os, sys; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable))'])).stdout.split('\n');
    const others = interpreters().filter((p) => realpathSync(p.path) !== cur[1]);
    const other = (others.find((p) => p.version !== cur[0]) ?? others[0])?.path;
    if (!other) {
      t.skip('no second Python interpreter with pip on this machine');
      return;
    }
    rig.write({ 'build.config.yaml': CONFIG + `python: ${other}\n` });
    try {
      const dry = await rig.run('-n', 'all');
      assert.equal(dry.exitCode, 0, dry.all);
      assert.match(dry.stdout, /^python3_venv: (version \S+ -> \S+; )?python \S+ .* -> \S+/m);
      // Every Python package follows the interpreter, whether or not it depends on the venv directly.
      assert.match(dry.stdout, /^cext: python \S+ .* -> \S+/m);
      assert.doesNotMatch(dry.stdout, /^clib-/m, 'C packages do not depend on Python');
      // The whole venv tree is rebuilt into the same venv (the prefix): pip too, whose old copy
      // the new interpreter may not even see.
      const r = await rig.run('purea', 'fine');
      assert.equal(r.exitCode, 0, r.all);
      const v = await py(rig, 'import sys, os; print(os.path.realpath(sys._base_executable))');
      assert.equal(v.stdout, (await execa(other, ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'])).stdout);
      assert.equal(rig.manifests().filter((m) => m.startsWith('python3_venv-')).length, 1, 'one manifest: the old version was replaced');
      assert.equal((await pip(rig, ['check'])).exitCode, 0);
      assert.match((await rig.run('-n', 'purea', 'fine')).stdout, /Nothing to \(re\)build/);
    } finally {
      // Tests added later share this rig: they must not inherit this test's config, even after a failure.
      rig.write({ 'build.config.yaml': CONFIG });
    }
  });
});
