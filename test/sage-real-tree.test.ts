// Sage 10.10's real, unmodified tree (../shared/data/sage-10.10-tree.tar.gz, extracted into a temp
// folder): every query command works on the whole tree; only building what cannot be built fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { twoInterpreters } from './pyfixtures.ts';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, Rig } from './rig.ts';
import { loadConfig } from '../src/config.ts';
import { analyze } from '../src/project.ts';
import { readBootstrapPython } from '../src/sagetree.ts';

export const SAGE_TARBALL = path.resolve(ROOT, '..', 'shared', 'data', 'sage-10.10-tree.tar.gz');

/** Extracts the real Sage tree into the rig and points the config at its build/pkgs. */
export function extractSageTree(rig: Rig, config = ''): void {
  assert.ok(existsSync(SAGE_TARBALL), `${SAGE_TARBALL} is missing: the tests need ../shared beside the project`);
  execFileSync('tar', ['-xzf', SAGE_TARBALL, '-C', rig.dir]);
  rig.write({ 'build.config.yaml': `pkgs: build/pkgs\n${config}` });
}

describe("Sage 10.10's real tree, unmodified", () => {
  const rig = new Rig('sagereal');
  before(() => extractSageTree(rig));
  after(() => rig.cleanup());

  it('list prints all 437 recipes and the venv', async () => {
    const r = await rig.run('list');
    assert.equal(r.exitCode, 0, r.stderr);
    const names = r.stdout.trim().split('\n');
    assert.equal(names.length, 438);
    for (const n of ['configure', 'valgrind', 'rpds_py', 'sagelib', 'python3_venv']) assert.ok(names.includes(n), n);
  });

  it('status reports every package; configure cannot be built, valgrind is a dummy', async () => {
    const r = await rig.run('status');
    assert.equal(r.exitCode, 3, r.stderr); // answered: nothing is installed
    assert.match(r.stdout, /^configure +cannot build +\S+: package 'configure' has a source tarball \(checksums\.ini\) but no spkg-install/m);
    assert.match(r.stdout, /^valgrind +dummy/m);
    assert.equal(r.stdout.trim().split('\n').length, 438);
  });

  it('-n all plans the standard packages (never base ones) and exits 0', async () => {
    const r = await rig.run('-n', 'all');
    assert.equal(r.exitCode, 0, r.stderr);
    const planned = new Set(r.stdout.trim().split('\n').map((l) => l.split(':')[0]));
    assert.ok(planned.has('sagelib') && planned.has('gmp') && planned.has('python3_venv'));
    assert.ok(!planned.has('configure'));
    assert.ok(planned.size > 250, String(planned.size));
  });

  it('--explain and --check -n work on the whole tree', async () => {
    const e = await rig.run('--explain', 'sagelib');
    assert.equal(e.exitCode, 0, e.stderr);
    assert.match(e.stdout, /sagelib-\S+ will be rebuilt/);
    const c = await rig.run('--check', '-n', 'six');
    assert.equal(c.exitCode, 0, c.stderr);
  });

  it('with a separate venv, packages land in the tree Sage gives them (bootstrap-generated version_requirements, trees.txt)', async () => {
    rig.write({ 'build.config.yaml': 'pkgs: build/pkgs\nvenv: pyvenv\n' });
    try {
      const project = await analyze(loadConfig(null, {}, rig.dir));
      const tree = (n: string) => (project.treeOf(project.recipes.get(n)!) === project.config.venv ? 'venv' : 'prefix');
      assert.equal(readBootstrapPython(rig.path('bootstrap')).has('numpy'), true);
      // numpy and cython get version_requirements.txt only from Sage's bootstrap; six is a wheel;
      // sagemath_doc_html says SAGE_DOCS in trees.txt; gmp is a C library.
      assert.deepEqual(['numpy', 'cython', 'six', 'sagemath_doc_html', 'gmp', 'highspy'].map(tree), ['venv', 'venv', 'venv', 'prefix', 'prefix', 'venv']);
    } finally {
      rig.write({ 'build.config.yaml': 'pkgs: build/pkgs\n' });
    }
  });

  it("expands every package's dependencies as Sage's make does (the recorded 10.10 graph)", async () => {
    const graph = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/sage-graph-10.10.json'), 'utf8')) as { packages: { name: string; type: string; deps: string[]; order_only_deps: string[]; optional_if_installed_deps: string[] }[] };
    const project = await analyze(loadConfig(null, {}, rig.dir));
    const type = new Map(graph.packages.map((p) => [p.name, p.type]));
    const mismatches: string[] = [];
    for (const p of graph.packages) {
      const d = project.deps.get(p.name)!;
      // dependencies_optional counts when the package is installed: the standard ones are.
      const optional = p.optional_if_installed_deps.filter((x) => type.get(x) === 'standard');
      // make drops the order-only edge of the one cycle (sphinx | sphinxcontrib_websupport).
      const orderOnly = [...p.order_only_deps, ...optional].filter((x) => !p.deps.includes(x) && !(p.name === 'sphinx' && x === 'sphinxcontrib_websupport'));
      const ours = JSON.stringify([[...d.normal].sort(), [...d.orderOnly].sort()]);
      const sages = JSON.stringify([[...new Set(p.deps)].sort(), [...new Set(orderOnly)].sort()]);
      if (ours !== sages) mismatches.push(`${p.name}: ${ours} vs ${sages}`);
    }
    assert.deepEqual(mismatches, []);
    assert.equal(graph.packages.length, 437);
  });

  it('configure decides every package with an spkg-configure.m4; -n all then leaves the system ones out', async () => {
    const r = await rig.run('configure');
    assert.equal(r.exitCode, 0, r.all);
    const m = /configure: of 437 packages, (\d+) from the system, (\d+) to build, (\d+) undecided/.exec(r.stdout);
    assert.ok(m, r.stdout.slice(-500));
    const [system, build, undecided] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.equal(system + build + undecided, 437);
    const lines = r.stdout.split('\n').filter((l) => /^[a-z0-9_]+: +(from the system|will be built|undecided)/.test(l));
    assert.equal(lines.length, 339, 'one line per spkg-configure.m4');
    // gcc's check needs a working C and C++ compiler, which the tests themselves need.
    assert.match(r.stdout, /^gcc: +from the system: /m);
    const sys = lines.filter((l) => /: +from the system/.test(l)).map((l) => l.split(':')[0]!);
    assert.equal(sys.length, system);
    const plan = await rig.run('-n', 'all');
    assert.equal(plan.exitCode, 0, plan.all);
    const planned = new Set(plan.stdout.trim().split('\n').map((l) => l.split(':')[0]));
    for (const n of sys) assert.ok(!planned.has(n), `${n} comes from the system`);
    const status = await rig.run('status');
    for (const n of sys) assert.match(status.stdout, new RegExp(`^${n} +system `, 'm'));
    rmSync(rig.path('local'), { recursive: true, force: true });
  });

  it('building a package that cannot be built is an error naming it and why, before anything runs', async () => {
    // (`sagebuild configure` is the command; the package is named as configure-no-deps.)
    const r = await rig.run('configure-no-deps');
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.stderr, /build\/pkgs\/configure\/spkg-install\.in: error: cannot build package 'configure' \(it was requested\)/);
    assert.ok(!rig.exists('local/var/lib/sage/installed'));
    // Said before configure ran its checks (seconds on this tree): the prefix was not even made.
    rmSync(rig.path('local'), { recursive: true, force: true });
    const again = await rig.run('configure-no-deps');
    assert.equal(again.exitCode, 2, again.all);
    assert.ok(!rig.exists('local'), 'configure wrote nothing: it did not run');
  });

  it('rpds_py lists 56 wheels and an sdist: no wheel fits this interpreter unless it is CPython >= 3.12 on a listed platform', async () => {
    const r = await rig.run('-n', 'download', 'rpds_py');
    assert.equal(r.exitCode, 0, r.all);
    const line = r.stdout.split('\n').find((l) => l.startsWith('rpds_py-'))!;
    assert.ok(line, r.stdout);
    assert.doesNotMatch(line, /macosx/, 'a macOS wheel is never chosen on Linux');
    const minor = Number(execFileSync('python3', ['-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8' }));
    if (minor < 12) assert.match(line, /rpds_py-[\d.]+\.tar\.gz/);
    else assert.match(line, /manylinux|musllinux|\.tar\.gz/);
  });
});

