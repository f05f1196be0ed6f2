// `sagebuild watch [targets]`: build once, then watch the recipe folders (in-tree src/ included)
// and file prerequisites of the targets' packages; on a change, wait for edits to settle,
// re-analyse, and rebuild what the fingerprints say changed, with reasons. A failed build or a
// broken recipe does not stop the watcher; Ctrl-C does, cleanly.
//
//   idle --change--> debouncing --quiet for DEBOUNCE_MS--> running --done--> idle
//                                                           |  ^
//                                               change ---> queued (runs again when done)
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import { runActions } from './commands/dispatch.js';
import type { CommandOptions } from './commands/options.js';
import type { Config } from './config.js';
import { UserError, formatDiagnostic } from './diagnostics.js';
import { writeLines } from './util/io.js';
import { closure } from './plan.js';
import { analyze, type Project } from './project.js';
import { parseTargets } from './targets.js';
import { InstalledState } from './state/state.js';
import { openState } from './spkg/openstate.js';

const DEBOUNCE_MS = 300;

type State = 'idle' | 'debouncing' | 'running' | 'queued';

/** `reload` reads build.config.yaml again (with the command line's overrides): it is watched too. */
export async function watchLoop(reload: () => Config, first: Project, targets: string[], opts: CommandOptions): Promise<number> {
  let project = first;
  let config = first.config;
  let o = opts;
  let state: State = 'idle';
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();
  const say = (m: string) => o.bus.emit({ type: 'info', message: m });

  const watched = (p: Project): string[] => {
    const actions = parseTargets(targets, new Set(p.recipes.keys()), () => p.allTargets(), new Set(new InstalledState(p.config, true).db.entries.keys()));
    const requests = actions.flatMap((a) => (a.kind === 'build' ? a.requests : []));
    const dirs = new Set<string>([config.pkgs]); // new recipe folders appear here
    for (const name of closure(p, requests)) {
      const r = p.recipes.get(name)!;
      if (!r.builtin) dirs.add(r.dir);
      for (const f of p.deps.get(name)!.files) dirs.add(f);
    }
    if (config.configFile) dirs.add(config.configFile);
    return [...dirs];
  };

  const WATCHING = 'watching for changes (Ctrl-C to stop)';
  /** Builds; returns what to say once idle. */
  const build = async (): Promise<string> => {
    // Each build is a command of its own: it opens the installed state once.
    const state = await openState(project.config, o.bus, o.dryRun);
    const actions = parseTargets(targets, new Set(project.recipes.keys()), () => project.allTargets(), new Set(state.db.entries.keys()));
    const status = await runActions(project, actions, o, state);
    return status === 0 ? WATCHING : `the build failed; fix it and save: ${WATCHING}`;
  };

  // Watch first, build second: a file saved during the first build is not missed, and
  // "watching for changes" is only said once the watcher really is.
  const watcher: FSWatcher = watch(watched(project), {
    ignoreInitial: true,
    // Only the pkgs/ root itself is watched shallowly; recipe folders fully.
    depth: 50,
    ignored: (p: string) => /(^|\/)(\.git|__pycache__)(\/|$)/.test(p),
    // Report a file once its size has settled: one save, one change (editors write in steps).
    awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
  });

  const run = async (): Promise<void> => {
    state = 'running';
    const files = [...changed].map((f) => path.relative(config.root, f)).sort();
    changed.clear();
    say(`change detected: ${files.slice(0, 5).join(', ')}${files.length > 5 ? `, ... (${files.length} files)` : ''}`);
    let idle: string;
    try {
      config = reload();
      o = { ...o, jobs: config.jobs, check: config.check };
      project = await analyze(config);
      for (const w of project.warnings) o.bus.emit({ type: 'warning', message: w });
      watcher.add(watched(project));
      idle = await build();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      writeLines(o.io.stderr, e.diagnostics.map((d) => `sagebuild: ${formatDiagnostic(d)}`));
      idle = `the recipe tree has errors; fix them and save: ${WATCHING}`;
    }
    if (!o.signal.aborted) settle(idle);
  };

  /** After a build: run again if changes arrived meanwhile, else say so and wait. */
  const settle = (idle: string) => {
    const again = (state as State) === 'queued';
    state = 'idle';
    if (again) schedule();
    else say(idle);
  };

  let inflight: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (state === 'running' || state === 'queued') {
      if (state === 'running') say('change detected during the build: it is built when this build ends');
      state = 'queued';
      return;
    }
    state = 'debouncing';
    clearTimeout(timer);
    timer = setTimeout(() => {
      inflight = run().catch(fail);
    }, DEBOUNCE_MS);
  };

  let fail: (e: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher.on('all', (_event, file) => {
    changed.add(file);
    schedule();
  });
  watcher.on('error', (e) => o.bus.emit({ type: 'warning', message: `watcher: ${(e as Error).message}` }));
  await new Promise<void>((r) => watcher.once('ready', () => r()));
  state = 'running';
  inflight = build().then((idle) => {
    if (!o.signal.aborted) settle(idle);
  }, fail);
  let interrupted = false;
  try {
    await done;
    interrupted = (state as State) === 'running' || (state as State) === 'queued';
    // Let an interrupted build stop its processes and finish its bookkeeping.
    await inflight;
  } finally {
    clearTimeout(timer);
    await watcher.close();
  }
  return interrupted ? 130 : 0;
}
