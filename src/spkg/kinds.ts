// How each package kind builds: where its sources come from, its part of the recipe
// environment, what `download` fetches for it. What analysis knows of a kind (Python or not,
// dummy, its default install body, where its record lives) is ../kinds.ts's; a new kind is one
// entry there and one here.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { inPhase, type EventBus } from '../events.js';
import type { PkgKind } from '../kinds.js';
import { tarballName, type Recipe } from '../recipes.js';
import type { InstalledDb } from '../state/installed.js';
import { pythonDistsOf, readManifestOrNull } from '../state/manifest.js';
import { pythonInfo } from '../python/interpreter.js';
import { runLogged } from '../proc/spawn.js';
import { UnsafeArchiveError } from './archive.js';
import { type BuildContext, StepFailure, pkgId } from './context.js';
import { copyTree } from './copy.js';
import { DownloadError, ensureTarball } from './download.js';
import type { PkgPaths } from './env.js';
import { unpack } from './unpack.js';

/** What fetching a package without a tarball (`sagebuild download`) is given. */
export interface FetchContext {
  config: Config;
  bus: EventBus;
  id: string;
  signal: AbortSignal;
  offline: boolean;
  /** The package's recipe environment (made only when used: it asks for the interpreter). */
  env(): Record<string, string>;
}

export interface KindBuild {
  /** Puts the package's sources into its build directory: `src/` (or `dist/`, a wheel). */
  sources(ctx: BuildContext, r: Recipe, p: PkgPaths): Promise<void>;
  /** Its part of a recipe's environment, over Sage's variables: network access, the base interpreter. */
  env(env: Record<string, string>, config: Config, offline: boolean): void;
  /** Variables a build takes from the package's installed version. */
  fromInstalled?(db: InstalledDb, r: Recipe): Record<string, string>;
  /**
   * `download` for a recipe without a tarball (a recipe with one gets that, whatever its kind, as
   * Sage's `sage --package download`): the dry run's line, and the fetch (false: nothing fetched).
   */
  download?: { plan(r: Recipe): string; fetch(r: Recipe, f: FetchContext): Promise<boolean> };
}

/** The verified upstream tarball, downloaded if need be. */
async function tarball(ctx: BuildContext, r: Recipe): Promise<string> {
  try {
    // Fetched or found in the upstream cache, and verified either way.
    return await inPhase(ctx.bus, pkgId(r), 'download', tarballName(r), async () => (await ensureTarball({ config: ctx.project.config, bus: ctx.bus, id: pkgId(r), signal: ctx.signal, offline: ctx.offline }, r)).file);
  } catch (e) {
    if (e instanceof DownloadError) throw new StepFailure(e.message, ctx.signal.aborted);
    throw e;
  }
}

async function unpackedTarball(ctx: BuildContext, r: Recipe, p: PkgPaths): Promise<void> {
  const file = await tarball(ctx, r);
  ctx.bus.emit({ type: 'step', id: pkgId(r), step: 'unpack', detail: file });
  try {
    const stripped = await inPhase(ctx.bus, pkgId(r), 'unpack', path.basename(file), () => unpack(file, path.join(p.buildRoot, 'src')));
    if (stripped.length) ctx.bus.emit({ type: 'output', id: pkgId(r), line: `sagebuild: dropped set-user/group-ID bits of ${stripped.length} member(s) of ${path.basename(file)}: ${stripped.slice(0, 5).join(', ')}${stripped.length > 5 ? ', ...' : ''}` });
  } catch (e) {
    if (e instanceof UnsafeArchiveError) throw new StepFailure(e.message);
    throw new StepFailure(`cannot unpack ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Sage copies a wheel to dist/ instead of unpacking it. */
async function wheelFile(ctx: BuildContext, r: Recipe, p: PkgPaths): Promise<void> {
  const file = await tarball(ctx, r);
  mkdirSync(path.join(p.buildRoot, 'dist'), { recursive: true });
  copyFileSync(file, path.join(p.buildRoot, 'dist', path.basename(file)));
}

/** The recipe's in-tree src/, if any. Sage links it to sources elsewhere (sagelib/src -> ../../../src): what it points to is copied. */
async function recipeSrc(ctx: BuildContext, r: Recipe, p: PkgPaths): Promise<void> {
  if (!r.src) return;
  try {
    await copyTree(r.src, path.join(p.buildRoot, 'src'), ctx.signal);
  } catch (e) {
    if (ctx.signal.aborted) throw new StepFailure('interrupted while copying src/', true);
    throw new StepFailure(`cannot copy the in-tree sources ${r.src}: ${(e as Error).message}`);
  }
}

/** A black-hole proxy (TEST-NET address) so builds cannot reach the network, as in Sage. */
const NO_NETWORK_PROXY = 'http://192.0.2.0:5187/';

/** No network, as in Sage's builds (pip only from wheels at hand). */
function sealed(env: Record<string, string>): void {
  for (const k of ['http_proxy', 'https_proxy', 'ftp_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY']) env[k] = NO_NETWORK_PROXY;
  env.PIP_NO_INDEX = '1';
  delete env.no_proxy;
  delete env.NO_PROXY;
}

/** The base interpreter, resolved now: on PATH, `python3` is the venv's own. */
function baseInterpreter(env: Record<string, string>, config: Config): void {
  env.SAGEBUILD_PYTHON = pythonInfo(config.python).executable;
}

const sealedEnv: KindBuild['env'] = (env) => sealed(env);

const pip: KindBuild = {
  sources: recipeSrc,
  // pip packages are the ones whose builds reach pip's package index.
  env(env, config, offline) {
    baseInterpreter(env, config);
    if (offline) {
      // --offline: pip packages come from wheels already in the upstream folder (`sagebuild download`).
      env.PIP_NO_INDEX = '1';
      env.PIP_FIND_LINKS = config.upstream;
    }
  },
  // What the installed version put into the venv is this package's to take over again.
  fromInstalled(db, r) {
    const own = db.get(r.name).flatMap((e) => {
      const m = readManifestOrNull(e.file);
      return m ? pythonDistsOf(m).map((d) => d.name) : [];
    });
    return { SAGEBUILD_OWN_DISTS: own.join(' ') };
  },
  download: {
    plan: (r) => `would run pip download -r ${r.dir}/requirements.txt`,
    // Their wheels (or sdists), dependencies included, into the upstream folder for --offline builds.
    async fetch(r, f) {
      if (f.offline) return false;
      const env = f.env();
      const res = await runLogged(env.SAGEBUILD_PYTHON!, ['-m', 'pip', 'download', '--disable-pip-version-check', '--dest', f.config.upstream, '-r', `${r.dir}/requirements.txt`], { cwd: f.config.root, env, id: f.id, bus: f.bus, signal: f.signal });
      if (res.exitCode !== 0) throw new DownloadError(`pip download failed (exit code ${res.exitCode})`);
      f.bus.emit({ type: 'info', message: `${f.id}: pip download into ${f.config.upstream}` });
      return true;
    },
  },
};

export const KIND_BUILDS: Record<PkgKind, KindBuild> = {
  normal: { sources: unpackedTarball, env: sealedEnv },
  wheel: { sources: wheelFile, env: sealedEnv },
  pip,
  script: { sources: recipeSrc, env: sealedEnv },
  // Never built: building a dummy removes its old install (package.ts).
  none: { sources: recipeSrc, env: sealedEnv },
  venv: {
    sources: recipeSrc,
    env(env, config) {
      baseInterpreter(env, config);
      sealed(env);
    },
  },
};

export function kindBuild(r: Recipe): KindBuild {
  return KIND_BUILDS[r.kind];
}
