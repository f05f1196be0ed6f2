// Upstream tarballs: locate in the cache, verify the checksum, unpack into src/ (stripping a
// single top-level directory, as Sage's sage-uncompress-spkg does).
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Recipe } from '../recipes.js';
import { archiveFormat, checkArchive, extractTar } from './archive.js';
import { capture, failureLine, ranOk } from '../proc/spawn.js';


export async function fileDigest(file: string, algo: 'sha256' | 'sha1'): Promise<string> {
  const h = createHash(algo);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface Verification {
  ok: boolean;
  algo: 'sha256' | 'sha1';
  expected: string;
  actual: string;
}

export async function verifyTarball(file: string, r: Recipe): Promise<Verification> {
  const c = r.checksums!;
  const algo = c.sha256 ? 'sha256' : 'sha1';
  const expected = (c.sha256 ?? c.sha1)!.toLowerCase();
  const actual = await fileDigest(file, algo);
  return { ok: actual === expected, algo, expected, actual };
}

/**
 * Unpacks `tarball` so that its content ends up in `dest` (which must not exist yet). Returns
 * the members whose set-user/group-ID bits were dropped.
 */
export async function unpack(tarball: string, dest: string): Promise<string[]> {
  const tmp = `${dest}.unpack`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await checkArchive(tarball);
  let stripped: string[] = [];
  if (archiveFormat(tarball) === 'zip') {
    const r = await capture('unzip', ['-q', tarball, '-d', tmp]); // unzip restores no set-ID bits unless -K
    if (!ranOk(r)) throw new Error(`unzip failed: ${failureLine(r)}`);
  } else {
    stripped = await extractTar(tarball, tmp);
  }
  const top = readdirSync(tmp);
  if (top.length === 1 && lstatSync(path.join(tmp, top[0]!)).isDirectory()) {
    renameSync(path.join(tmp, top[0]!), dest);
    rmSync(tmp, { recursive: true, force: true });
  } else {
    renameSync(tmp, dest);
  }
  return stripped;
}
