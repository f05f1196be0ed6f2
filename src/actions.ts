// What each command-line action does, given an analysed project. The CLI parses and dispatches;
// these functions run the work and return an exit status.
import { holdLock } from './proc/buildlock.js';
import { packageLockFile } from './state/layout.js';
import { cleanPackage } from './clean.js';
import { HookFailed } from './hooks.js';
import { DownloadError, downloadUrls, ensureTarball } from './spkg/download.js';
import { tarballPath } from './spkg/fetch.js';
import { existsSync } from 'node:fs';
import { buildEnv } from './spkg/env.js';
import { pkgId, pkgPaths } from './spkg/package.js';
import { runLogged } from './proc/run.js';
import { executeBuild, type ExecuteOptions } from './execute.js';
import { Fingerprinter } from './fingerprint.js';
import type { InstalledState } from './state/state.js';
import { readManifest, readManifestOrNull } from './state/manifest.js';
import { closure, makePlan, type BuildRequest } from './plan.js';
import type { Project } from './project.js';
import { PipError } from './python/pip.js';
import { LockWaitCanceled } from './proc/lock.js';
import { configureLines, explainLines, statusLines } from './report/status.js';
import { prepareSystem, type Override } from './systempkgs.js';
import type { EventBus } from './events.js';
import type { Action } from './targets.js';
import { processEnv } from './util/env.js';
import { writeSimpleIndex } from './wheelhouse.js';
import { wheelhouseOf } from './state/layout.js';

export interface RunOptions extends Omit<ExecuteOptions, 'state' | 'assumeRemoved'> {
  /** `list --installed` */
  installed: boolean;
  /** --with-system-<pkg> / --without-system-<pkg> */
  systemOverrides: Map<string, Override>;
}

const out = (lines: string[]) => process.stdout.write(lines.map((l) => l + '\n').join(''));

export async function explain(project: Project, names: string[], o: { signal: AbortSignal; jobs: number; bus: EventBus; systemOverrides: Map<string, Override> }, state: InstalledState): Promise<number> {
  await prepareSystem(project, { decideIfStale: false, signal: o.signal, jobs: o.jobs, cliOverrides: o.systemOverrides, installed: (n) => state.db.get(n).length > 0, info: (message) => o.bus.emit({ type: 'info', message }), warn: (message) => o.bus.emit({ type: 'warning', message }) });
  // Lenient, as status: a package that cannot be built is explained, not an error.
  const plan = makePlan(project, state.db.entries, names.map((name) => ({ name, noDeps: false })), new Fingerprinter(project, state.hashes), false);
  for (const name of names) out(explainLines(plan, name));
  return 0;
}

/** `state`: the command's installed state, opened once (actions re-read what earlier ones changed). */
export async function runActions(project: Project, actions: Action[], o: RunOptions, state: InstalledState): Promise<number> {
  // With several targets (`a-clean a`), plan every build up front: an input that cannot be read
  // is an error before the first target changes anything. (A single build plans before it runs.)
  // The builds then share its file-hash cache: no input is read and hashed twice.
  // Which packages the system provides: decided before a build that changes the prefix (once,
  // then cached); queries and dry runs use what was decided, or plan everything as built.
  const db0 = state.db;
  const builds = actions.some((a) => a.kind === 'build');
  const plans = actions.some((a) => a.kind === 'build' || a.kind === 'status' || a.kind === 'download' || a.kind === 'configure' || (a.kind === 'list' && o.installed));
  // A dry run plans as if earlier -clean targets had run: their packages are not installed then.
  const assumeRemovedLater = new Set(actions.flatMap((a) => (a.kind === 'clean' ? [a.name] : [])));
  const systemOptions = {
    decideIfStale: builds && !o.dryRun,
    force: actions.some((a) => a.kind === 'configure') && !o.dryRun,
    signal: o.signal,
    jobs: o.jobs,
    cliOverrides: o.systemOverrides,
    installed: (n: string) => db0.get(n).length > 0 && !(o.dryRun && assumeRemovedLater.has(n)),
    info: (message: string) => o.bus.emit({ type: 'info', message }),
    warn: (message: string) => o.bus.emit({ type: 'warning', message }),
  };
  const decisions = !plans ? null : await prepareSystem(project, systemOptions);
  if (actions.length > 1 && actions.some((a) => a.kind === 'build')) {
    const fp = new Fingerprinter(project, state.hashes);
    const entries = state.db.entries;
    for (const a of actions) if (a.kind === 'build') makePlan(project, entries, a.requests, fp);
  }
  let status = 0;
  // A dry run plans later targets as if the earlier -clean targets had run.
  const assumeRemoved = new Set<string>();
  for (const a of actions) {
    if (o.signal.aborted) break;
    let r = 0;
    switch (a.kind) {
      case 'list':
        if (o.installed) r = showStatus(project, state);
        else out([...project.recipes.keys()].sort());
        break;
      case 'status':
        r = showStatus(project, state);
        break;
      case 'configure':
        if (o.dryRun) out(['configure: would run the spkg-configure.m4 checks of every package (-n changes nothing)']);
        else out(configureLines(project, decisions ?? new Map()));
        break;
      case 'wheelhouse-index': {
        const wheelhouse = wheelhouseOf(project.config.venv);
        if (o.dryRun) break;
        try {
          out([`sagebuild: wrote the PEP 503 index ${wheelhouse}/simple/ (${writeSimpleIndex(wheelhouse)} project(s))`]);
        } catch (e) {
          process.stderr.write(`sagebuild: wheelhouse-index: ${(e as Error).message}\n`);
          r = 1;
        }
        break;
      }
      case 'clean':
        r = await clean(project, a.name, o, state);
        if (o.dryRun) assumeRemoved.add(a.name);
        break;
      case 'download':
        r = await download(project, a.requests, o);
        break;
      case 'build':
        if (!o.dryRun && actions.indexOf(a) > 0) {
          // An earlier `<pkg>-clean` may have made <pkg> the system's: decide again (from the cache).
          state.db.rescan();
          await prepareSystem(project, { ...systemOptions, force: false, installed: (n) => state.db.get(n).length > 0 });
        }
        r = await executeBuild(project, a.requests, { ...o, assumeRemoved, state });
        break;
    }
    status = Math.max(status, r);
    if (r !== 0 && !o.keepGoing) break;
  }
  return status;
}

