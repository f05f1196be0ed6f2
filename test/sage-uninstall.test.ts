// Manifests as Sage writes them, read and acted on by Sage's own uninstaller: the real
// build/bin/sage-spkg-uninstall (build/sage_bootstrap/uninstall.py) of Sage 10.10 removes a
// package sagebuild installed, running the hooks sagebuild installed, pip-uninstalling its wheel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PIP_RECORDS, ROOT, Rig, SAGE_RECORDS, scriptPkg } from './rig.ts';
import { withToolchain, pip, purePkg, py } from './pyfixtures.ts';

/** The Sage 10.10 tree the project's shared data holds (SAGE_TREE_TARBALL overrides). */
const TARBALL = process.env.SAGE_TREE_TARBALL ?? path.join(ROOT, '..', 'shared', 'data', 'sage-10.10-tree.tar.gz');
const skip = existsSync(TARBALL) ? false : `no Sage tree at ${TARBALL} (set SAGE_TREE_TARBALL)`;

const DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \S+ \d{4}$/;

const mark = (hook: string) =>
  `mkdir -p "$SAGE_LOCAL/share/marks"\nif [ -e "$SAGE_LOCAL/share/sc/a.txt" ]; then s=present; else s=absent; fi\necho "${hook} $s" >> "$SAGE_LOCAL/share/marks/sc"\n`;

describe("Sage's uninstaller on a sagebuild prefix", { timeout: 600_000, skip }, () => {
  const rig = new Rig('sage-uninstall');
  const sage = rig.path('sage');
  /** Runs Sage's real sage-spkg-uninstall as Sage's make does: `sage-spkg-uninstall PKG TREE`. */
  const sageUninstall = (pkg: string) =>
    execa('python3', [path.join(sage, 'build/bin/sage-spkg-uninstall'), pkg, rig.path('local')], {
      reject: false,
      all: true,
      env: { SAGE_ROOT: sage, PATH: `${path.join(sage, 'build/bin')}:${process.env.PATH}`, PIP_RETRIES: '0' },
    });

  before(async () => {
    mkdirSync(sage);
    await execa('tar', ['-xzf', TARBALL, '-C', sage]);
    await withToolchain(rig, 'jobs: 2\n');
    rig.write({
      'VERSION.txt': '10.10.beta4\n',
      ...scriptPkg('sc', { files: ['share/sc/a.txt', 'share/sc/deep/b.txt', 'bin/sc-tool'] }),
      'pkgs/sc/spkg-check.in': 'true\n',
      'pkgs/sc/spkg-prerm.in': mark('prerm'),
      'pkgs/sc/spkg-postrm.in': mark('postrm'),
      ...purePkg('sp', '1.0'),
      // A dummy (system) package: no record at all, as in Sage.
      'pkgs/sysdummy/type': 'standard\n',
      'pkgs/sysdummy/package-version.txt': '1.0\n',
    });
  });
  after(() => rig.cleanup());

  it('manifests have Sage\'s keys in sage-spkg\'s order: sage_version, install_date as `date` prints it, test_result empty without checks', async () => {
    const started = Math.floor(Date.now() / 1000);
    const r = await rig.run('sc', 'sp', 'sysdummy');
    assert.equal(r.exitCode, 0, r.all);
    const ended = Math.ceil(Date.now() / 1000);
    const m = rig.manifest('sc-1.0');
    assert.deepEqual(Object.keys(m), ['package_name', 'package_version', 'install_date', 'system_uname', 'sage_version', 'test_result', 'files', 'sagebuild']);
    assert.equal(m.sage_version, '10.10.beta4');
    assert.match(String(m.install_date), DATE_RE);
    // `date` reads it back as a time during the build (what Sage's $(date) would have printed then).
    const back = Number((await execa('date', ['-d', String(m.install_date), '+%s'], { env: { LC_ALL: 'C' } })).stdout);
    assert.ok(back >= started && back <= ended, `${m.install_date} = ${back}, not in [${started}, ${ended}]`);
    assert.equal(m.test_result, '');
    assert.deepEqual(m.files, ['bin/sc-tool', 'share/sc/a.txt', 'share/sc/deep/b.txt']);
    // No record where Sage keeps none: pip packages (requirements.txt; Sage's make only runs pip)
    // and dummies. sagebuild keeps the pip packages' records in its own state folder.
    const sageRecords = rig.manifests('local', [SAGE_RECORDS]).map((m) => m.split('-')[0]);
    assert.deepEqual(sageRecords.filter((n) => n !== 'python3_venv'), ['sc', 'sp']);
    assert.deepEqual(rig.manifests('local', [PIP_RECORDS]).map((m) => m.split('-')[0]), ['packaging', 'pip', 'setuptools', 'wheel']);
    assert.equal((await rig.run('-n', 'sc', 'sp', 'sysdummy')).stdout.trim(), 'Nothing to (re)build.');
    // The plan still reads an empty test_result as "checks not run".
    const dry = await rig.run('-n', '--check', 'sc');
    assert.match(dry.stdout, /^sc: checks requested; last test_result: none$/m);
  });

  it('removes a sagebuild-installed package: files, empty folders, manifest, running the installed prerm/postrm', async () => {
    const u = await sageUninstall('sc');
    assert.equal(u.exitCode, 0, String(u.all));
    for (const f of ['share/sc/a.txt', 'share/sc/deep/b.txt', 'bin/sc-tool']) assert.ok(!rig.exists(`local/${f}`), f);
    assert.ok(!rig.exists('local/share/sc'), 'emptied folders are removed');
    assert.ok(!rig.manifests().includes('sc-1.0'));
    assert.ok(!rig.exists('local/var/lib/sage/scripts/sc'), 'Sage removes the hooks folder');
    assert.equal(rig.read('local/share/marks/sc'), 'prerm present\npostrm absent\n');
    assert.match(String(u.all), /\[spkg-prerm\]|\[spkg-postrm\]|Removing stamp file/);
  });

  it("removes a sagebuild-installed Python package: the spkg-piprm sagebuild installed pip-uninstalls it", async () => {
    assert.equal((await py(rig, 'import sp; print(sp.VERSION)')).stdout, '1.0');
    const u = await sageUninstall('sp');
    assert.equal(u.exitCode, 0, String(u.all));
    assert.notEqual((await py(rig, 'import sp')).exitCode, 0);
    assert.doesNotMatch((await pip(rig, ['list', '--format=freeze'])).stdout, /^sp==/m);
    assert.ok(!readdirSync(rig.path('local/var/lib/sage/wheels')).some((f) => f.startsWith('sp-')), 'its wheel went with its files');
    assert.ok(!rig.manifests().includes('sp-1.0'));
    // sagebuild sees it as not installed, and builds it again.
    const again = await rig.run('-n', 'sp');
    assert.match(again.stdout, /^sp: not installed$/m);
  });
});
