// -n on every command that changes something: it prints what it would change and changes
// nothing (every file under the rig, prefix and recipes alike, keeps its size and mtime).
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Rig, scriptPkg } from './rig.ts';

/** Every path below `dir` with its type, size and mtime. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      out.set(path.relative(dir, p), `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe('-n changes nothing and says what it would change', { timeout: 300_000 }, () => {
  const rig = new Rig('dryrun');
  before(async () => {
    rig.write({
      ...scriptPkg('a'),
      ...scriptPkg('b', { deps: 'a' }),
      // A tarball not in upstream/: download would fetch it.
      'pkgs/t/type': 'standard\n',
      'pkgs/t/package-version.txt': '1.0\n',
      'pkgs/t/checksums.ini': `tarball=t-VERSION.tar.gz\nsha256=${'0'.repeat(64)}\nupstream_url=http://127.0.0.1:9/t-1.0.tar.gz\n`,
      'pkgs/t/spkg-install.in': 'true\n',
      'pkgs/sys/type': 'optional\n',
      'pkgs/sys/package-version.txt': '1.0\n',
      'pkgs/sys/spkg-install.in': 'true\n',
      'pkgs/sys/spkg-configure.m4': 'SAGE_SPKG_CONFIGURE([sys], [\n    AC_CHECK_HEADER([stdio.h], [], [sage_spkg_install_sys=yes])\n])\n',
      'local/var/lib/sage/wheels/demo_thing-1.0-py3-none-any.whl': 'not really a wheel\n',
      'build.config.yaml': 'jobs: 1\n',
    });
    const r = await rig.run('b');
    assert.equal(r.exitCode, 0, r.all);
  });
  after(() => rig.cleanup());

  const dry = async (args: string[], expect: RegExp) => {
    const before = snapshot(rig.dir);
    const r = await rig.run('-n', ...args);
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, expect);
    assert.deepEqual(snapshot(rig.dir), before, `-n ${args.join(' ')} changed files`);
  };

  it('-n wheelhouse-index', () => dry(['wheelhouse-index'], /^wheelhouse-index: would rewrite the PEP 503 index .*\/var\/lib\/sage\/wheels\/simple\/ with 1 project\(s\).*\n {2}demo-thing: demo_thing-1\.0-py3-none-any\.whl$/));
  it('-n <pkg>-clean', () => dry(['a-clean'], /^would remove a-1\.0: 1 file\(s\) and .*a-1\.0\n {2}share\/a\/a\.txt$/));
  it('-n configure', () => dry(['configure'], /^configure: would run the spkg-configure\.m4 checks/));
  it('-n download', () => dry(['download', 't'], /^t-1\.0: would download .*upstream\/t-1\.0\.tar\.gz from http:\/\/127\.0\.0\.1:9\/t-1\.0\.tar\.gz/));
  // Planned as if the -clean had run (b stays up to date: a comes back with the same fingerprint, as a real run does).
  it('-n <pkg>-clean <pkg> (a build)', () => dry(['a-clean', 'b'], /^would remove a-1\.0: [^]*\na: not installed$/));
});