function showStatus(project: Project, state: InstalledState): number {
  const { db } = state;
  db.rescan(); // after the command's earlier targets
  const all = [...project.recipes.keys()].map((name) => ({ name, noDeps: false }));
  out(statusLines(makePlan(project, db.entries, all, new Fingerprinter(project, state.hashes), false), db.entries));
  return 0;
}

async function clean(project: Project, name: string, o: RunOptions, state: InstalledState): Promise<number> {
  const { db } = state;
  db.refresh(name);
  if (o.dryRun) {
    const entries = db.get(name);
    if (!entries.length) out([`${name} is not installed; nothing to clean`]);
    for (const e of entries) {
      const legacy = project.recipes.get(name)?.scripts.legacyUninstall;
      if (legacy && readManifestOrNull(e.file) === null) {
        out([`would run ${legacy.path} for ${name}-${e.version} (a stamp without a file list) and remove ${e.file}`]);
        continue;
      }
      const files = readManifest(e.file).files;
      out([`would remove ${name}-${e.version}: ${files.length} file(s) and ${e.file}`, ...files.map((f) => `  ${f}`)]);
    }
    return 0;
  }
  // Not while another sagebuild process builds or cleans this package.
  const lockFile = packageLockFile(project.config.buildDir, name);
  const lock = await holdLock(lockFile, o.signal, (holders) => o.bus.emit({ type: 'lock-wait', id: `${name}-clean`, lockFile, mode: 'exclusive', holders: holders ? `another sagebuild building it: ${holders}` : 'another sagebuild building it' }));
  if (!lock) return 130;
  try {
    db.refresh(name);
    await cleanPackage(name, db, o.bus, project, processEnv(), o.signal);
    return 0;
  } catch (e) {
    if (e instanceof LockWaitCanceled) {
      process.stderr.write(`sagebuild: ${name}-clean: ${e.message}; nothing was removed\n`);
      return 130;
    }
    if (e instanceof HookFailed) {
      process.stderr.write(`sagebuild: ${name}-clean: ${e.message}\n`);
      return e.canceled ? 130 : 1;
    }
    if (!(e instanceof PipError)) throw e;
    process.stderr.write(`sagebuild: ${name}-clean: ${e.message}; nothing was removed\n`);
    return 1;
  } finally {
    await lock.release();
  }
}

/** `download [pkg...|all]`: fetch and verify upstream tarballs (and pip packages' wheels) without building. */
async function download(project: Project, requests: BuildRequest[], o: RunOptions): Promise<number> {
  // Packages the system provides are never built, so never downloaded.
  const names = [...closure(project, requests)].filter((n) => !project.system.has(n)).sort();
  if (o.dryRun) {
    for (const name of names) {
      const r = project.recipes.get(name)!;
      if (r.checksums) {
        const sources = [...downloadUrls(project.config, r), ...(r.kind === 'wheel' ? ["pip's configured package index"] : [])];
        out([`${pkgId(r)}: ${existsSync(tarballPath(project.config, r)) ? 'in the upstream cache (verified when used)' : `would download ${tarballPath(project.config, r)} from ${sources.join(' or ') || '(no source: add mirrors or upstream_url)'}`}`]);
      }
      else if (r.kind === 'pip') out([`${pkgId(r)}: would run pip download -r ${r.dir}/requirements.txt`]);
    }
    return 0;
  }
  let failed = 0;
  let fetched = 0;
  await Promise.all(
    names.map(async (name) => {
      const r = project.recipes.get(name)!;
      const id = pkgId(r);
      try {
        if (r.checksums) {
          const res = await ensureTarball({ config: project.config, bus: o.bus, id, signal: o.signal, offline: o.offline }, r);
          if (res.downloaded) fetched++;
          o.bus.emit({ type: 'info', message: `${id}: ${res.downloaded ? 'downloaded' : 'in the upstream cache'}, checksum verified: ${res.file}` });
        } else if (r.kind === 'pip' && !o.offline) {
          // pip packages: keep their wheels (or sdists), dependencies included, in the upstream folder for --offline builds.
          const p = pkgPaths(project, r);
          const env = buildEnv(project.config, r, p, false, false);
          const res = await runLogged(env.SAGEBUILD_PYTHON!, ['-m', 'pip', 'download', '--disable-pip-version-check', '--dest', project.config.upstream, '-r', `${r.dir}/requirements.txt`], { cwd: project.config.root, env, id, bus: o.bus, signal: o.signal });
          if (res.exitCode !== 0) throw new DownloadError(`pip download failed (exit code ${res.exitCode})`);
          fetched++;
          o.bus.emit({ type: 'info', message: `${id}: pip download into ${project.config.upstream}` });
        }
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        failed++;
        o.bus.emit({ type: 'warning', message: `${id}: ${e.message}` });
      }
    }),
  );
  o.bus.emit({ type: 'info', message: `download: ${fetched} fetched, ${failed} failed, ${names.length} package(s) considered` });
  return failed ? 1 : 0;
}