describe("real Python packages of Sage 10.10's tree, from pip's configured index", { timeout: 600_000 }, () => {
  const rig = new Rig('sagepy');
  after(() => rig.cleanup());

  it('builds six, attrs and iniconfig (wheel packages) with pip into a per-interpreter venv; -clean; a rebuild reuses the downloaded wheel; another interpreter plans them all again', async (t) => {
    extractSageTree(rig, 'venv: auto\n');
    // Sage 10.10 pins pip 26.0.1; use whatever pip wheel the configured index serves instead
    // (a change to the temp copy only), so the test needs no network.
    const dl = rig.path('pipdl');
    try {
      execFileSync('python3', ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', '--dest', dl, 'pip'], { stdio: 'ignore' });
    } catch {
      return t.skip("pip's configured package index serves no pip wheel here");
    }
    const wheel = readdirSync(dl).find((f) => /^pip-[\d.]+-py3-none-any\.whl$/.test(f));
    assert.ok(wheel, readdirSync(dl).join(' '));
    const version = wheel.split('-')[1]!;
    const sha256 = createHash('sha256').update(readFileSync(path.join(dl, wheel))).digest('hex');
    rig.write({ 'build/pkgs/pip/package-version.txt': `${version}\n`, 'build/pkgs/pip/checksums.ini': `tarball=pip-VERSION-py3-none-any.whl\nsha256=${sha256}\n` });

    const r = await rig.run('six', 'attrs', 'iniconfig');
    assert.equal(r.exitCode, 0, r.all);
    const all = r.all;
    for (const w of ['six-1.17.0-py2.py3-none-any.whl', `pip-${version}-py3-none-any.whl`]) assert.match(all, new RegExp(`downloaded ${w.replace(/\./g, '\\.')} from pip's configured package index \\(sha256 verified\\)`));
    const venv = readdirSync(rig.path('local/var/lib/sage')).find((d) => d.startsWith('venv-python'))!;
    assert.ok(venv, 'venv: auto puts the venv under the prefix');
    const python = rig.path('local/var/lib/sage', venv, 'bin/python3');
    execFileSync(python, ['-c', 'import six, attr, iniconfig'], { stdio: 'pipe' });
    execFileSync(python, ['-m', 'pip', 'check'], { stdio: 'pipe' });
    const records = rig.manifests(path.join('local/var/lib/sage', venv));
    for (const p of ['six-1.17.0', 'attrs-', 'iniconfig-', `pip-${version}`, 'python3_venv-']) assert.ok(records.some((m) => m.startsWith(p)), `${p}: ${records.join(' ')}`);

    const c = await rig.run('six-clean');
    assert.equal(c.exitCode, 0, String(c.all));
    assert.throws(() => execFileSync(python, ['-c', 'import six'], { stdio: 'pipe' }));
    assert.ok(!readdirSync(rig.path('local/var/lib/sage', venv, 'var/lib/sage/wheels')).some((w) => w.startsWith('six-')), 'its wheel goes with it');
    const again = await rig.run('six');
    assert.equal(again.exitCode, 0, String(again.all));
    assert.doesNotMatch(String(again.all), /downloaded six/, 'the verified wheel in upstream/ is reused');
    execFileSync(python, ['-c', 'import six'], { stdio: 'pipe' });

    // Another interpreter: every Python package of the tree is to be rebuilt into its venv. (The
    // rebuild itself, into a second venv, is test/venv-tree.test.ts's; here only Sage's recipes' plan.)
    const pair = twoInterpreters();
    if (!pair) return t.skip('one Python interpreter only: no interpreter change to test');
    const current = realpathSync(python);
    const other = pair.find((p) => realpathSync(p.path) !== current)!;
    rig.write({ 'build.config.yaml': `pkgs: build/pkgs\nvenv: auto\npython: ${other.path}\n` });
    const plan = await rig.run('-n', 'six', 'attrs', 'iniconfig');
    assert.equal(plan.exitCode, 0, String(plan.all));
    assert.deepEqual(String(plan.stdout).trim().split('\n').map((l) => l.split(':')[0]).sort(), ['attrs', 'iniconfig', 'pip', 'python3_venv', 'six']);
  });
});
