// Archive safety (tar-slip): before anything is extracted, every member is listed and the
// archive is refused if a member is absolute, contains `..`, is a hard link out of the tree, is a
// device node or FIFO, or would be written through a symlink (or a chain of them) leading outside
// the extraction directory. Then the same parser (node-tar) extracts it, with its own path checks:
// what was checked is exactly what is extracted (GNU tar reads some headers differently).
import { createReadStream, openSync, readSync, closeSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ReadEntry } from 'tar';
import { capture, failureLine, ranOk, readFrom } from '../proc/spawn.js';
import { keptMode } from '../util/linkpolicy.js';

export class UnsafeArchiveError extends Error {}

/** node-tar, loaded on first use: a run that unpacks nothing does not pay for it. */
const loadTar = () => import('tar');

type Format = 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'lzip' | 'compress' | 'zstd' | 'zip' | 'tar';

export function archiveFormat(file: string): Format {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(6);
  try {
    readSync(fd, b, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b[0] === 0x1f && b[1] === 0x9d) return 'compress';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.subarray(0, 4).toString('latin1') === 'LZIP') return 'lzip';
  if (b[0] === 0x5d && b[1] === 0x00 && b[2] === 0x00) return 'lzma';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.subarray(0, 4).toString('latin1') === 'PK\x03\x04') return 'zip';
  return 'tar';
}

const DECOMPRESSORS: Record<string, string[]> = { bzip2: ['bzip2', '-dc'], xz: ['xz', '-dc'], lzma: ['xz', '-dc'], lzip: ['lzip', '-dc'], compress: ['gzip', '-dc'], zstd: ['zstd', '-dc'] };

