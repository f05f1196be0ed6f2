// One build run: plan -> schedule -> build each package -> summary. Returns the exit status.
// Building one package is a PackageBuilder (spkg/package.ts's buildPackage unless a test gives
// a fake, as ninja's CommandRunner): the run around it is the same either way.
import { pkgId, pkgPaths, succeeded, type BuildContext, type BuildOutcome } from './spkg/context.js';
import type { EventBus } from './events.js';
import { makePlan, type BuildRequest } from './plan.js';
import type { Project } from './project.js';
import { schedule } from './scheduler.js';
import { Fingerprinter } from './fingerprint.js';
import type { InstalledState } from './state/state.js';
import { Jobserver } from './jobserver.js';
import path from 'node:path';
import { createRequire } from 'node:module';
import { UserError } from './diagnostics.js';
import { writableDirProblem } from './util/fs.js';
import { installedDir, trashDir } from './state/layout.js';
import { expectedDurations, readDurations, recordDurations, type SourceHint } from './state/durations.js';
import { tarballPath } from './recipes.js';
import { statSync } from 'node:fs';
import type { Reason } from './reasons.js';

/** Builds one package of the run and says what came of it (emitting its events on ctx.bus). */
export type PackageBuilder = (ctx: BuildContext, name: string, reasons: Reason[]) => Promise<BuildOutcome>;

export interface BuildRunOptions {
  jobs: number;
  keepGoing: boolean;
  dryRun: boolean;
  check: boolean;
  offline: boolean;
  signal: AbortSignal;
  bus: EventBus;
  /** Dry runs: packages an earlier target of the same command removes. */
  assumeRemoved?: Set<string>;
  /** The command's installed state (records, ownership, file-hash cache). */
  state: InstalledState;
  /** Default: spkg/package.ts's buildPackage. */
  builder?: PackageBuilder;
}

