// pip-kind packages (requirements.txt) against a PEP 503 index served on 127.0.0.1 by the test:
// fetched with the user's pip configuration (here PIP_INDEX_URL), stored, installed; `download`
// keeps the wheel for --offline builds; a requirement the index lacks fails that package only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Rig, type Tree } from './rig.ts';
import { TOOLCHAIN_CONFIG, copyToolchain, makeWheel, pip, py } from './pyfixtures.ts';

function pipPkg(name: string, version: string): Tree {
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${version}\n`,
    [`pkgs/${name}/requirements.txt`]: `${name}==${version}\n`,
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
    copyToolchain(rig);
    rig.write({ 'build.config.yaml': TOOLCHAIN_CONFIG, ...pipPkg('idxdemo', '1.0'), ...pipPkg('missingdemo', '2.0') });
    // pip itself comes from the configured index; everything after from the loopback one.
    const r = await rig.run('pip');
    assert.equal(r.exitCode, 0, r.all);
    mkdirSync(served, { recursive: true });
    const whl = await makeWheel(served, 'idxdemo', '1.0', 'VALUE = 42\n');
    const digest = createHash('sha256').update(readFileSync(path.join(served, whl))).digest('hex');
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/simple/idxdemo/') {
        res.setHeader('content-type', 'text/html');
        res.end(`<!DOCTYPE html><html><body><a href="/files/${whl}#sha256=${digest}">${whl}</a></body></html>`);
      } else if (req.url === `/files/${whl}`) {
        res.end(readFileSync(path.join(served, whl)));
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

  const run = async (...args: string[]) => {
    const r = await rig.start(args, env);
    return { exitCode: r.exitCode ?? -1, all: String(r.all), stdout: String(r.stdout), stderr: String(r.stderr) };
  };

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
    assert.match(r.all, /Error getting a wheel for missingdemo-2\.0 from the package index/);
    assert.ok(!rig.manifests().includes('missingdemo-2.0'));
    assert.ok(!readdirSync(rig.path('local/var/lib/sage/wheels')).some((w) => w.startsWith('missingdemo')));
  });
});