/** The uncompressed tar stream of an archive, and the decompressor's outcome. */
function tarStream(file: string, format: Format): { stream: Readable; done: Promise<void> } {
  if (format === 'tar') return { stream: createReadStream(file), done: Promise.resolve() };
  if (format === 'gzip') return { stream: createReadStream(file).pipe(createGunzip()), done: Promise.resolve() };
  const tool = DECOMPRESSORS[format]!;
  const child = readFrom(tool[0]!, [...tool.slice(1), file]);
  // A missing or failing decompressor fails the check (and so the package), never the run.
  const done = child.done.then(({ code, signal, error }) => {
    if (error) throw new UnsafeArchiveError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `${tool[0]} is not installed (it is needed for ${format} archives)` : error.message}`);
    if (code !== 0) throw new UnsafeArchiveError(`cannot read ${file}: ${tool[0]} ${signal ? `was killed by ${signal}` : `exited with ${code}`}`);
  });
  done.catch(() => undefined); // awaited by the caller; this only keeps an early failure from being "unhandled"
  return { stream: child.stream, done };
}

/** Throws UnsafeArchiveError naming every offending member. */
export async function checkArchive(file: string): Promise<void> {
  const format = archiveFormat(file);
  if (format === 'zip') return checkZip(file);
  const bad: string[] = [];
  let members = 0;
  const links = new Map<string, string>(); // symlinks so far (resolved location -> target), as extraction meets them
  const { Parser } = await loadTar();
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      members++;
      const p = e.path;
      const norm = path.posix.normalize(p).replace(/\/$/, '');
      const parent = resolveInArchive(path.posix.dirname(norm), links);
      if (p.startsWith('/')) bad.push(`${p} (absolute path)`);
      else if (p.split('/').includes('..')) bad.push(`${p} (contains ..)`);
      else if (!parent.inside) bad.push(`${p} (written through the symlink ${parent.via}, which leads outside)`);
      else if (e.type === 'CharacterDevice' || e.type === 'BlockDevice' || e.type === 'FIFO') bad.push(`${p} (${e.type === 'FIFO' ? 'a FIFO' : 'a device node'})`);
      const link = e.linkpath ?? '';
      if (e.type === 'SymbolicLink' && parent.inside) links.set([...parent.parts, path.posix.basename(norm)].join('/'), link);
      if (e.type === 'Link' && (path.posix.isAbsolute(link) || link.split('/').includes('..') || !resolveInArchive(link, links, false).inside)) bad.push(`${p} (hard link to ${link})`);
      e.resume();
    },
  });
  const { stream, done } = tarStream(file, format);
  try {
    await pipeline(stream, parser);
  } catch (e) {
    await done; // the decompressor's own failure explains it best
    throw new UnsafeArchiveError(`cannot read ${file}: ${(e as Error).message}`);
  }
  await done;
  if (!members) throw new UnsafeArchiveError(`cannot read ${file}: no archive members found (not a tar archive, or a compression sagebuild does not know)`);
  if (bad.length) {
    throw new UnsafeArchiveError(`refusing to unpack ${file}: ${bad.length} unsafe member(s): ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}`);
  }
}

/**
 * Resolves an archive path through the archive's symlinks met so far, component by component as
 * the kernel does (a link's target is read from the link's folder; `..` after a link applies to
 * where it led). `inside` false: it leaves the root, `via` naming the first symlink on the way.
 */
function resolveInArchive(p: string, links: Map<string, string>, followLast = true): { inside: boolean; parts: string[]; via: string } {
  const todo = p.split('/').filter((c) => c && c !== '.');
  const parts: string[] = [];
  let via = '';
  for (let hops = 0; todo.length; ) {
    const c = todo.shift()!;
    if (c === '..') {
      if (!parts.length) return { inside: false, parts, via };
      parts.pop();
      continue;
    }
    const at = [...parts, c].join('/');
    const target = links.get(at);
    if (target !== undefined && (todo.length > 0 || followLast)) {
      via ||= at;
      if (++hops > 40 || path.posix.isAbsolute(target)) return { inside: false, parts, via };
      todo.unshift(...target.split('/').filter((x) => x && x !== '.'));
      continue;
    }
    parts.push(c);
  }
  return { inside: true, parts, via };
}

async function checkZip(file: string): Promise<void> {
  const r = await capture('unzip', ['-Z1', file]);
  if (!ranOk(r)) throw new UnsafeArchiveError(`cannot list ${file}: unzip -Z1: ${failureLine(r)}`);
  const bad = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => (p.startsWith('/') ? `${p} (absolute path)` : p.split('/').includes('..') ? `${p} (contains ..)` : null))
    .filter((x): x is string => x !== null);
  if (bad.length) throw new UnsafeArchiveError(`refusing to unpack ${file}: ${bad.length} unsafe member(s): ${bad.slice(0, 5).join(', ')}`);
}

/**
 * Extracts a tar archive (checked by checkArchive) into `dest`, owned by whoever runs sagebuild.
 * Set-user-ID and set-group-ID bits are dropped (in-tree sources follow the same rule,
 * util/linkpolicy.ts): the members that had them are returned, so the build log can say so.
 */
export async function extractTar(file: string, dest: string): Promise<string[]> {
  const format = archiveFormat(file);
  const stripped: string[] = [];
  const problems: string[] = [];
  // node-tar makes absolute link targets relative (so that nothing is written through them);
  // GNU tar keeps them, and so do we, once nothing more is extracted (as GNU tar's delayed links).
  const absoluteLinks: [string, string][] = [];
  const { Unpack } = await loadTar();
  const unpack = new Unpack({
    cwd: dest,
    preserveOwner: false,
    filter: (p: string, e: unknown) => {
      const entry = e as ReadEntry;
      if (typeof entry.mode === 'number' && entry.mode !== keptMode(entry.mode)) {
        stripped.push(p);
        entry.mode = keptMode(entry.mode);
      }
      if (entry.type === 'SymbolicLink' && entry.linkpath?.startsWith('/')) absoluteLinks.push([p, entry.linkpath]);
      return true;
    },
    onwarn: (code: string, message: string | Error) => {
      if (code !== 'TAR_ENTRY_INFO') problems.push(message instanceof Error ? message.message : message);
    },
  });
  const { stream, done } = tarStream(file, format);
  try {
    await pipeline(stream, unpack);
  } catch (e) {
    await done;
    throw new UnsafeArchiveError(`cannot extract ${file}: ${(e as Error).message}`);
  }
  await done;
  if (problems.length) throw new UnsafeArchiveError(`cannot extract ${file}: ${problems.slice(0, 3).join('; ')}`);
  for (const [p, target] of absoluteLinks) {
    const at = path.join(dest, p);
    rmSync(at, { force: true });
    symlinkSync(target, at);
  }
  return stripped;
}
