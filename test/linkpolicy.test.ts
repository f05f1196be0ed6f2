// The one symlink rule for in-tree sources (src/util/linkpolicy.ts), on real files: what the copy
// into the build directory does with links inside and out of the tree, dangling links, loops and
// things that are not files. Fingerprints hash by the same rule (fingerprint.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { copyTree } from '../src/spkg/copy.ts';

const base = mkdtempSync(path.join(tmpdir(), 'sagebuild-links-'));
after(() => rmSync(base, { recursive: true, force: true }));
const never = new AbortController().signal;
let n = 0;

/** A fresh tree `t/` beside an outside folder `ext/`. */
function fresh(): { tree: string; ext: string; out: string } {
  const d = path.join(base, String(n++));
  const tree = path.join(d, 't');
  const ext = path.join(d, 'ext');
  mkdirSync(path.join(tree, 'sub'), { recursive: true });
  mkdirSync(path.join(ext, 'deep'), { recursive: true });
  writeFileSync(path.join(tree, 'sub', 'a.c'), 'int a;\n');
  writeFileSync(path.join(ext, 'b.c'), 'int b;\n');
  writeFileSync(path.join(ext, 'deep', 'c.c'), 'int c;\n');
  return { tree, ext, out: path.join(d, 'copy') };
}

describe('in-tree sources: one symlink rule', () => {
  it('links inside the tree and dangling links stay links; links out of it become what they lead to', async () => {
    const { tree, ext, out } = fresh();
    symlinkSync('sub/a.c', path.join(tree, 'in.c'));
    symlinkSync('nowhere', path.join(tree, 'dangling'));
    symlinkSync(path.join(ext, 'b.c'), path.join(tree, 'out.c'));
    symlinkSync(ext, path.join(tree, 'extdir'));
    await copyTree(tree, out, never);
    assert.equal(readlinkSync(path.join(out, 'in.c')), 'sub/a.c');
    assert.equal(readlinkSync(path.join(out, 'dangling')), 'nowhere');
    assert.ok(lstatSync(path.join(out, 'out.c')).isFile());
    assert.equal(readFileSync(path.join(out, 'out.c'), 'utf8'), 'int b;\n');
    assert.ok(lstatSync(path.join(out, 'extdir')).isDirectory());
    assert.equal(readFileSync(path.join(out, 'extdir', 'deep', 'c.c'), 'utf8'), 'int c;\n');
  });

  it('a link to a FIFO or a device is refused at once, not read forever', async () => {
    const { tree, ext, out } = fresh();
    execFileSync('mkfifo', [path.join(ext, 'pipe')]);
    symlinkSync(path.join(ext, 'pipe'), path.join(tree, 'p'));
    await assert.rejects(copyTree(tree, out, never), /leads to .*pipe, which is not a regular file or folder/);
    const t2 = fresh();
    symlinkSync('/dev/zero', path.join(t2.tree, 'zero'));
    await assert.rejects(copyTree(t2.tree, t2.out, never), /not a regular file or folder/);
    const t3 = fresh();
    execFileSync('mkfifo', [path.join(t3.tree, 'fifo')]);
    await assert.rejects(copyTree(t3.tree, t3.out, never), /is not a regular file, folder or symlink/);
  });

  it('a link to a folder that holds it, to the tree or to / is a loop, refused', async () => {
    const a = fresh();
    symlinkSync('/', path.join(a.tree, 'root'));
    await assert.rejects(copyTree(a.tree, a.out, never), /symlink loop/);
    const b = fresh();
    symlinkSync(b.ext, path.join(b.tree, 'x'));
    symlinkSync(path.join(b.ext, 'deep'), path.join(b.ext, 'deep', 'again'));
    await assert.rejects(copyTree(b.tree, b.out, never), /symlink loop: .*again leads to/);
    const c = fresh();
    symlinkSync(c.ext, path.join(c.tree, 'x'));
    symlinkSync(c.tree, path.join(c.ext, 'back'));
    await assert.rejects(copyTree(c.tree, c.out, never), /symlink loop/);
  });

  it('the same outside folder linked twice side by side is copied twice (not a loop)', async () => {
    const { tree, ext, out } = fresh();
    symlinkSync(ext, path.join(tree, 'one'));
    symlinkSync(ext, path.join(tree, 'two'));
    await copyTree(tree, out, never);
    assert.equal(readFileSync(path.join(out, 'one', 'b.c'), 'utf8'), readFileSync(path.join(out, 'two', 'b.c'), 'utf8'));
  });
});