export async function executeBuild(project: Project, requests: BuildRequest[], o: BuildRunOptions): Promise<number> {
  const { db } = o.state;
  db.rescan(); // what the command's earlier targets (or another process) installed or removed
  const fingerprints = new Fingerprinter(project, () => o.state.hashes);
  const entries = o.dryRun && o.assumeRemoved?.size ? new Map([...db.entries].filter(([n]) => !o.assumeRemoved!.has(n))) : db.entries;
  // A dry run plans from the records themselves (its state has no summaries to read or write).
  const plan = makePlan(project, entries, requests, fingerprints, true, o.state.records);
  o.state.saveHashes();
  o.state.saveRecords();
  project.recipeCache?.save();
  o.bus.emit({ type: 'plan', items: plan, dryRun: o.dryRun });
  if (o.dryRun) return 0;
  const toBuild = plan.filter((i) => i.action === 'build');
  if (toBuild.length) {
    // Every package logs, builds and lands in these: a folder that cannot take files (a
    // read-only mount, a full disk, a file in the way) is a setup error, found before anything builds.
    const logs = path.dirname(pkgPaths(project, project.recipes.get(toBuild[0]!.name)!).logFile);
    const setup: [string, string, string][] = [
      [logs, 'cannot create log files in this folder', 'make it writable, or set `logs:` in build.config.yaml to a folder that is'],
      [project.config.buildDir, 'cannot build in this folder', 'make it writable, or set `build_dir:` in build.config.yaml to a folder that is'],
      ...[...new Set(toBuild.map((i) => project.treeOf(project.recipes.get(i.name)!)))].map((t): [string, string, string] => [installedDir(t), 'cannot install into this tree: its folder of installation records cannot take files', 'make the prefix writable (is it mounted read-only, or full?)']),
    ];
    const problems = setup.flatMap(([dir, what, hint]) => {
      const problem = writableDirProblem(dir);
      return problem ? [{ file: dir, message: `${what}: ${problem}`, hint }] : [];
    });
    if (problems.length) throw new UserError(problems);
  }
  const building = new Set(toBuild.map((i) => i.name));
  const reasons = new Map(toBuild.map((i) => [i.name, i.reasons]));
  const tasks = toBuild.map((i) => {
    const d = project.deps.get(i.name)!;
    return { id: i.name, after: [...d.normal, ...d.orderOnly].filter((x) => building.has(x)) };
  });
  const idOf = (name: string) => pkgId(project.recipes.get(name)!);
  const jobserver = project.config.jobserver && tasks.length ? Jobserver.create(project.config.buildDir, o.jobs) : null;
  // Loaded only when something builds: a no-op never loads the build machinery's code.
  const build: PackageBuilder | null = o.builder ?? (tasks.length ? (await import('./spkg/package.js')).buildPackage : null);
  // A worker starts with a first pip install or uninstall; a run that builds nothing does not load them.
  // SAGEBUILD_PIP_WORKER=0: a pip process per install, as before them.
  const pipWorkers = build && !o.builder && process.env.SAGEBUILD_PIP_WORKER !== '0' ? new (await import('./python/pipworker.js')).PipWorkers() : undefined;
  const trash = build && !o.builder ? new (await import('./proc/trash.js')).Trash(trashDir(project.config.buildDir)) : undefined;
  // V8 doubles its young generation while a build's state survives collections, up to 2 x 16 MB.
  // Kept at the size analysis left it: 437 packages' peak RSS 91 MB against 102, the same CPU and
  // wall (paired runs). Not set from the start: a no-op's smaller young generation cost it 4 %.
  // node:v8 is required here, not imported: a no-op never loads it, and import() of a builtin
  // cannot run from the bundle's vm.Script (launch.ts).
  if (build && !o.builder) (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
  const ctx: BuildContext = { project, bus: o.bus, signal: o.signal, db, check: o.check, offline: o.offline, fingerprint: (n: string) => fingerprints.get(n), jobserver, pipWorkers, trash };
  const results = new Map<string, BuildOutcome>();
  const prefix = project.config.prefix;
  // Read only when something builds: a no-op run does not touch the file.
  const recorded = tasks.length ? readDurations(prefix) : new Map<string, number>();
  const weight = tasks.length ? expectedDurations(recorded, toBuild.map((i) => i.name), (name) => sourceHint(project, name)) : undefined;
  // Reporters' eta: the scheduler's weights, when at least one build was ever timed here.
  if (tasks.length) o.bus.emit({ type: 'run-start', jobs: o.jobs, packages: toBuild.map((i) => ({ id: idOf(i.name), name: i.name, expectedMs: recorded.size ? weight!(i.name) : null })) });
  const measured = new Map<string, number>();
  const run = async (name: string) => {
    const started = Date.now();
    const r = await build!(ctx, name, reasons.get(name)!); // a task exists: loaded above
    results.set(name, r);
    if (r === 'built') measured.set(name, Date.now() - started);
    return succeeded(r);
  };
  let outcome;
  try {
    outcome = await schedule(tasks, run, {
      jobs: o.jobs,
      keepGoing: o.keepGoing,
      signal: o.signal,
      onSkip: (name, failed) => o.bus.emit({ type: 'pkg-skipped', id: idOf(name), name, because: `dependency ${idOf(failed)} failed` }),
      tokens: jobserver ?? undefined,
      weight,
    });
  } finally {
    jobserver?.close();
    pipWorkers?.close();
    await trash?.settled();
    try {
      recordDurations(prefix, measured);
    } catch (e) {
      o.bus.emit({ type: 'warning', message: `could not record build times: ${(e as Error).message}` });
    }
  }
  const elsewhere = (name: string) => results.get(name) === 'built-elsewhere';
  // Packages stopped by Ctrl-C/SIGTERM are reported apart from real failures.
  const interrupted = (name: string) => results.get(name) === 'interrupted';
  const by = (k: string) => toBuild.filter((i) => outcome.get(i.name) === k && !elsewhere(i.name)).map((i) => idOf(i.name));
  const failed = toBuild.filter((i) => outcome.get(i.name) === 'failed' && !interrupted(i.name));
  o.bus.emit({
    type: 'summary',
    built: by('ok'),
    upToDate: plan.filter((i) => i.action === 'up-to-date' || elsewhere(i.name)).map((i) => idOf(i.name)),
    failed: failed.map((i) => ({ id: idOf(i.name), logFile: pkgPaths(project, project.recipes.get(i.name)!).logFile })),
    interrupted: toBuild.filter((i) => outcome.get(i.name) === 'failed' && interrupted(i.name)).map((i) => idOf(i.name)),
    skipped: by('skipped'),
    notStarted: by('not-started'),
    stoppedEarly: !o.keepGoing && !o.signal.aborted && failed.length > 0 && by('not-started').length > 0,
  });
  return [...outcome.values()].some((x) => x !== 'ok') ? 1 : 0;
}

/** What the scheduler may guess a package's build time from: its kind and its tarball's size. */
function sourceHint(project: Project, name: string): SourceHint | null {
  const r = project.recipes.get(name);
  if (!r) return null;
  let bytes: number | null = null;
  try {
    bytes = r.checksums ? (statSync(tarballPath(project.config, r), { throwIfNoEntry: false })?.size ?? null) : null;
  } catch {
    // an upstream folder this user cannot search: no size, a guess by kind alone
  }
  return { kind: r.kind, python: r.python, bytes };
}
