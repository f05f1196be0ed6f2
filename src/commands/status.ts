// `status [pkg...]` (and `list --installed [pkg...]`): each package's state, from a lenient plan.
// A query: it never builds. `status` answers 3 when something it was asked about is not up to date.
import { Fingerprinter } from '../fingerprint.js';
import type { InstalledState } from '../state/state.js';
import { readManifestOrNull } from '../state/manifest.js';
import { closure, makePlan } from '../plan.js';
import type { Project } from '../project.js';
import { statusJson, statusLines, type StatusFacts } from '../report/status.js';
import { writeJson } from '../report/json.js';
import { out, type CommandOptions } from './options.js';

/** `status`'s exit status when something asked about is outdated or not installed. */
export const OUTDATED_STATUS = 3;

/**
 * Prints the rows of `names` (none: every package). Returns 0, or OUTDATED_STATUS when one of
 * `names` is not up to date, or (without names) anything installed is outdated or anything the
 * default target (`all`) needs is not installed: an optional package nobody asked for does not count.
 */
export function showStatus(project: Project, state: InstalledState, o: Pick<CommandOptions, 'io' | 'json'>, names: string[] = [], command: 'status' | 'list' = 'status'): number {
  const { db } = state;
  db.rescan(); // after the command's earlier targets
  const all = [...project.recipes.keys()].map((name) => ({ name, noDeps: false }));
  const plan = makePlan(project, db.entries, all, new Fingerprinter(project, () => state.hashes), false);
  const asked = names.length ? new Set(names) : null;
  const shown = asked ? plan.filter((i) => asked.has(i.name)) : plan;
  const installed = asked ? new Map([...db.entries].filter(([n]) => asked.has(n))) : db.entries;
  const facts = new Map<string, StatusFacts>();
  for (const i of shown) {
    const r = project.recipes.get(i.name)!;
    // The newest record's test result (Sage's `test_result`; empty until --check ran it).
    const record = db.get(i.name).at(-1);
    const testResult = i.action === 'up-to-date' && record ? (readManifestOrNull(record.file)?.test_result ?? '') : '';
    facts.set(i.name, { type: r.type, source: project.system.has(i.name) ? 'system' : r.kind, testResult });
  }
  const counts = asked ?? new Set([...closure(project, project.allTargets().map((name) => ({ name, noDeps: false }))), ...db.entries.keys()]);
  const status = shown.some((i) => counts.has(i.name) && i.action === 'build') ? OUTDATED_STATUS : 0;
  if (o.json) writeJson(o.json, { command, exitCode: command === 'list' ? 0 : status, packages: statusJson(shown, installed, facts) });
  else out(o, statusLines(shown, installed, facts));
  return status;
}
