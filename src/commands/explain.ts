// `--explain <pkg...>`: why each package would be rebuilt, down the chain of dependencies.
import { Fingerprinter } from '../fingerprint.js';
import type { InstalledState } from '../state/state.js';
import { makePlan } from '../plan.js';
import type { Project } from '../project.js';
import { explainLines } from '../report/status.js';
import { prepareSystem, type Override } from '../systempkgs.js';
import type { EventBus } from '../events.js';
import { out } from './options.js';
import type { Io } from '../util/io.js';

export async function explain(project: Project, names: string[], o: { signal: AbortSignal; jobs: number; bus: EventBus; systemOverrides: Map<string, Override>; io: Io }, state: InstalledState): Promise<number> {
  await prepareSystem(project, { decideIfStale: false, signal: o.signal, jobs: o.jobs, cliOverrides: o.systemOverrides, installed: (n) => state.db.get(n).length > 0, info: (message) => o.bus.emit({ type: 'info', message }), warn: (message) => o.bus.emit({ type: 'warning', message }), hashes: state.hashes });
  // Lenient, as status: a package that cannot be built is explained, not an error.
  const plan = makePlan(project, state.db.entries, names.map((name) => ({ name, noDeps: false })), new Fingerprinter(project, () => state.hashes), false);
  for (const name of names) out(o, explainLines(plan, name));
  return 0;
}

/** `state`: the command's installed state, opened once (actions re-read what earlier ones changed). */
