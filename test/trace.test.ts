// --trace: besides one slice per package build, one per phase (download, unpack, each recipe
// script, pip lock wait, pip install, merge), inside its package's slice, begin <= end.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Rig } from './rig.ts';
import { makeWheel, withToolchain } from './pyfixtures.ts';

type Slice = { name: string; cat: string; ph: string; ts: number; dur: number; tid: number; args: Record<string, string> };

describe('--trace phases', { timeout: 900_000 }, () => {
  const rig = new Rig('trace-phases');
  after(() => rig.cleanup());

  before(async () => {
    await withToolchain(rig);
    mkdirSync(rig.path('upstream'), { recursive: true });
    const whl = await makeWheel(rig.path('upstream'), 'wp', '1.0', 'VERSION = "1.0"\n');
    mkdirSync(rig.path('tsrc/tp-1.0'), { recursive: true });
    writeFileSync(rig.path('tsrc/tp-1.0/data.txt'), 'data\n');
    await execa('tar', ['-czf', rig.path('upstream/tp-1.0.tar.gz'), '-C', rig.path('tsrc'), 'tp-1.0']);
    const sum = (f: string) => createHash('sha256').update(readFileSync(rig.path('upstream', f))).digest('hex');
    rig.write({
      'pkgs/wp/type': 'standard\n',
      'pkgs/wp/package-version.txt': '1.0\n',
      'pkgs/wp/checksums.ini': `tarball=wp-VERSION-py3-none-any.whl\nsha256=${sum(whl)}\n`,
      'pkgs/wp/dependencies': '$(PYTHON) | pip\n',
      'pkgs/tp/type': 'standard\n',
      'pkgs/tp/package-version.txt': '1.0\n',
      'pkgs/tp/checksums.ini': `tarball=tp-VERSION.tar.gz\nsha256=${sum('tp-1.0.tar.gz')}\n`,
      'pkgs/tp/spkg-build.in': 'cd src && test -f data.txt\n',
      'pkgs/tp/spkg-install.in': 'mkdir -p "$SAGE_DESTDIR_LOCAL/share/tp" && cp src/data.txt "$SAGE_DESTDIR_LOCAL/share/tp/"\n',
    });
  });

  it('each package has its phases as slices within its build, begin <= end', async () => {
    const r = await rig.run('--offline', '--trace', 'trace.json', 'wp', 'tp');
    assert.equal(r.exitCode, 0, r.all);
    const trace = JSON.parse(readFileSync(rig.path('trace.json'), 'utf8')) as { traceEvents: Slice[] };
    const phases = (pkg: string) => trace.traceEvents.filter((e) => e.cat === 'phase' && e.args.package === pkg);
    for (const e of trace.traceEvents) {
      assert.equal(e.ph, 'X');
      assert.ok(e.dur >= 0 && e.ts >= 0, `${e.name}: begin <= end`);
    }
    for (const id of ['tp-1.0', 'wp-1.0']) {
      const pkg = trace.traceEvents.find((e) => e.cat === 'package' && e.name === id)!;
      assert.ok(pkg, id);
      for (const p of phases(id)) {
        assert.equal(p.tid, pkg.tid, `${p.name} on its package's lane`);
        assert.ok(p.ts >= pkg.ts && p.ts + p.dur <= pkg.ts + pkg.dur + 1, `${id} ${p.name} inside the package's slice`);
      }
    }
    const names = (id: string) => [...new Set(phases(id).map((p) => p.name))].sort();
    assert.deepEqual(names('tp-1.0'), ['build: spkg-build', 'build: spkg-install', 'download', 'merge', 'unpack']);
    // A wheel: its default install script, then the shared pip lock waited for, the merge, pip install.
    assert.deepEqual(names('wp-1.0'), ['build: spkg-install', 'download', 'merge', 'pip-install', 'pip-lock-wait']);
    const at = (id: string, n: string) => phases(id).find((p) => p.name === n)!;
    assert.ok(at('tp-1.0', 'unpack').ts >= at('tp-1.0', 'download').ts + at('tp-1.0', 'download').dur, 'in order: download, then unpack');
    assert.ok(at('wp-1.0', 'pip-install').ts >= at('wp-1.0', 'merge').ts, 'pip install after the merge');
  });
});
