// Runs the actions the targets asked for, in order: each command's module does the work.
import { executeBuild } from '../buildrun.js';
import { Fingerprinter } from '../fingerprint.js';
import type { InstalledState } from '../state/state.js';
import { hopelessRequests, makePlan } from '../plan.js';
import { UserError } from '../diagnostics.js';
import type { Project } from '../project.js';
import { configureLines } from '../report/status.js';
import { prepareSystem } from '../systempkgs.js';
import type { Action } from '../targets.js';
import { wheelhouseOf } from '../state/layout.js';
import { writeJson } from '../report/json.js';
import { err, out, type CommandOptions } from './options.js';
// The commands a build or query never needs are loaded when asked for (as watch.ts is).
import { OUTDATED_STATUS, showStatus } from './status.js';

export async function runActions(project: Project, actions: Action[], o: CommandOptions, state: InstalledState): Promise<number> {
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
    // Read only if configure's cache is checked.
    get hashes() {
      return state.hashes;
    },
  };
  if (systemOptions.decideIfStale) {
    // A requested package that cannot be built whatever configure decides: say so before configure runs.
    const hopeless = hopelessRequests(project, actions.flatMap((a) => (a.kind === 'build' ? a.requests : [])), (n) => db0.get(n).length > 0);
    if (hopeless.length) throw new UserError(hopeless);
  }
  const decisions = !plans ? null : await prepareSystem(project, systemOptions);
  if (actions.length > 1 && actions.some((a) => a.kind === 'build')) {
    const fp = new Fingerprinter(project, () => state.hashes);
    const entries = state.db.entries;
    for (const a of actions) if (a.kind === 'build') makePlan(project, entries, a.requests, fp);
  }
  let status = 0;
  // `status`'s answer (3: not up to date) is no failure: later targets run, and a failure's status wins.
  let outdated = false;
  // A dry run plans later targets as if the earlier -clean targets had run.
  const assumeRemoved = new Set<string>();
  for (const a of actions) {
    if (o.signal.aborted) break;
    let r = 0;
    switch (a.kind) {
      case 'list':
        // A listing, not a question: always 0.
        if (o.installed) showStatus(project, state, o, a.names, 'list');
        else {
          const names = a.names.length ? [...new Set(a.names)].sort() : [...project.recipes.keys()].sort();
          if (o.json) {
            const r = (n: string) => project.recipes.get(n);
            writeJson(o.json, { command: 'list', packages: names.map((n) => ({ name: n, version: r(n)?.version ?? null, type: r(n)?.type ?? null, kind: r(n)?.kind ?? null })) });
          } else out(o, names);
        }
        break;
      case 'status':
        if (showStatus(project, state, o, a.names) === OUTDATED_STATUS) outdated = true;
        break;
      case 'configure':
        if (o.dryRun) out(o, ['configure: would run the spkg-configure.m4 checks of every package (-n changes nothing)']);
        else out(o, configureLines(project, decisions ?? new Map()));
        break;
      case 'wheelhouse-index': {
        const { indexProjects, writeSimpleIndex } = await import('../wheelhouse.js');
        const wheelhouse = wheelhouseOf(project.config.venv);
        if (o.dryRun) {
          const projects = indexProjects(wheelhouse);
          out(o, [`wheelhouse-index: would rewrite the PEP 503 index ${wheelhouse}/simple/ with ${projects.size} project(s) (-n changes nothing)`, ...[...projects].map(([name, wheels]) => `  ${name}: ${wheels.join(' ')}`)]);
          break;
        }
        try {
          out(o, [`sagebuild: wrote the PEP 503 index ${wheelhouse}/simple/ (${writeSimpleIndex(wheelhouse)} project(s))`]);
        } catch (e) {
          err(o, [`sagebuild: wheelhouse-index: ${(e as Error).message}`]);
          r = 1;
        }
        break;
      }
      case 'clean':
        r = await (await import('./clean.js')).clean(project, a.name, o, state);
        if (o.dryRun) assumeRemoved.add(a.name);
        break;
      case 'download':
        r = await (await import('./download.js')).download(project, a.requests, o);
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
  return status !== 0 ? status : outdated ? OUTDATED_STATUS : 0;
}
