// In-process tests of the parts that decide without running a recipe: checksums.ini groups,
// archive member rules (tar-slip), merge conflicts and file ownership, manifest paths and safe
// removal, wheel names and the PEP 503 index, the English of build reasons. Real files in temp
// folders, real archives (made with Python's tarfile and zipfile); no CLI process.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import type { Diagnostic } from '../src/diagnostics.ts';
import { UserError } from '../src/diagnostics.ts';
import type { Reason } from '../src/reasons.ts';
import { parseChecksums, substituteVersion } from '../src/recipes.ts';
import { reasonText, reasonsText } from '../src/report/reasons.ts';
import { UnsafeArchiveError, archiveFormat, checkArchive } from '../src/spkg/archive.ts';
import { manifestFiles, mergeConflicts, readStage, prepareStage } from '../src/spkg/stage.ts';
import { InstalledDb } from '../src/state/installed.ts';
import { checkManifestPaths, newManifest, readManifest, readManifestOrNull, removeFiles, removeRecord, scanInstalled, treeOfManifest, writeManifest } from '../src/state/manifest.ts';
import { isReserved } from '../src/state/layout.ts';
import { beginRecord, markStep, readRecord, rewriteRecord, type InstallIntent } from '../src/state/journal.ts';
import { normalizeName, parseWheelFilename, writeSimpleIndex } from '../src/wheelhouse.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(name = 'parts'): string {
  const d = mkdtempSync(path.join(tmpdir(), `${name}-`));
  dirs.push(d);
  return d;
}
function write(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
}

