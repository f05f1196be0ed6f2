// In-process tests of how a Sage tree is read: checksums.ini groups and the tarball Sage would
// choose, make variables from build/make/Makefile.in, file-prerequisite wildcards; and end to end
// through the CLI, a tree laid out as Sage's (build/pkgs beside build/make).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { expandWildcard } from '../src/deps.ts';
import type { Diagnostic } from '../src/diagnostics.ts';
import { interpreterTags, chooseTarball, wheelFileTags } from '../src/python/tags.ts';
import { parseChecksums } from '../src/recipes.ts';
import { parseMakeVariables } from '../src/sagetree.ts';
import { Rig, scriptPkg } from './rig.ts';

describe('checksums.ini groups', () => {
  it('each tarball= starts a group; bad groups are build-only problems with their line', () => {
    const problems: Diagnostic[] = [];
    const groups = parseChecksums('/x/checksums.ini', 'tarball=a-VERSION-cp312-cp312-macosx_11_0_arm64.whl\nsha256=aa\nupstream_url=https://h/a.whl\n\ntarball=a-VERSION.tar.gz\nsha256=bb\n\ntarball=a-VERSION-py3-none-any.whl\n', problems);
    assert.deepEqual(groups.map((g) => [g.tarball, g.sha256, g.upstreamUrl]), [
      ['a-VERSION-cp312-cp312-macosx_11_0_arm64.whl', 'aa', 'https://h/a.whl'],
      ['a-VERSION.tar.gz', 'bb', undefined],
    ]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 8);
    assert.match(problems[0]!.message, /neither sha256= nor sha1= for a-VERSION-py3-none-any\.whl/);
  });
});

describe('tarball choice (Sage 10.10 package.py)', () => {
  const tags = ['cp311-cp311-manylinux_2_17_x86_64', 'cp311-abi3-manylinux_2_17_x86_64', 'py3-none-any'];
  const g = (tarball: string) => ({ tarball });
  it('parses wheel tags, compressed tag sets included', () => {
    assert.deepEqual(wheelFileTags('rpds_py-0.30.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'), ['cp312-cp312-manylinux_2_17_x86_64', 'cp312-cp312-manylinux2014_x86_64']);
    assert.deepEqual(wheelFileTags('six-1.16.0-py2.py3-none-any.whl'), ['py2-none-any', 'py3-none-any']);
    assert.equal(wheelFileTags('six-1.16.0.tar.gz'), null);
  });
  it('the best-ranked compatible wheel wins, in any listing order', () => {
    const groups = [g('x-1-cp312-cp312-macosx_11_0_arm64.whl'), g('x-1.tar.gz'), g('x-1-py3-none-any.whl'), g('x-1-cp311-cp311-manylinux_2_17_x86_64.whl')];
    assert.equal(chooseTarball(groups, tags).chosen.tarball, 'x-1-cp311-cp311-manylinux_2_17_x86_64.whl');
    assert.equal(chooseTarball(groups.slice(0, 3), tags).chosen.tarball, 'x-1-py3-none-any.whl');
  });
  it('no compatible wheel: the first sdist; no sdist either: the first group', () => {
    const c = chooseTarball([g('x-1-cp312-cp312-macosx_11_0_arm64.whl'), g('x-1.tar.gz')], tags);
    assert.equal(c.chosen.tarball, 'x-1.tar.gz');
    assert.match(c.note!, /no listed wheel fits/);
    assert.equal(chooseTarball([g('x-1-cp312-cp312-macosx_11_0_arm64.whl'), g('x-1-cp313-cp313-win_amd64.whl')], tags).chosen.tarball, 'x-1-cp312-cp312-macosx_11_0_arm64.whl');
    assert.equal(chooseTarball([g('x-1-py3-none-any.whl'), g('x-1.tar.gz')], null).chosen.tarball, 'x-1.tar.gz');
  });
  it("asks the real interpreter for its tags", () => {
    const t = interpreterTags('python3');
    assert.ok(t && t.length > 10 && t.includes('py3-none-any'), String(t?.slice(0, 3)));
    assert.equal(interpreterTags('/nonexistent/python3'), null);
  });
});

