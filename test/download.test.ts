// Upstream downloads against a real HTTP server on 127.0.0.1, and tar-slip protection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Rig, type Tree } from './rig.ts';

/** Makes a .tar.gz with python's tarfile; `members` may be crafted (absolute, .., symlinks). */
async function makeTarball(file: string, members: { name: string; data?: string; symlink?: string }[]): Promise<Buffer> {
  const script = `
import io, json, sys, tarfile
out, members = sys.argv[1], json.loads(sys.stdin.read())
with tarfile.open(out, "w:gz") as t:
    for m in members:
        info = tarfile.TarInfo(m["name"])
        if "symlink" in m:
            info.type = tarfile.SYMTYPE
            info.linkname = m["symlink"]
            t.addfile(info)
        else:
            data = m.get("data", "").encode()
            info.size = len(data)
            info.mode = 0o755
            t.addfile(info, io.BytesIO(data))
`;
  mkdirSync(path.dirname(file), { recursive: true });
  await execa('python3', ['-c', script, file], { input: JSON.stringify(members) });
  return readFileSync(file);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A normal package whose install copies the unpacked sources' `hello.txt` into share/. */
function tarPkg(name: string, sum: string, upstreamUrl?: string): Tree {
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: '1.0\n',
    [`pkgs/${name}/checksums.ini`]: `tarball=${name}-VERSION.tar.gz\nsha256=${sum}\n${upstreamUrl ? `upstream_url=${upstreamUrl}\n` : ''}`,
    [`pkgs/${name}/spkg-install.in`]: `cd src\nsdh_install hello.txt "$SAGE_LOCAL/share/${name}/"\n`,
  };
}

