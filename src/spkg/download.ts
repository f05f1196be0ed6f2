// Upstream downloads, as Sage's sage-download-file does them but stricter: mirrors first (laid out
// as Sage's: <mirror>/spkg/upstream/<pkg>/<tarball>), then upstream_url; into a temp file that is
// renamed into the upstream cache only after its checksum matched; retries with backoff on
// network errors and timeouts; a small separate limit on parallel downloads.
import { createWriteStream, existsSync, mkdirSync, realpathSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import { substituteVersion, tarballName, tarballPath, type Recipe } from '../recipes.js';
import { fileDigest, verifyTarball } from './unpack.js';
import { pythonInfo } from '../python/interpreter.js';
import { processEnv } from '../util/env.js';
import { capture, ranOk } from '../proc/spawn.js';

export class DownloadError extends Error {}

export interface DownloadContext {
  config: Config;
  bus: EventBus;
  id: string;
  signal: AbortSignal;
  offline: boolean;
}

let limiter: LimitFunction | null = null;

/** The package whose folder really holds checksums.ini (gfortran's is gcc's, through a symlink). */
function tarballPackage(r: Recipe): string {
  try {
    return path.basename(path.dirname(realpathSync(r.checksums!.file)));
  } catch {
    return r.name;
  }
}

export function downloadUrls(config: Config, r: Recipe): string[] {
  const name = tarballName(r);
  const urls = config.mirrors.map((m) => `${m.replace(/\/+$/, '')}/spkg/upstream/${tarballPackage(r)}/${name}`);
  if (r.checksums?.upstreamUrl) urls.push(substituteVersion(r.checksums.upstreamUrl, r.upstreamVersion));
  return urls;
}

/**
 * Returns the verified tarball in the upstream cache, downloading it if needed. A cached file
 * with a wrong checksum is ignored (not deleted) and replaced by a good download.
 */
export async function ensureTarball(ctx: DownloadContext, r: Recipe): Promise<{ file: string; downloaded: boolean }> {
  const file = tarballPath(ctx.config, r);
  let mismatch: string | null = null;
  if (existsSync(file)) {
    const v = await verifyTarball(file, r);
    if (v.ok) return { file, downloaded: false };
    mismatch = `checksum mismatch for ${file}: expected ${v.algo} ${v.expected}, got ${v.actual} (checksums.ini: ${r.checksums!.file}); the file is damaged or not the release the recipe expects`;
    ctx.bus.emit({ type: 'output', id: ctx.id, line: `sagebuild: ${mismatch}` });
  }
  const urls = downloadUrls(ctx.config, r);
  const wheel = file.endsWith('.whl');
  if (mismatch && (ctx.offline || (!urls.length && !wheel))) throw new DownloadError(`${mismatch}; no download source to replace it${ctx.offline ? ' (--offline)' : ''}`);
  if (ctx.offline) {
    throw new DownloadError(`${file} is not in the upstream cache and --offline forbids downloading; run 'sagebuild download ${r.name}' where the network is reachable, or copy the file there`);
  }
  if (!urls.length && !wheel) {
    throw new DownloadError(`${file} is not in the upstream cache, no mirrors are configured ('mirrors:' in build.config.yaml) and ${r.checksums!.file} has no upstream_url=`);
  }
  limiter ??= pLimit(ctx.config.downloadJobs);
  await limiter(async () => {
    let failure: DownloadError | null = null;
    if (urls.length) {
      try {
        return await downloadFirst(ctx, r, urls, file);
      } catch (e) {
        if (!(e instanceof DownloadError) || !wheel || ctx.signal.aborted) throw e;
        failure = e;
      }
    }
    // A wheel is also a file pip's configured package index may serve (a PyPI mirror, a local
    // wheel cache): the same file, so the same checksum.
    try {
      await wheelFromPipIndex(ctx, r, file);
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e;
      throw new DownloadError(`${failure ? `${failure.message}\n  ` : `${file} is not in the upstream cache and no mirrors or upstream_url are configured; `}${e.message}`);
    }
  });
  return { file, downloaded: true };
}

/** `pip download` of exactly this wheel file from pip's configured index, verified like any download. */
async function wheelFromPipIndex(ctx: DownloadContext, r: Recipe, file: string): Promise<void> {
  const name = path.basename(file);
  const [dist = '', version = ''] = name.split('-');
  const dest = path.join(path.dirname(file), `.pip-download-${process.pid}-${dist}`);
  mkdirSync(dest, { recursive: true });
  ctx.bus.emit({ type: 'step', id: ctx.id, step: 'fetch', detail: `pip download ${dist}==${version} (pip's configured package index)` });
  try {
    let python: string;
    try {
      python = pythonInfo(ctx.config.python).executable;
    } catch (e) {
      throw new DownloadError(`pip's package index: ${(e as Error).message}`);
    }
    const pip = await capture(python, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', '--dest', dest, `${dist}==${version}`], { env: processEnv(), signal: ctx.signal });
    const res = { code: ranOk(pip) ? 0 : 1, out: `${pip.stdout}${pip.stderr}${pip.error ? pip.error.message : ''}` };
    const got = path.join(dest, name);
    if (ctx.signal.aborted) throw new DownloadError('download interrupted');
    if (!existsSync(got)) {
      throw new DownloadError(`pip's configured package index: ${res.code ? `pip download ${dist}==${version} failed: ${res.out.trim().split('\n').pop()}` : `it serves ${dist} ${version}, but not the file ${name}`}`);
    }
    const v = await verifyTarball(got, r);
    if (!v.ok) throw new DownloadError(`pip's configured package index served ${name} with ${v.algo} ${v.actual}, expected ${v.expected}`);
    renameSync(got, file);
    ctx.bus.emit({ type: 'output', id: ctx.id, line: `sagebuild: downloaded ${name} from pip's configured package index (${v.algo} verified)` });
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

async function downloadFirst(ctx: DownloadContext, r: Recipe, urls: string[], file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.part-${process.pid}`);
  const errors: string[] = [];
  const c = r.checksums!;
  const algo = c.sha256 ? 'sha256' : 'sha1';
  const expected = (c.sha256 ?? c.sha1)!.toLowerCase();
  try {
    for (const url of urls) {
      for (let attempt = 0; ; attempt++) {
        if (ctx.signal.aborted) throw new DownloadError('download interrupted');
        ctx.bus.emit({ type: 'step', id: ctx.id, step: 'fetch', detail: `${url}${attempt ? ` (attempt ${attempt + 1})` : ''}` });
        try {
          await fetchTo(ctx, url, tmp);
        } catch (e) {
          rmSync(tmp, { force: true });
          const msg = (e as Error).message;
          const permanent = e instanceof HttpError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
          if (ctx.signal.aborted) throw new DownloadError('download interrupted');
          if (permanent || attempt >= ctx.config.downloadRetries) {
            errors.push(`${url}: ${msg}`);
            break;
          }
          const wait = 500 * 2 ** attempt;
          ctx.bus.emit({ type: 'output', id: ctx.id, line: `sagebuild: ${url}: ${msg}; retrying in ${wait / 1000} s` });
          await sleep(wait);
          continue;
        }
        const actual = await fileDigest(tmp, algo);
        if (actual !== expected) {
          rmSync(tmp, { force: true });
          errors.push(`${url}: checksum mismatch: expected ${algo} ${expected}, got ${actual}`);
          break;
        }
        renameSync(tmp, file);
        ctx.bus.emit({ type: 'output', id: ctx.id, line: `sagebuild: downloaded ${path.basename(file)} from ${url} (${algo} verified)` });
        return;
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new DownloadError(`could not download ${path.basename(file)} (checksums.ini: ${c.file}):\n  ${errors.join('\n  ')}`);
}

class HttpError extends Error {
  constructor(readonly status: number, statusText: string) {
    super(`HTTP ${status} ${statusText}`);
  }
}

/** Streams url into file. Times out when no data arrives for config.downloadTimeout seconds. */
async function fetchTo(ctx: DownloadContext, url: string, file: string): Promise<void> {
  if (url.startsWith('file://')) {
    copyFileSync(new URL(url), file);
    return;
  }
  const timeoutMs = ctx.config.downloadTimeout * 1000;
  const ac = new AbortController();
  let timedOut = false;
  let timer = setTimeout(() => ((timedOut = true), ac.abort()), timeoutMs);
  const bump = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ((timedOut = true), ac.abort()), timeoutMs);
  };
  const onAbort = () => ac.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const out = createWriteStream(file);
  // Errors of the file stream (also after a destroy) are reported through the write or the close.
  out.on('error', () => undefined);
  try {
    const res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new HttpError(res.status, res.statusText);
    const total = Number(res.headers.get('content-length') ?? 0);
    let received = 0;
    let lastReport = Date.now();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      bump();
      received += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      // A progress line for large files, at most once a second.
      if (total > 1 << 20 && Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        ctx.bus.emit({ type: 'output', id: ctx.id, line: `sagebuild: ${path.basename(url)}: ${Math.floor((100 * received) / total)}% (${mb(received)} of ${mb(total)} MB)` });
      }
    }
    if (total && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
    out.end();
    await once(out, 'close');
  } catch (e) {
    // Let the file be closed (an open may still be pending) before the caller removes it.
    if (!out.closed) {
      const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
      out.destroy();
      await closed;
    }
    if (timedOut) throw new Error(`timed out: no data for ${ctx.config.downloadTimeout} s`);
    if (e instanceof HttpError) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (e as Error).message);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

const mb = (n: number) => (n / (1 << 20)).toFixed(1);