describe('make variables of build/make/Makefile.in', () => {
  it('reads assignments, joins continuations, fills configure choices, skips what configure decides otherwise', () => {
    const v = parseMakeVariables(
      [
        '# comment',
        'TOOLCHAIN = @SAGE_TOOLCHAIN@',
        'MP_LIBRARY = gmp',
        'BLAS = openblas # trailing comment',
        'SAGE_VENV = @SAGE_VENV@',
        'UNKNOWN = @SOMETHING_ELSE@',
        'PYTHON_TOOLCHAIN = setuptools pip \\',
        '    wheel',
        'SAGERUNTIME = sagelib $(inst_ipython)',
        'SAGERUNTIME += extra',
        'define TEMPLATE',
        'INSIDE = no',
        'endef',
        '\tRECIPE = no',
        'SAGE_CHECK := no',
      ].join('\n'),
    );
    assert.deepEqual(v, { TOOLCHAIN: ['gcc'], MP_LIBRARY: ['gmp'], BLAS: ['openblas'], PYTHON_TOOLCHAIN: ['setuptools', 'pip', 'wheel'], SAGERUNTIME: ['sagelib', '$(inst_ipython)', 'extra'] });
  });
});

describe('file prerequisite wildcards', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wild-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('expand to the sorted matches, or stay as written with none', () => {
    mkdirSync(path.join(dir, 'a', 'x'), { recursive: true });
    mkdirSync(path.join(dir, 'a', 'y'), { recursive: true });
    for (const f of ['a/x/2.pxd', 'a/x/1.pxd', 'a/y/3.pxd', 'a/x/.hidden.pxd', 'a/x/n.h']) writeFileSync(path.join(dir, f), '');
    assert.deepEqual(expandWildcard(path.join(dir, 'a/*/*.pxd')), ['a/x/1.pxd', 'a/x/2.pxd', 'a/y/3.pxd'].map((f) => path.join(dir, f)));
    assert.deepEqual(expandWildcard(path.join(dir, 'a/x/[12].pxd')), ['a/x/1.pxd', 'a/x/2.pxd'].map((f) => path.join(dir, f)));
    assert.deepEqual(expandWildcard(path.join(dir, 'a/x/*.nope')), [path.join(dir, 'a/x/*.nope')]);
  });
});

describe('a tree laid out as Sage\'s (build/pkgs beside build/make)', () => {
  const rig = new Rig('sagelayout');
  after(() => rig.cleanup());
  const moved = (t: Record<string, string | { content: string; mode: number } | { symlink: string }>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k.replace(/^pkgs\//, 'build/pkgs/'), v]));

  it('takes variables from Makefile.in, resolves relative file prerequisites in build/make, expands wildcards', async () => {
    rig.write({
      'build.config.yaml': 'pkgs: build/pkgs\n',
      'build/make/Makefile.in': 'MY_LIBS = liba\nBLAS = myblas\n',
      'build/make/stamps/one.txt': '1',
      'build/make/stamps/two.txt': '2',
      ...moved(scriptPkg('liba')),
      ...moved(scriptPkg('myblas')),
      ...moved(scriptPkg('app', { deps: '$(MY_LIBS) $(BLAS) stamps/*.txt' })),
    });
    const r = await rig.run('app');
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(rig.manifests(), ['app-1.0', 'liba-1.0', 'myblas-1.0']);
    assert.match((await rig.run('app')).stdout, /Nothing to \(re\)build/);
    rig.write({ 'build/make/stamps/two.txt': 'changed' });
    const again = await rig.run('--explain', 'app');
    assert.match(again.stdout, /stamps\/two\.txt/);
  });

  it('a package listing several tarballs uses the one Sage would: here the pure-Python wheel', async () => {
    const t = interpreterTags('python3');
    assert.ok(t, 'python3 reports its tags');
    rig.write({
      ...moved(scriptPkg('multi')),
      'build/pkgs/multi/checksums.ini': 'tarball=multi-VERSION-cp312-cp312-macosx_11_0_arm64.whl\nsha256=aa\n\ntarball=multi-VERSION-py3-none-any.whl\nsha256=bb\n\ntarball=multi-VERSION.tar.gz\nsha256=cc\n',
      'build/pkgs/multi2/type': 'standard\n',
      'build/pkgs/multi2/package-version.txt': '2.0\n',
      'build/pkgs/multi2/checksums.ini': 'tarball=multi2-VERSION-cp312-cp312-macosx_11_0_arm64.whl\nsha256=aa\n\ntarball=multi2-VERSION.tar.gz\nsha256=cc\n',
    });
    const r = await rig.run('-n', 'download', 'multi', 'multi2');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /multi-1\.0: would download \S+\/multi-1\.0-py3-none-any\.whl from pip's configured package index/);
    const dl = await rig.run('--offline', 'download', 'multi', 'multi2');
    assert.match(dl.all, /multi-1\.0-py3-none-any\.whl is not in the upstream cache/);
    assert.match(dl.all, /multi2-2\.0\.tar\.gz is not in the upstream cache/);
  });
});
