// `status` (and `list --installed`): every package's state, from a lenient plan.
import { Fingerprinter } from '../fingerprint.js';
import type { InstalledState } from '../state/state.js';
import { makePlan } from '../plan.js';
import type { Project } from '../project.js';
import { statusLines } from '../report/status.js';
import { out, type CommandOptions } from './options.js';

export function showStatus(project: Project, state: InstalledState, o: Pick<CommandOptions, 'io'>): number {
  const { db } = state;
  db.rescan(); // after the command's earlier targets
  const all = [...project.recipes.keys()].map((name) => ({ name, noDeps: false }));
  out(o, statusLines(makePlan(project, db.entries, all, new Fingerprinter(project, state.hashes), false), db.entries));
  return 0;
}