describe('upstream downloads', { timeout: 300_000 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'tarballs-'));
  let server: Server;
  let base = '';
  const hits = new Map<string, number>();
  const files = new Map<string, Buffer>();
  let big: Buffer;

  before(async () => {
    for (const n of ['good', 'drop', 'slow', 'stall', 'bad', 'cached', 'viaurl', 'early']) {
      files.set(n, await makeTarball(path.join(work, `${n}.tar.gz`), [{ name: `${n}-1.0/hello.txt`, data: `hello from ${n}\n` }]));
    }
    // Incompressible content, so the progress line has something to report.
    big = await makeTarball(path.join(work, 'big.tar.gz'), [{ name: 'big-1.0/hello.txt', data: 'big\n' }, { name: 'big-1.0/blob.bin', data: randomBytes(2 << 20).toString('base64') }]);
    server = createServer((req, res) => {
      const url = req.url ?? '';
      hits.set(url, (hits.get(url) ?? 0) + 1);
      const m = /\/([a-z]+)-1\.0\.tar\.gz$/.exec(url);
      const name = m?.[1] ?? '';
      const body = name === 'big' ? big : files.get(name);
      if (url.startsWith('/mirror1/') || !body) {
        res.writeHead(404).end('not here');
        return;
      }
      if (name === 'bad') {
        res.end(Buffer.from('this is not the tarball the recipe expects'));
        return;
      }
      if (name === 'drop' && hits.get(url) === 1) {
        // Send half, then drop the connection.
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, body.length >> 1));
        setTimeout(() => req.socket.destroy(), 50);
        return;
      }
      if (name === 'early' && url.startsWith('/mirror2/')) {
        // A few bytes of a long body, then the connection drops at once: every time.
        res.writeHead(200, { 'content-length': 100000 });
        res.write(body.subarray(0, 10));
        req.socket.destroy();
        return;
      }
      if (name === 'stall') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 10)); // ...and never more
        return;
      }
      if (name === 'slow' || name === 'big') {
        // Steady but slow: a chunk every 150 ms, never idle as long as the timeout.
        res.writeHead(200, { 'content-length': body.length });
        const n = 12;
        let i = 0;
        const tick = () => {
          const a = Math.floor((i * body.length) / n);
          const b = Math.floor(((i + 1) * body.length) / n);
          res.write(body.subarray(a, b));
          if (++i < n) setTimeout(tick, 150);
          else res.end();
        };
        tick();
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(work, { recursive: true, force: true });
  });

  const config = (extra = '') => `mirrors:\n  - ${base}/mirror1\n  - ${base}/mirror2\ndownload_timeout: 1\ndownload_retries: 2\n${extra}`;

  it('404 on the first mirror, then the second mirror; verified and renamed into the cache', async () => {
    const rig = new Rig('dl');
    rig.write({ 'build.config.yaml': config(), ...tarPkg('good', sha256(files.get('good')!)) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(rig.read('local/share/good/hello.txt'), 'hello from good\n');
    assert.equal(hits.get('/mirror1/spkg/upstream/good/good-1.0.tar.gz'), 1);
    assert.equal(hits.get('/mirror2/spkg/upstream/good/good-1.0.tar.gz'), 1);
    assert.deepEqual(readdirSync(rig.path('upstream')), ['good-1.0.tar.gz'], 'no temp files are left');
    rig.cleanup();
  });

  it('upstream_url (with VERSION) is tried after the mirrors', async () => {
    const rig = new Rig('dl');
    rig.write({ 'build.config.yaml': 'download_timeout: 5\n', ...tarPkg('viaurl', sha256(files.get('viaurl')!), `${base}/elsewhere/viaurl-VERSION.tar.gz`) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(hits.get('/elsewhere/viaurl-1.0.tar.gz'), 1);
    rig.cleanup();
  });

  it('a corrupted download fails that package with both checksums and leaves nothing behind', async () => {
    const rig = new Rig('dl');
    const want = sha256(files.get('good')!);
    rig.write({ 'build.config.yaml': config(), ...tarPkg('bad', want) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    const got = sha256(Buffer.from('this is not the tarball the recipe expects'));
    assert.match(r.stderr, new RegExp(`checksum mismatch: expected sha256 ${want}, got ${got}`));
    assert.ok(!existsSync(rig.path('upstream/bad-1.0.tar.gz')));
    assert.deepEqual(readdirSync(rig.path('upstream')), [], 'the temp file was deleted');
    rig.cleanup();
  });

  it('a dropped connection is retried', async () => {
    const rig = new Rig('dl');
    rig.write({ 'build.config.yaml': config(), ...tarPkg('drop', sha256(files.get('drop')!)) });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(hits.get('/mirror2/spkg/upstream/drop/drop-1.0.tar.gz'), 2);
    assert.match(rig.read('local/var/log/sagebuild/pkgs/drop-1.0.log'), /retrying in 0\.5 s/);
    rig.cleanup();
  });

  it('a connection that always drops mid-body fails that URL cleanly; the next one is used; no temp file is left', async () => {
    for (let i = 0; i < 5; i++) {
      const rig = new Rig('dl');
      rig.write({ 'build.config.yaml': config(), ...tarPkg('early', sha256(files.get('early')!), `${base}/direct/early-VERSION.tar.gz`) });
      const r = await rig.run('download', 'early');
      assert.equal(r.exitCode, 0, r.all);
      assert.doesNotMatch(r.all, /internal error|ERR_STREAM/);
      assert.deepEqual(readdirSync(rig.path('upstream')), ['early-1.0.tar.gz']);
      rig.cleanup();
    }
  });

  it('a slow but steady download succeeds and shows progress for a large file; a stalled one times out', async () => {
    const rig = new Rig('dl');
    rig.write({ 'build.config.yaml': config(), ...tarPkg('big', sha256(big)), ...tarPkg('stall', sha256(files.get('stall')!)) });
    const r = await rig.run('-k', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.ok(rig.exists('local/share/big/hello.txt'), 'the slow download completed');
    assert.match(r.stdout, /\[big-1\.0\] sagebuild: big-1\.0\.tar\.gz: \d+% \([\d.]+ of [\d.]+ MB\)/);
    assert.match(r.stderr, /stall-1\.0\.tar\.gz.*\n.*mirror1.*HTTP 404[\s\S]*mirror2.*timed out: no data for 1 s/);
    assert.equal(hits.get('/mirror2/spkg/upstream/stall/stall-1.0.tar.gz'), 3, 'one try and two retries');
    rig.cleanup();
  });

  it('`download` fetches without building; --offline then builds without the network', async () => {
    const rig = new Rig('dl');
    rig.write({ 'build.config.yaml': config(), ...tarPkg('cached', sha256(files.get('cached')!)) });
    let r = await rig.run('download', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(rig.exists('upstream/cached-1.0.tar.gz'));
    assert.deepEqual(rig.manifests(), []);
    const before = hits.get('/mirror2/spkg/upstream/cached/cached-1.0.tar.gz');
    r = await rig.run('--offline', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.equal(hits.get('/mirror2/spkg/upstream/cached/cached-1.0.tar.gz'), before, 'no request was made');
    rig.write(tarPkg('good', sha256(files.get('good')!)));
    const seen = [...hits.values()].reduce((a, b) => a + b, 0);
    r = await rig.run('--offline', 'good');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /not in the upstream cache .* --offline forbids downloading/);
    assert.equal([...hits.values()].reduce((a, b) => a + b, 0), seen, '--offline made no request');
    rig.cleanup();
  });
});

describe('unpacking refuses unsafe archives (tar-slip)', () => {
  const cases: [string, { name: string; data?: string; symlink?: string }[], RegExp][] = [
    ['an absolute member', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: '/tmp/sagebuild-tarslip-abs', data: 'pwned' }], /\/tmp\/sagebuild-tarslip-abs \(absolute path\)/],
    ['a .. member', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/../../../../sagebuild-tarslip-dotdot', data: 'pwned' }], /contains \.\./],
    ['a write through a symlink that points outside', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/link', symlink: '/tmp' }, { name: 'evil-1.0/link/sagebuild-tarslip-link', data: 'pwned' }], /evil-1\.0\/link\/sagebuild-tarslip-link \(written through the symlink evil-1\.0\/link/],
    ['a write through a chain of symlinks that ends outside', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/b', symlink: '../../../../../../../../tmp' }, { name: 'evil-1.0/a', symlink: 'b' }, { name: 'evil-1.0/a/sagebuild-tarslip-link', data: 'pwned' }], /evil-1\.0\/a\/sagebuild-tarslip-link \(written through the symlink evil-1\.0\/a, which leads outside/],
    ['a symlink whose target climbs out through another symlink', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/x', symlink: '..' }, { name: 'evil-1.0/l', symlink: 'x/..' }, { name: 'evil-1.0/l/sagebuild-tarslip-link', data: 'pwned' }], /evil-1\.0\/l\/sagebuild-tarslip-link \(written through the symlink evil-1\.0\/l, which leads outside/],
    ['a symlink placed through a symlinked folder', [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/sub/keep', data: '' }, { name: 'evil-1.0/a', symlink: 'sub' }, { name: 'evil-1.0/a/l', symlink: '../../..' }, { name: 'evil-1.0/sub/l/sagebuild-tarslip-link', data: 'pwned' }], /evil-1\.0\/sub\/l\/sagebuild-tarslip-link \(written through the symlink evil-1\.0\/sub\/l, which leads outside/],
  ];
  for (const [what, members, msg] of cases) {
    it(`refuses ${what}; nothing is written`, async () => {
      const rig = new Rig('slip');
      const body = await makeTarball(rig.path('upstream/evil-1.0.tar.gz'), members);
      rig.write(tarPkg('evil', sha256(body)));
      const r = await rig.run('all');
      assert.equal(r.exitCode, 1, r.all);
      assert.match(r.stderr, /refusing to unpack .*evil-1\.0\.tar\.gz: 1 unsafe member/);
      assert.match(r.stderr, msg);
      for (const p of ['/tmp/sagebuild-tarslip-abs', '/tmp/sagebuild-tarslip-link', path.resolve(rig.path('local/var/tmp/sage/build/evil-1.0'), '../../../../sagebuild-tarslip-dotdot')]) assert.ok(!existsSync(p), p);
      assert.ok(!rig.exists('local/var/tmp/sage/build/evil-1.0/src'), 'nothing was extracted');
      rig.cleanup();
    });
  }

  it('an lzma-compressed tar is checked too (not taken for a plain tar)', async () => {
    const rig = new Rig('slip');
    await makeTarball(rig.path('upstream/evil.tar.gz'), [{ name: 'evil-1.0/hello.txt', data: 'x' }, { name: 'evil-1.0/../../../../sagebuild-tarslip-lzma', data: 'pwned' }]);
    // Re-compress the same tar as .lzma.
    await execa('bash', ['-c', 'gzip -dc evil.tar.gz | xz --format=lzma > evil-1.0.tar.lzma && rm evil.tar.gz'], { cwd: rig.path('upstream') });
    const body = readFileSync(rig.path('upstream/evil-1.0.tar.lzma'));
    rig.write({ ...tarPkg('evil', sha256(body)), 'pkgs/evil/checksums.ini': `tarball=evil-VERSION.tar.lzma\nsha256=${sha256(body)}\n` });
    const r = await rig.run('all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stderr, /refusing to unpack .*evil-1\.0\.tar\.lzma: 1 unsafe member.*contains \.\./);
    rig.cleanup();
  });

  it('a missing decompressor fails that package with a clear message, not the run', async () => {
    const rig = new Rig('slip');
    await makeTarball(rig.path('upstream/comp.tar.gz'), [{ name: 'comp-1.0/hello.txt', data: 'hi\n' }]);
    await execa('bash', ['-c', 'gzip -dc comp.tar.gz | bzip2 > comp-1.0.tar.bz2 && rm comp.tar.gz'], { cwd: rig.path('upstream') });
    const body = readFileSync(rig.path('upstream/comp-1.0.tar.bz2'));
    rig.write({ ...tarPkg('comp', sha256(body)), 'pkgs/comp/checksums.ini': `tarball=comp-VERSION.tar.bz2\nsha256=${sha256(body)}\n` });
    // A PATH with everything but bzip2.
    const bin = rig.path('bin');
    mkdirSync(bin);
    for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) if (n !== 'bzip2' && !existsSync(path.join(bin, n))) symlinkSync(path.join(dir, n), path.join(bin, n));
    }
    const missing = await rig.runEnv({ PATH: bin }, 'all');
    assert.equal(missing.exitCode, 1, missing.all);
    assert.match(missing.stderr, /cannot read .*comp-1\.0\.tar\.bz2: bzip2 is not installed/);
    assert.doesNotMatch(missing.all, /internal error/);
    const r = await rig.run('all'); // with bzip2 it builds
    assert.equal(r.exitCode, 0, r.all);
    rig.cleanup();
  });

  it('a symlink inside the tree is fine', async () => {
    const rig = new Rig('slip');
    const body = await makeTarball(rig.path('upstream/okay-1.0.tar.gz'), [{ name: 'okay-1.0/real.txt', data: 'hi\n' }, { name: 'okay-1.0/hello.txt', symlink: 'real.txt' }]);
    rig.write(tarPkg('okay', sha256(body)));
    const r = await rig.run('all');
    assert.equal(r.exitCode, 0, r.all);
    rig.cleanup();
  });
});