describe('checksums.ini', () => {
  const parse = (text: string) => {
    const problems: Diagnostic[] = [];
    const groups = parseChecksums('/r/checksums.ini', text, problems);
    return { groups, problems: problems.map((p) => `${p.line}: ${p.message}`) };
  };

  it('one group: tarball, checksums and upstream_url; comments and blank lines skipped; the first value of a key wins', () => {
    const { groups, problems } = parse('# a comment\n; another\n\ntarball=gmp-VERSION.tar.xz\nsha1=abc\nsha256 = def \nupstream_url=https://x/gmp-VERSION.tar.xz\nsha256=ignored\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(groups, [{ file: '/r/checksums.ini', tarball: 'gmp-VERSION.tar.xz', sha256: 'def', sha1: 'abc', upstreamUrl: 'https://x/gmp-VERSION.tar.xz' }]);
  });

  it('every tarball= starts a group (platform wheels); a group without a checksum or a tarball is a problem naming its line', () => {
    const { groups, problems } = parse('tarball=a-VERSION-cp311-cp311-manylinux_x86_64.whl\nsha256=11\ntarball=a-VERSION.tar.gz\nsha256=22\ntarball=b-VERSION.tar.gz\n');
    assert.deepEqual(groups.map((g) => `${g.tarball} ${g.sha256}`), ['a-VERSION-cp311-cp311-manylinux_x86_64.whl 11', 'a-VERSION.tar.gz 22']);
    assert.deepEqual(problems, ['5: checksums.ini has neither sha256= nor sha1= for b-VERSION.tar.gz']);
    assert.deepEqual(parse('sha256=33\n').problems, ['1: checksums.ini has no tarball= line']);
  });

  it('a tarball that is not a plain file name, and a line that is not key=value, are problems', () => {
    const { groups, problems } = parse('tarball=../../out/t-VERSION.tar.gz\nsha256=00\njunk line\n');
    assert.deepEqual(groups, []);
    assert.deepEqual(problems, ["3: expected key=value, got 'junk line'", '1: tarball=../../out/t-VERSION.tar.gz must be a plain file name (it is looked up in, and downloaded into, the upstream folder)']);
    assert.match(parse('tarball=.hidden.tar.gz\nsha256=00\n').problems[0]!, /must be a plain file name/);
  });

  it('VERSION and its parts are substituted, with or without ${}', () => {
    assert.equal(substituteVersion('gcc-VERSION.tar.xz', '13.2.0'), 'gcc-13.2.0.tar.xz');
    assert.equal(substituteVersion('https://x/v${VERSION_MAJOR}.${VERSION_MINOR}/p-VERSION_MICRO-${VERSION}', '13.2.1'), 'https://x/v13.2/p-1-13.2.1');
  });
});

/** Writes an archive with Python (tarfile / zipfile), so members can be crafted: absolute, .., links. */
async function archive(file: string, members: { name: string; data?: string; symlink?: string; hardlink?: string }[], mode = 'w:gz'): Promise<string> {
  const script = `
import io, json, sys, tarfile, zipfile
out, mode, members = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
if mode == "zip":
    with zipfile.ZipFile(out, "w") as z:
        for m in members:
            z.writestr(m["name"], m.get("data", ""))
    sys.exit(0)
with tarfile.open(out, mode) as t:
    for m in members:
        info = tarfile.TarInfo(m["name"])
        if "symlink" in m or "hardlink" in m:
            info.type = tarfile.SYMTYPE if "symlink" in m else tarfile.LNKTYPE
            info.linkname = m.get("symlink") or m["hardlink"]
            t.addfile(info)
        else:
            data = m.get("data", "").encode()
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
`;
  await execa('python3', ['-c', script, file, mode], { input: JSON.stringify(members) });
  return file;
}

describe('archive members (tar-slip rules)', () => {
  const d = tmp('archive');
  const refused = async (file: string, re: RegExp) => {
    await assert.rejects(checkArchive(file), (e: unknown) => e instanceof UnsafeArchiveError && re.test(e.message));
  };

  it('plain members, folders and symlinks that stay inside pass', async () => {
    const f = await archive(path.join(d, 'ok.tar.gz'), [{ name: 'ok-1.0/real.txt', data: 'hi' }, { name: 'ok-1.0/link', symlink: 'real.txt' }, { name: 'ok-1.0/sub/up', symlink: '../real.txt' }, { name: 'ok-1.0/hard', hardlink: 'ok-1.0/real.txt' }]);
    assert.equal(archiveFormat(f), 'gzip');
    await checkArchive(f);
  });

  it('absolute and .. members are refused, each named, in one message', async () => {
    const f = await archive(path.join(d, 'abs.tar.gz'), [{ name: 'e/ok', data: '' }, { name: '/tmp/x', data: '' }, { name: 'e/../../y', data: '' }]);
    await refused(f, /refusing to unpack .*abs\.tar\.gz: 2 unsafe member\(s\): \/tmp\/x \(absolute path\), e\/\.\.\/\.\.\/y \(contains \.\.\)/);
  });

  it('a write through a symlink leading outside, directly, by a chain, or by climbing through another link', async () => {
    await refused(await archive(path.join(d, 'l1.tar'), [{ name: 'e/link', symlink: '/tmp' }, { name: 'e/link/f', data: '' }], 'w'), /e\/link\/f \(written through the symlink e\/link, which leads outside\)/);
    await refused(await archive(path.join(d, 'l2.tar.gz'), [{ name: 'e/b', symlink: '../../..' }, { name: 'e/a', symlink: 'b' }, { name: 'e/a/f', data: '' }]), /e\/a\/f \(written through the symlink e\/a, which leads outside\)/);
    await refused(await archive(path.join(d, 'l3.tar.gz'), [{ name: 'e/x', symlink: '..' }, { name: 'e/l', symlink: 'x/..' }, { name: 'e/l/f', data: '' }]), /e\/l\/f \(written through the symlink e\/l/);
    // A link to itself never resolves: refused, not a hang.
    await refused(await archive(path.join(d, 'loop.tar.gz'), [{ name: 'e/s', symlink: 's' }, { name: 'e/s/f', data: '' }]), /e\/s\/f \(written through the symlink e\/s/);
  });

  it('a hard link to a file outside the tree is refused', async () => {
    await refused(await archive(path.join(d, 'h1.tar.gz'), [{ name: 'e/h', hardlink: '/etc/passwd' }]), /e\/h \(hard link to \/etc\/passwd\)/);
    await refused(await archive(path.join(d, 'h2.tar.gz'), [{ name: 'e/l', symlink: '..' }, { name: 'e/h', hardlink: 'e/l/../../x' }]), /e\/h \(hard link to e\/l\/\.\.\/\.\.\/x\)/);
    await refused(await archive(path.join(d, 'h3.tar.gz'), [{ name: 'e/out', symlink: '/' }, { name: 'e/h', hardlink: 'e/out/etc/passwd' }]), /e\/h \(hard link to e\/out\/etc\/passwd\)/);
  });

  it('xz and bzip2 archives are read through their tools; a file that is no archive is an error, not an empty archive', async () => {
    const t = await archive(path.join(d, 'c.tar'), [{ name: 'c/../../z', data: '' }], 'w');
    await execa('bash', ['-c', 'xz -k c.tar && bzip2 -k c.tar'], { cwd: d });
    assert.equal(archiveFormat(`${t}.xz`), 'xz');
    assert.equal(archiveFormat(`${t}.bz2`), 'bzip2');
    assert.equal(archiveFormat(t), 'tar');
    await refused(`${t}.xz`, /1 unsafe member\(s\): c\/\.\.\/\.\.\/z \(contains \.\.\)/);
    await refused(`${t}.bz2`, /contains \.\./);
    writeFileSync(path.join(d, 'not.tar'), 'just text, no archive\n');
    await refused(path.join(d, 'not.tar'), /cannot read .*not\.tar/);
  });

  it('zip archives: absolute and .. members are refused, others pass', async () => {
    const ok = await archive(path.join(d, 'ok.zip'), [{ name: 'w/a.py', data: 'x' }], 'zip');
    assert.equal(archiveFormat(ok), 'zip');
    await checkArchive(ok);
    await refused(await archive(path.join(d, 'bad.zip'), [{ name: 'w/a.py' }, { name: 'w/../../evil.py' }], 'zip'), /bad\.zip: 1 unsafe member\(s\): w\/\.\.\/\.\.\/evil\.py \(contains \.\.\)/);
  });
});

describe('staging and merge conflicts', () => {
  it('the stage: lib64 -> lib and .la files are Sage artifacts, dropped; what is outside the tree is listed', () => {
    const d = tmp('stage');
    const destdir = path.join(d, 'inst');
    const tree = path.join(d, 'local');
    prepareStage(destdir, tree);
    write(destdir + tree, { 'lib/libx.so': '', 'lib/libx.la': '', 'share/x/a': '' });
    symlinkSync('a', destdir + tree + '/share/x/alias');
    write(destdir, { 'etc/evil': '' });
    const { entries, outside } = readStage(destdir, tree);
    assert.deepEqual(entries, [
      { rel: 'lib', kind: 'dir' },
      { rel: 'lib/libx.so', kind: 'file' },
      { rel: 'share', kind: 'dir' },
      { rel: 'share/x', kind: 'dir' },
      { rel: 'share/x/a', kind: 'file' },
      { rel: 'share/x/alias', kind: 'symlink' },
    ]);
    assert.deepEqual(manifestFiles(entries), ['lib/libx.so', 'share/x/a', 'share/x/alias']);
    assert.deepEqual(outside, [path.join(destdir, 'etc')]);
  });

  it('a destination through a symlink, a file where a folder goes and the reverse are conflicts; the old version\'s paths are not', () => {
    const d = tmp('merge');
    const tree = path.join(d, 'local');
    const outside = path.join(d, 'outside');
    write(tree, { 'share/file-here/x': '', 'share/dir-here/f': '', 'share/a/keep': '' });
    mkdirSync(outside);
    symlinkSync(outside, path.join(tree, 'share/plugins'));
    write(tree, { 'share/tofile': '' });
    const entries = [
      { rel: 'share', kind: 'dir' as const },
      { rel: 'share/plugins/p.txt', kind: 'file' as const },
      { rel: 'share/tofile', kind: 'dir' as const },
      { rel: 'share/dir-here', kind: 'file' as const },
      { rel: 'share/a/keep', kind: 'file' as const },
    ];
    assert.deepEqual(mergeConflicts(entries, tree, new Set()), [
      `${tree}/share/plugins/p.txt (would be written through the symlink ${tree}/share/plugins)`,
      `${tree}/share/tofile (a file is in the way of the staged directory)`,
      `${tree}/share/dir-here (a directory is in the way of the staged file)`,
    ]);
    // What the package's old version installed goes away first: no conflict then.
    const removing = new Set([`${tree}/share/plugins`, `${tree}/share/tofile`, `${tree}/share/dir-here/f`]);
    assert.deepEqual(mergeConflicts(entries, tree, removing), []);
  });
});

describe('installed records: ownership, manifest paths, removal', () => {
  const manifest = (tree: string, name: string, version: string, files: string[]) => writeManifest(tree, newManifest(name, version, files, '/nonexistent', { tool_version: 't', kind: 'script', tree }));

  it('records are found by package; who owns which file follows the records on disk, versions included', () => {
    const tree = tmp('owners');
    const a1 = manifest(tree, 'a', '1.0', ['share/a', 'share/common']);
    manifest(tree, 'b', '2.0', ['share/b']);
    writeFileSync(path.join(tree, 'var/lib/sage/installed/.dummy'), '');
    assert.deepEqual([...scanInstalled([tree, tree]).entries()].map(([n, es]) => `${n}:${es.map((e) => e.version).join(',')}`), ['a:1.0', 'b:2.0']);
    assert.equal(treeOfManifest(a1), tree);
    const db = new InstalledDb([tree]);
    assert.equal(db.owners().get(path.join(tree, 'share/common')), 'a');
    // A second version of a lists the same file: removing the old record keeps a as its owner.
    manifest(tree, 'a', '2.0', ['share/common']);
    db.owners();
    removeRecord(a1); // as sagebuild removes a record: other readers are told (installed.test.ts)
    assert.equal(db.owners().get(path.join(tree, 'share/common')), 'a');
    assert.equal(db.owners().get(path.join(tree, 'share/a')), undefined);
    // What b may not delete on removal: a file a lists too, and sagebuild's own records.
    const keep = db.keepOnRemoval('b', [path.join(tree, 'share/b'), path.join(tree, 'share/common'), path.join(tree, 'var/lib/sage/installed/a-2.0')]);
    assert.deepEqual(Object.fromEntries(keep), { [path.join(tree, 'share/common')]: 'listed by a', [path.join(tree, 'var/lib/sage/installed/a-2.0')]: "sagebuild's own state" });
    assert.ok(isReserved('var/lib/sage/wheels/simple/index.html') && !isReserved('var/lib/sage/wheels/x-1-py3-none-any.whl'));
    // pip packages' records live in sagebuild's own folder, and count the same.
    writeManifest(tree, newManifest('p', '1', ['lib/p.py'], '/nonexistent', { tool_version: 't', kind: 'pip', tree }));
    assert.ok(existsSync(path.join(tree, 'var/lib/sage/sagebuild/pip-installed/p-1')));
    assert.equal(new InstalledDb([tree]).owners().get(path.join(tree, 'lib/p.py')), 'p');
  });

  it('an old-style stamp or damaged record reads as null for planning, as an error naming it otherwise', () => {
    const tree = tmp('stamps');
    write(tree, { 'var/lib/sage/installed/c-1.0': 'PACKAGE NAME: c\n', 'var/lib/sage/installed/d-1.0': '{"files": [1]}' });
    for (const f of ['c-1.0', 'd-1.0']) {
      const file = path.join(tree, 'var/lib/sage/installed', f);
      assert.equal(readManifestOrNull(file), null);
      assert.throws(() => readManifest(file), (e: unknown) => e instanceof UserError && e.diagnostics[0]!.file === file);
    }
  });

  it('manifest entries that could reach outside the tree are refused, all named, before anything is deleted', () => {
    const d = tmp('mpaths');
    const tree = path.join(d, 'local');
    write(tree, { 'share/ok': '' });
    mkdirSync(path.join(d, 'outside'));
    symlinkSync('../outside', path.join(tree, 'escape'));
    assert.deepEqual(checkManifestPaths('/m', tree, ['share/ok', 'share/new/f']), [path.join(tree, 'share/ok'), path.join(tree, 'share/new/f')]);
    assert.throws(
      () => checkManifestPaths('/m', tree, ['/etc/passwd', 'share/../../x', '', './.', 'escape/f', 'share/ok']),
      (e: unknown) =>
        e instanceof UserError &&
        e.diagnostics[0]!.message === `refusing to use this manifest: 5 entries point outside the prefix ${tree}: '/etc/passwd' (absolute path), 'share/../../x' (contains ..), '' (empty path), './.' (empty path), 'escape/f' (its folder resolves to ${path.join(d, 'outside')}, outside ${tree})`,
    );
  });

  it('removal deletes files deepest first and the folders left empty, never the tree, never a folder recorded as a file', () => {
    const tree = tmp('remove');
    write(tree, { 'share/x/deep/f': '', 'share/x/g': '', 'share/y/other': '', 'lib/dir-now/inner': '' });
    const r = removeFiles(tree, ['share/x/deep/f', 'share/x/g', 'share/y/gone', 'lib/dir-now'].map((f) => path.join(tree, f)));
    assert.deepEqual(r, { removed: 2, left: [] }, 'a file already gone is no failure; a folder recorded as a file is left alone');
    assert.ok(!existsSync(path.join(tree, 'share/x')), 'emptied folders go');
    assert.ok(existsSync(path.join(tree, 'share/y/other')), "others' files stay");
    assert.ok(existsSync(path.join(tree, 'lib/dir-now/inner')));
    assert.ok(existsSync(tree));
  });
});

describe('install journal records (state/journal.ts)', () => {
  it('the exact intent is appended only when it differs from what the record says; the last one is read back', async () => {
    const tree = tmp('journal');
    const intent: InstallIntent = { format: 1, txn: 't1', pid: process.pid, start: null, pkg: 'a', version: '1', tree, manifest: path.join(tree, 'm'), old: [], moves: [], backups: [], add: [path.join(tree, 'share/a')], newDirs: [], hooks: [], pip: null, wheelhouse: null };
    mkdirSync(path.join(tree, 'var/lib/sage/sagebuild/journal'), { recursive: true });
    const rec = await beginRecord(intent);
    const lines = () => readFileSync(rec.file, 'utf8').split('\n').filter(Boolean);
    rec.intent = { ...intent };
    await rewriteRecord(rec);
    assert.equal(lines().length, 1, 'the same intent: nothing written');
    rec.intent = { ...intent, newDirs: [path.join(tree, 'share')] };
    await rewriteRecord(rec);
    await rewriteRecord(rec);
    await markStep(rec, 'merge');
    assert.equal(lines().length, 3, 'a changed intent once, then the step');
    const back = readRecord(rec.file)!;
    assert.deepEqual(back.intent.newDirs, [path.join(tree, 'share')]);
    assert.deepEqual([...back.steps], ['merge']);
  });
});

describe('wheel names and the PEP 503 index', () => {
  it('wheel file names (PEP 427) and project names (PEP 503)', () => {
    assert.deepEqual(parseWheelFilename('/w/Foo_Bar-1.2-py3-none-any.whl'), { dist: 'Foo_Bar', version: '1.2', file: 'Foo_Bar-1.2-py3-none-any.whl' });
    assert.deepEqual(parseWheelFilename('x-1.0-1build-cp311-cp311-linux_x86_64.whl'), { dist: 'x', version: '1.0', file: 'x-1.0-1build-cp311-cp311-linux_x86_64.whl' });
    assert.equal(parseWheelFilename('x-1.0.tar.gz'), null);
    assert.equal(parseWheelFilename('x-1.0-py3.whl'), null);
    assert.equal(normalizeName('Foo.Bar__baz-Qux'), 'foo-bar-baz-qux');
  });

  it('the index lists every project once, each wheel with its sha256; it is swapped in whole', () => {
    const wh = tmp('wheelhouse');
    write(wh, { 'Foo_Bar-1.0-py3-none-any.whl': 'one', 'foo.bar-2.0-py3-none-any.whl': 'two', 'baz-1-py3-none-any.whl': 'three', 'notes.txt': '' });
    assert.equal(writeSimpleIndex(wh), 2);
    const root = readFileSync(path.join(wh, 'simple/index.html'), 'utf8');
    assert.deepEqual([...root.matchAll(/href="([^"]+)"/g)].map((m) => m[1]), ['baz/', 'foo-bar/']);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const foo = readFileSync(path.join(wh, 'simple/foo-bar/index.html'), 'utf8');
    assert.deepEqual([...foo.matchAll(/href="([^"]+)"/g)].map((m) => m[1]), [`../../Foo_Bar-1.0-py3-none-any.whl#sha256=${sha('one')}`, `../../foo.bar-2.0-py3-none-any.whl#sha256=${sha('two')}`]);
    rmSync(path.join(wh, 'baz-1-py3-none-any.whl'));
    assert.equal(writeSimpleIndex(wh), 1);
    assert.equal(readdirSync(wh).filter((f) => f.startsWith('.simple-')).length, 1, 'the previous index folder is gone');
    mkdirSync(path.join(wh, 'bad-1-py3-none-any.whl'));
    assert.throws(() => writeSimpleIndex(wh), /cannot read the wheel .*bad-1-py3-none-any\.whl: EISDIR/);
  });
});

describe('build reasons in English (report/reasons.ts)', () => {
  it('every kind of reason has its wording; reasons join with "; "', () => {
    const cases: [Reason, string][] = [
      [{ kind: 'not-installed' }, 'not installed'],
      [{ kind: 'version', from: ['1.0', '1.1'], to: '2.0' }, 'version 1.0, 1.1 -> 2.0'],
      [{ kind: 'no-deps' }, 'requested with -no-deps'],
      [{ kind: 'force' }, 'depends on FORCE (always rebuilt)'],
      [{ kind: 'now-dummy', stale: ['a-1.0'] }, 'now a dummy package: the installed a-1.0 is removed'],
      [{ kind: 'unknown-files' }, 'installed, but its files are unknown (an old-style Sage stamp or a damaged manifest)'],
      [{ kind: 'no-fingerprint' }, 'installed without a fingerprint (by Sage or an older sagebuild)'],
      [{ kind: 'fingerprint-changed' }, 'fingerprint changed'],
      [{ kind: 'fingerprint-changed', unreadable: true }, 'fingerprint changed (the recorded inputs are unreadable)'],
      [{ kind: 'checks-requested', lastResult: '' }, 'checks requested; last test_result: none'],
      [{ kind: 'recipe-file', change: 'added', file: 'patches/1.patch' }, 'patches/1.patch added'],
      [{ kind: 'src-files', change: 'changed', files: ['a', 'b', 'c', 'd'] }, '4 files in src/ changed (a, b, c, ...)'],
      [{ kind: 'src-files', change: 'removed', files: ['a', 'b'] }, '2 files in src/ removed (a, b)'],
      [{ kind: 'tarball', from: undefined, to: 'sha256:ab' }, 'upstream tarball checksum none -> sha256:ab'],
      [{ kind: 'file', file: '/s/x.pxd' }, 'file /s/x.pxd changed'],
      [{ kind: 'system', now: 'gmp 6.3 via gmp.h', was: undefined }, 'now from the system (gmp 6.3 via gmp.h)'],
      [{ kind: 'system', now: undefined, was: 'gmp 6.3' }, 'no longer from the system (was: gmp 6.3)'],
      [{ kind: 'python', from: '3.11 /usr/bin/python3.11', to: undefined }, 'python 3.11 /usr/bin/python3.11 -> none'],
      [{ kind: 'tool', from: '0.1.0+a', to: '0.1.0+b' }, 'sagebuild build environment 0.1.0+a -> 0.1.0+b'],
      [{ kind: 'dependency-new', dep: 'gmp' }, 'new dependency gmp'],
      [{ kind: 'dependency-rebuilt', dep: 'gmp' }, 'dependency gmp rebuilt'],
      [{ kind: 'dependency-changed', dep: 'gmp' }, 'dependency gmp changed'],
      [{ kind: 'dependency-removed', dep: 'gmp' }, 'dependency gmp removed'],
    ];
    for (const [r, text] of cases) assert.equal(reasonText(r), text);
    assert.equal(reasonsText([{ kind: 'force' }, { kind: 'dependency-rebuilt', dep: 'a' }]), 'depends on FORCE (always rebuilt); dependency a rebuilt');
    assert.equal(reasonsText([]), '');
  });
});
