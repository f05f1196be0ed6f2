// System packages end to end: `sagebuild configure` decides from the recipes' spkg-configure.m4,
// a build takes what the system provides instead of building it, status and --explain say why,
// and the config and Sage's --with(out)-system-<pkg> override the decision.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Rig, scriptPkg } from './rig.ts';

/** A header every C toolchain has (so the check finds it) and one nobody has. */
const HAVE = 'stdio.h';
const LACK = 'sagebuild_no_such_header_42.h';

const m4 = (name: string, header: string) => `SAGE_SPKG_CONFIGURE([${name}], [
    AC_CHECK_HEADER([${header}], [], [sage_spkg_install_${name}=yes])
])
`;

describe('system packages (spkg-configure.m4)', { timeout: 300_000 }, () => {
  const rig = new Rig('syspkgs');
  before(() => {
    rig.write({
      ...scriptPkg('onsys'),
      'pkgs/onsys/spkg-configure.m4': m4('onsys', HAVE),
      ...scriptPkg('missing'),
      'pkgs/missing/spkg-configure.m4': m4('missing', LACK),
      ...scriptPkg('strange'),
      'pkgs/strange/spkg-configure.m4': 'SAGE_SPKG_CONFIGURE([strange], [\n    SOME_MACRO_NOBODY_KNOWS([x])\n])\n',
      ...scriptPkg('app', { deps: 'onsys missing strange', body: 'echo "SAGE_X=${SAGE_ONSYS_PREFIX-unset}"' }),
    });
  });
  after(() => rig.cleanup());

  it('status before any decision plans everything as built and says how to decide', async () => {
    const r = await rig.run('status');
    assert.equal(r.exitCode, 3, r.all);
    assert.match(r.all, /not decided yet.*sagebuild configure/);
    assert.match(r.stdout, /^onsys +not installed/m);
  });

  it('configure decides each package, with the evidence, and counts them', async () => {
    const r = await rig.run('configure');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, new RegExp(`^onsys: +from the system: .*${HAVE.replace('.', '\\.')}`, 'm'));
    assert.match(r.stdout, new RegExp(`^missing: +will be built: .*${LACK.replace('.', '\\.')}`, 'm'));
    assert.match(r.stdout, /^strange: +undecided, will be built: .*SOME_MACRO_NOBODY_KNOWS/m);
    assert.match(r.stdout, /configure: of 4 packages, 1 from the system, 2 to build, 1 undecided \(built\): strange/);
    assert.ok(existsSync(rig.path('local/var/lib/sage/sagebuild/configure.json')));
  });

  it('a build takes the system package instead of building it; status and --explain say so', async () => {
    const r = await rig.run('app');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['app-1.0', 'missing-1.0', 'strange-1.0']);
    assert.doesNotMatch(r.all, /deciding which packages/, 'the cached decision is used');
    // A dependent of a system package is up to date afterwards, not rebuilt on every run.
    assert.match((await rig.run('app')).stdout, /Nothing to \(re\)build/);
    const s = await rig.run('status');
    assert.match(s.stdout, new RegExp(`^onsys +system +.*${HAVE.replace('.', '\\.')}`, 'm'));
    const e = await rig.run('--explain', 'onsys');
    assert.match(e.stdout, /onsys: from the system \(.*\), never built/);
  });

  it('--without-system-<pkg> builds it, and its dependents rebuild; the config can force the system', async () => {
    const n = await rig.run('-n', '--without-system-onsys', 'app');
    assert.equal(n.exitCode, 0, n.all);
    assert.match(n.stdout, /^onsys: not installed/m);
    assert.match(n.stdout, /^app: .*dependency onsys (rebuilt|changed)/m);
    rig.write({ 'build.config.yaml': 'system:\n  missing: yes\n' });
    try {
      const s = await rig.run('status');
      // sagebuild installed `missing` itself: as in Sage, it stays built until cleaned.
      assert.match(s.stdout, /^missing +installed/m);
      assert.equal((await rig.run('missing-clean')).exitCode, 0);
      const s2 = await rig.run('status');
      assert.match(s2.stdout, /^missing +system +asked for/m);
      const b = await rig.run('-n', 'app');
      assert.match(b.stdout, /^app: .*now from the system|^app: .*dependency missing/m);
    } finally {
      rig.write({ 'build.config.yaml': '' });
    }
  });

  it('a misspelt override is an error naming the package', async () => {
    const r = await rig.run('--with-system-onsy', 'app');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /no package 'onsy'.*\n.*did you mean 'onsys'/);
    rig.write({ 'build.config.yaml': 'system:\n  onsy: no\n' });
    try {
      const c = await rig.run('status');
      assert.equal(c.exitCode, 2);
      assert.match(c.stderr, /build\.config\.yaml:2:3: error: 'system:' names 'onsy'/);
    } finally {
      rig.write({ 'build.config.yaml': '' });
    }
  });
});
