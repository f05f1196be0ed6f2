// A command's installed state, opened once: interrupted installs recovered first. The recovery
// (spkg/recover.ts: pip, hooks, backups) is loaded only when a tree holds a journal record, so
// a command in a prefix no install was interrupted in never loads it.
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import { hasRecords } from '../state/journal.js';
import { installedDir, pipRecordsDir } from '../state/layout.js';
import { InstalledState } from '../state/state.js';
import { removeDeadTemps } from '../util/fs.js';

export async function openState(config: Pick<Config, 'prefix' | 'venv'>, bus: EventBus, dryRun: boolean): Promise<InstalledState> {
  const trees = [...new Set([config.prefix, config.venv])];
  // A kill between writing a record and renaming it into place leaves its temp file beside it.
  if (!dryRun) for (const t of trees) for (const d of [installedDir(t), pipRecordsDir(t)]) removeDeadTemps(d);
  if (hasRecords(trees)) await (await import('./recover.js')).recoverInterrupted(config, bus, dryRun);
  return new InstalledState(config, dryRun);
}
