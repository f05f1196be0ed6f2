// Issue 9, the install transaction of a Python package: kill -9 at the points where the venv and
// the prefix disagree (old dist uninstalled, new wheel merged, new dist installed, manifest
// written); the rerun leaves one wheel per installed distribution, pip agreeing with the
// manifests, `pip check` passing. Few cases: each costs real pip runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Rig, type Tree } from './rig.ts';
import { makeWheel, withToolchain } from './pyfixtures.ts';
import { problems, venvProblems } from './txn.ts';

describe('install journal: Python package (wheel), kill -9 at the pip steps', { timeout: 900_000 }, () => {
  const rig = new Rig('sagebuild-journal-py');
  const sums: Record<string, string> = {};
  after(() => rig.cleanup());

  const recipe = (v: string): Tree => ({
    'pkgs/wp/type': 'standard\n',
    'pkgs/wp/package-version.txt': `${v}\n`,
    'pkgs/wp/checksums.ini': `tarball=wp-VERSION-py3-none-any.whl\nsha256=${sums[v]}\n`,
    'pkgs/wp/dependencies': '$(PYTHON) | pip\n',
  });

  before(async () => {
    await withToolchain(rig, 'jobs: 2\n');
    mkdirSync(rig.path('upstream'), { recursive: true });
    for (const v of ['1.0', '1.1']) {
      const whl = await makeWheel(rig.path('upstream'), 'wp', v, `VERSION = "${v}"\n`);
      sums[v] = createHash('sha256').update(readFileSync(rig.path('upstream', whl))).digest('hex');
    }
    rig.write(recipe('1.0'));
  });

  /**
   * The venv has exactly wp-`v`, and the invariants hold: venvProblems compares the venv's
   * distributions with the manifests' and runs `pip check`.
   */
  const assertInstalled = async (v: string | null) => {
    assert.deepEqual(problems(rig.path('local'), { venv: true }), []);
    assert.deepEqual(await venvProblems(rig.path('local')), []);
    assert.deepEqual(rig.manifests().filter((m) => m.startsWith('wp-')), v ? [`wp-${v}`] : []);
  };

  const crash = async (v: string, point: string) => {
    rig.write(recipe(v));
    const r = await rig.start(['wp'], { SAGEBUILD_TEST_CRASH_AT: `${point}@wp` });
    assert.equal(r.signal, 'SIGKILL', `the run was to kill itself at ${point}: ${String(r.all)}`);
  };
  const rerun = async (v: string, expect: RegExp) => {
    rig.write(recipe(v));
    const r = await rig.run('wp');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, expect);
    await assertInstalled(v);
  };

  it("fresh install killed after 'pip install': the new dist is uninstalled, then built again", async () => {
    await crash('1.0', 'pip-install');
    await rerun('1.0', /recovered an interrupted install of wp-1\.0: rolled back \(nothing of it is installed\)/);
  });

  for (const point of ['pip-uninstall', 'merge', 'pip-install'] as const) {
    it(`upgrade 1.0 -> 1.1 killed at '${point}', version set back: 1.0 is reinstalled from its restored wheel`, async () => {
      await crash('1.1', point);
      const st = await rig.run('status');
      assert.match(st.stderr, /recovered an interrupted install of wp-1\.1: rolled back to wp-1\.0/);
      await assertInstalled('1.0');
      await rerun('1.0', /^(?![\s\S]*recovered)/);
    });
  }

  it("upgrade killed while pip uninstalled the old dist: pip's stash (~p) goes with the roll-back (it stayed, pip warning about it ever after)", async () => {
    await crash('1.1', 'pip-uninstall');
    // What pip leaves when it is killed mid-uninstall: the dist's folder renamed aside to ~<name[1:]>.
    const site = rig.path('local/lib', readdirSync(rig.path('local/lib')).find((d) => d.startsWith('python'))!, 'site-packages');
    mkdirSync(`${site}/~p`, { recursive: true });
    writeFileSync(`${site}/~p/__init__.py`, 'VERSION = "1.0"\n');
    const st = await rig.run('status');
    assert.match(st.stderr, /recovered an interrupted install of wp-1\.1: rolled back to wp-1\.0; removed pip's leftover ~p/);
    assert.equal(existsSync(`${site}/~p`), false);
    await assertInstalled('1.0');
  });

  it("upgrade killed after the manifest: completed, 1.1 stays", async () => {
    await crash('1.1', 'manifest');
    await rerun('1.1', /recovered an interrupted install of wp-1\.1: completed \(its manifest was written\); wp-1\.0 removed/);
  });
});
