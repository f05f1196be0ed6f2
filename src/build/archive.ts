// Archive safety (tar-slip): before anything is extracted, every member is listed and the
// archive is refused if a member is absolute, contains `..`, is a hard link out of the tree, or
// would be written through a symlink that points outside the extraction directory.
import { spawn } from 'node:child_process';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export class UnsafeArchiveError extends Error {}

type Format = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'zip' | 'tar';

export function archiveFormat(file: string): Format {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(6);
  try {
    readSync(fd, b, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.subarray(0, 4).toString('latin1') === 'PK\x03\x04') return 'zip';
  return 'tar';
}

/** The uncompressed tar stream of an archive. */
function tarStream(file: string, format: Format): Readable {
  if (format === 'tar') return createReadStream(file);
  if (format === 'gzip') return createReadStream(file).pipe(createGunzip());
  const tool = { bzip2: ['bzip2', '-dc'], xz: ['xz', '-dc'], zstd: ['zstd', '-dc'] }[format as 'bzip2' | 'xz' | 'zstd'];
  const child = spawn(tool[0]!, [...tool.slice(1), file], { stdio: ['ignore', 'pipe', 'ignore'] });
  return child.stdout;
}

/** Throws UnsafeArchiveError naming every offending member. */
export async function checkArchive(file: string): Promise<void> {
  const format = archiveFormat(file);
  if (format === 'zip') return checkZip(file);
  const bad: string[] = [];
  const links = new Map<string, string>(); // symlinks so far (normalised path -> target), as extraction meets them
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      const p = e.path;
      const norm = path.posix.normalize(p).replace(/\/$/, '');
      const problem = memberProblem(p, norm, links);
      if (problem) bad.push(`${p} (${problem})`);
      const link = e.linkpath ?? '';
      if (e.type === 'SymbolicLink') links.set(norm, link);
      if (e.type === 'Link' && (path.posix.isAbsolute(link) || link.split('/').includes('..'))) bad.push(`${p} (hard link to ${link})`);
      e.resume();
    },
  });
  await pipeline(tarStream(file, format), parser);
  if (bad.length) {
    throw new UnsafeArchiveError(`refusing to unpack ${file}: ${bad.length} unsafe member(s): ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}`);
  }
}

function memberProblem(raw: string, norm: string, links: Map<string, string>): string | null {
  if (raw.startsWith('/')) return 'absolute path';
  if (raw.split('/').includes('..')) return 'contains ..';
  const via = escapingParent(norm, links);
  if (via) return `written through the symlink ${via}, which points outside`;
  return null;
}

/**
 * The symlink through which writing `member` would leave the root, following chains of links
 * (`a -> b`, `b -> ../..`) as the kernel would; null when it stays inside.
 */
function escapingParent(member: string, links: Map<string, string>): string | null {
  let parts = member.split('/');
  let first: string | null = null; // the link the member's own path goes through
  for (let i = 0, hops = 0; i < parts.length - 1; i++) {
    const at = parts.slice(0, i + 1).join('/');
    const target = links.get(at);
    if (target === undefined) continue;
    first ??= at;
    if (++hops > 40 || path.posix.isAbsolute(target)) return first;
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(at), target));
    if (resolved === '..' || resolved.startsWith('../')) return first;
    parts = [...(resolved === '.' ? [] : resolved.split('/')), ...parts.slice(i + 1)];
    i = -1; // resolve the new path from its start
  }
  return null;
}

async function checkZip(file: string): Promise<void> {
  const { execa } = await import('execa');
  const r = await execa('unzip', ['-Z1', file]);
  const bad = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => (p.startsWith('/') ? `${p} (absolute path)` : p.split('/').includes('..') ? `${p} (contains ..)` : null))
    .filter((x): x is string => x !== null);
  if (bad.length) throw new UnsafeArchiveError(`refusing to unpack ${file}: ${bad.length} unsafe member(s): ${bad.slice(0, 5).join(', ')}`);
}
