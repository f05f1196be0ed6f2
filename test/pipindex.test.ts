// pip-kind packages (requirements.txt) against a PEP 503 index served on 127.0.0.1 by the test:
// fetched with the user's pip configuration (here PIP_INDEX_URL), stored, installed; `download`
// keeps the wheel for --offline builds; a requirement the index lacks fails that package only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Rig, type Tree } from './rig.ts';
import { makeWheel, pip, py, withToolchain } from './pyfixtures.ts';
import { problems, venvProblems } from './txn.ts';

function pipPkg(name: string, version: string, requirements = `${name}==${version}\n`): Tree {
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${version}\n`,
    [`pkgs/${name}/requirements.txt`]: requirements,
    [`pkgs/${name}/dependencies`]: '$(PYTHON)\n',
  };
}

describe('pip packages from a package index', { timeout: 600_000 }, () => {
  const rig = new Rig('pipindex');
  const served = rig.path('index-files');
  const requests: string[] = [];
  let server: Server;
  let env: Record<string, string>;

  before(async () => {
    // pip (and the rest of the toolchain) come from the configured index; everything after from the loopback one.
    await withToolchain(rig, 'jobs: 2\n');
    rig.write({
      ...pipPkg('idxdemo', '1.0'),
      ...pipPkg('missingdemo', '2.0'),
      // Two lines, and a requirement that needs another distribution: pip installs both.
      ...pipPkg('withdeps', '1.0', '# as Sage: pip install -r requirements.txt\nwithdeps==1.0\nsecondreq\n'),
      ...pipPkg('alsodeps', '3.0', 'alsodeps\n'),
      ...pipPkg('reqonly', '1.0', 'shareddep\n'),
      ...pipPkg('paone', '1.0', 'paone\n'),
      ...pipPkg('patwo', '1.0', 'patwo\n'),
    });
    mkdirSync(served, { recursive: true });
    await makeWheel(served, 'idxdemo', '1.0', 'VALUE = 42\n');
    await makeWheel(served, 'withdeps', '1.0', 'from shareddep import BASE\nVALUE = BASE + 1\n', ['shareddep>=1.0']);
    await makeWheel(served, 'secondreq', '0.5', 'VALUE = 5\n');
    await makeWheel(served, 'shareddep', '1.0', 'BASE = 10\n');
    await makeWheel(served, 'alsodeps', '3.0', 'from shareddep import BASE\n', ['shareddep']);
    await makeWheel(served, 'paone', '1.0', 'import pashared\n', ['pashared']);
    await makeWheel(served, 'patwo', '1.0', 'import pashared\n', ['pashared']);
    await makeWheel(served, 'pashared', '1.0', 'X = 1\n');
    // A PEP 503 index of every wheel in `served`.
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const project = /^\/simple\/([^/]+)\/$/.exec(req.url ?? '')?.[1];
      const file = /^\/files\/([^/]+\.whl)$/.exec(req.url ?? '')?.[1];
      const wheels = readdirSync(served).filter((w) => w.endsWith('.whl'));
      if (project && wheels.some((w) => w.split('-')[0] === project)) {
        const links = wheels.filter((w) => w.split('-')[0] === project).map((w) => `<a href="/files/${w}#sha256=${createHash('sha256').update(readFileSync(path.join(served, w))).digest('hex')}">${w}</a>`);
        res.setHeader('content-type', 'text/html');
        res.end(`<!DOCTYPE html><html><body>${links.join('')}</body></html>`);
      } else if (file && wheels.includes(file)) {
        res.end(readFileSync(path.join(served, file)));
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { PIP_INDEX_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`, PIP_EXTRA_INDEX_URL: '', PIP_FIND_LINKS: '' };
  });
  after(() => {
    server?.close();
    rig.cleanup();
  });

  const run = (...args: string[]) => rig.runEnv(env, ...args);

  it('fetches the wheel from the index, stores it in the wheelhouse and installs it', async () => {
    const r = await run('idxdemo');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(requests.includes('/simple/idxdemo/'), requests.join(' '));
    assert.ok(requests.includes('/files/idxdemo-1.0-py3-none-any.whl'), requests.join(' '));
    assert.ok(readdirSync(rig.path('local/var/lib/sage/wheels')).includes('idxdemo-1.0-py3-none-any.whl'));
    assert.ok(rig.manifest('idxdemo-1.0').files.includes('var/lib/sage/wheels/idxdemo-1.0-py3-none-any.whl'));
    assert.equal((await py(rig, 'import idxdemo; assert idxdemo.VALUE == 42')).exitCode, 0);
  });

  it('`download` keeps the wheel; --offline then builds without the index', async () => {
    const d = await run('download', 'idxdemo');
    assert.equal(d.exitCode, 0, d.all);
    assert.ok(rig.exists('upstream/idxdemo-1.0-py3-none-any.whl'));
    assert.equal((await run('idxdemo-clean')).exitCode, 0);
    assert.notEqual((await pip(rig, ['show', 'idxdemo'])).exitCode, 0);
    const before = requests.length;
    const r = await run('--offline', 'idxdemo');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(requests.length, before, `no request to the index: ${requests.slice(before).join(' ')}`);
    assert.equal((await py(rig, 'import idxdemo')).exitCode, 0);
  });

  it('a requirement the index does not have fails that package only, with a clear message', async () => {
    const r = await run('-k', 'missingdemo', 'idxdemo');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all, /Error getting wheels for missingdemo-2\.0 .*from the package index/);
    assert.ok(!rig.manifests().includes('missingdemo-2.0'));
    assert.ok(!readdirSync(rig.path('local/var/lib/sage/wheels')).some((w) => w.startsWith('missingdemo')));
  });

  it('installs every requirement with its dependencies; the manifest records them all', async () => {
    const r = await run('withdeps');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal((await py(rig, 'import withdeps, secondreq; assert withdeps.VALUE == 11 and secondreq.VALUE == 5')).exitCode, 0);
    const dists = (rig.manifest('withdeps-1.0').sagebuild as { python_dists: unknown }).python_dists as { name: string; dependency?: boolean }[];
    assert.deepEqual(dists.map((d) => `${d.name}${d.dependency ? ' (dependency)' : ''}`).sort(), ['secondreq', 'shareddep (dependency)', 'withdeps']);
    const wheels = readdirSync(rig.path('local/var/lib/sage/wheels'));
    for (const w of ['withdeps-1.0-py3-none-any.whl', 'secondreq-0.5-py3-none-any.whl', 'shareddep-1.0-py3-none-any.whl']) assert.ok(wheels.includes(w), w);
    assert.equal((await pip(rig, ['check'])).exitCode, 0);
  });

  it('a dependency another package installed stays theirs; -clean keeps what others still need', async () => {
    const r = await run('alsodeps');
    assert.equal(r.exitCode, 0, r.all);
    const dists = (rig.manifest('alsodeps-3.0').sagebuild as { python_dists: unknown }).python_dists as { name: string }[];
    assert.deepEqual(dists.map((d) => d.name), ['alsodeps'], 'shareddep was installed already, by withdeps');
    const c = await run('withdeps-clean');
    assert.equal(c.exitCode, 0, c.all);
    assert.match(c.all, /kept shareddep 1\.0: alsodeps needs it; alsodeps owns it now/);
    assert.notEqual((await pip(rig, ['show', 'withdeps'])).exitCode, 0);
    assert.notEqual((await pip(rig, ['show', 'secondreq'])).exitCode, 0, 'a dependency nobody else needs goes with its package');
    assert.equal((await py(rig, 'import alsodeps')).exitCode, 0);
    assert.ok(rig.manifest('alsodeps-3.0').files.includes('var/lib/sage/wheels/shareddep-1.0-py3-none-any.whl'));
    assert.equal((await pip(rig, ['check'])).exitCode, 0);
    const c2 = await run('alsodeps-clean');
    assert.equal(c2.exitCode, 0, c2.all);
    assert.notEqual((await pip(rig, ['show', 'shareddep'])).exitCode, 0);
    assert.deepEqual(readdirSync(rig.path('local/var/lib/sage/wheels')).filter((w) => /^(withdeps|secondreq|shareddep|alsodeps)-/.test(w)), []);
  });

  it('a requirement another package installed is kept for the pip package that names it', async () => {
    assert.equal((await run('withdeps')).exitCode, 0);
    const r = await run('reqonly');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.all, /All requirements of reqonly are already installed/);
    const c = await run('withdeps-clean');
    assert.equal(c.exitCode, 0, c.all);
    assert.match(c.all, /kept shareddep 1\.0: the requirements of reqonly need it; reqonly owns it now/);
    assert.equal((await py(rig, 'import shareddep')).exitCode, 0);
    assert.equal((await pip(rig, ['check'])).exitCode, 0);
    const rc = await run('reqonly-clean');
    assert.equal(rc.exitCode, 0, rc.all);
    assert.notEqual((await pip(rig, ['show', 'shareddep'])).exitCode, 0, rc.all);
    assert.ok(!rig.manifests().some((m) => m.startsWith('reqonly-')), `${rig.manifests().join(' ')}\n${rc.all}`);
  });

  it('two pip packages built at once that pull in the same dependency: one of them owns it', async () => {
    const r = await run('-j', '2', 'paone', 'patwo');
    assert.equal(r.exitCode, 0, r.all);
    const owners = ['paone-1.0', 'patwo-1.0'].filter((m) => ((rig.manifest(m).sagebuild as { python_dists: { name: string }[] }).python_dists.some((d) => d.name === 'pashared')));
    assert.equal(owners.length, 1, owners.join(' '));
    assert.equal((await pip(rig, ['check'])).exitCode, 0);
    assert.equal((await run('paone-clean')).exitCode, 0);
    assert.equal((await run('patwo-clean')).exitCode, 0);
    assert.notEqual((await pip(rig, ['show', 'pashared'])).exitCode, 0);
  });

  it('a recipe for a distribution a pip package pulled in takes it over', async () => {
    assert.equal((await run('withdeps')).exitCode, 0);
    const wheel = 'shareddep-1.0-py3-none-any.whl';
    mkdirSync(rig.path('upstream'), { recursive: true });
    cpSync(path.join(served, wheel), rig.path('upstream', wheel));
    rig.write({
      'pkgs/shareddep/type': 'standard\n',
      'pkgs/shareddep/package-version.txt': '1.0\n',
      'pkgs/shareddep/checksums.ini': `tarball=shareddep-VERSION-py3-none-any.whl\nsha256=${createHash('sha256').update(readFileSync(path.join(served, wheel))).digest('hex')}\n`,
      'pkgs/shareddep/dependencies': '| pip $(PYTHON)\n',
    });
    const r = await run('shareddep');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.all, /takes over shareddep \(withdeps had 1\.0 as a dependency\)/);
    const dists = (rig.manifest('withdeps-1.0').sagebuild as { python_dists: { name: string }[] }).python_dists.map((d) => d.name);
    assert.ok(!dists.includes('shareddep'), dists.join(' '));
    assert.equal((await run('withdeps-clean')).exitCode, 0);
    assert.equal((await py(rig, 'import shareddep')).exitCode, 0, 'the recipe keeps it');
    assert.equal((await pip(rig, ['check'])).exitCode, 0);
  });

  // Issue 9: the hand-over is part of the install's transaction (its journal record).
  it('a take-over killed after the manifest is finished by the next command: the holder no longer lists the dist', async () => {
    assert.equal((await run('shareddep-clean')).exitCode, 0);
    assert.equal((await run('withdeps')).exitCode, 0);
    const killed = await rig.start(['shareddep'], { ...env, SAGEBUILD_TEST_CRASH_AT: 'manifest@shareddep' });
    assert.equal(killed.signal, 'SIGKILL', String(killed.all));
    const r = await run('status');
    assert.match(r.stderr, /recovered an interrupted install of shareddep-1\.0: completed \(its manifest was written\); took over shareddep \(withdeps had 1\.0 as a dependency\)/);
    const dists = (rig.manifest('withdeps-1.0').sagebuild as { python_dists: { name: string }[] }).python_dists.map((d) => d.name);
    assert.ok(!dists.includes('shareddep'), dists.join(' '));
    assert.deepEqual(problems(rig.path('local'), { venv: true }), []);
    assert.deepEqual(await venvProblems(rig.path('local')), []);
  });

  it('a take-over killed after pip installed it is rolled back: the holder keeps its wheel and its dist', async () => {
    assert.equal((await run('shareddep-clean')).exitCode, 0);
    assert.equal((await run('withdeps-clean')).exitCode, 0);
    assert.equal((await run('withdeps')).exitCode, 0);
    const killed = await rig.start(['shareddep'], { ...env, SAGEBUILD_TEST_CRASH_AT: 'pip-install@shareddep' });
    assert.equal(killed.signal, 'SIGKILL', String(killed.all));
    const r = await run('status');
    assert.match(r.stderr, /recovered an interrupted install of shareddep-1\.0: rolled back \(nothing of it is installed\)/);
    const dists = (rig.manifest('withdeps-1.0').sagebuild as { python_dists: { name: string }[] }).python_dists.map((d) => d.name);
    assert.ok(dists.includes('shareddep'), dists.join(' '));
    assert.deepEqual(problems(rig.path('local'), { venv: true }), []);
    assert.deepEqual(await venvProblems(rig.path('local')), []);
    assert.equal((await py(rig, 'import withdeps; print(withdeps.VALUE)')).stdout.trim(), '11');
    // And the take-over then goes through.
    const again = await run('shareddep');
    assert.equal(again.exitCode, 0, again.all);
    assert.match(again.all, /takes over shareddep \(withdeps had 1\.0 as a dependency\)/);
    assert.deepEqual(problems(rig.path('local'), { venv: true }), []);
  });
});
