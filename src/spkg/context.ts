// What every build step of one package needs, and how steps fail.
import path from 'node:path';
import type { EventBus } from '../events.js';
import type { Fingerprint } from '../fingerprint.js';
import type { InstalledDb } from '../state/installed.js';
import type { Jobserver } from '../jobserver.js';
import type { Trash } from '../proc/trash.js';
import type { Project } from '../project.js';
import type { Recipe } from '../recipes.js';
import type { PipWorkers } from '../python/pipworker.js';
import type { PkgPaths } from './env.js';

export interface BuildContext {
  project: Project;
  bus: EventBus;
  signal: AbortSignal;
  db: InstalledDb;
  check: boolean;
  offline: boolean;
  fingerprint: (name: string) => Fingerprint;
  /** null: no jobserver (disabled, or mkfifo unavailable); MAKE then gets its own -jN. */
  jobserver: Jobserver | null;
  /** This run's pip workers (installs without starting pip each time); closed when the run ends. */
  pipWorkers?: PipWorkers;
  /** Where build folders go to be removed by rm(1) (else fs/promises' rm, in-process). */
  trash?: Trash;
}

/** What building one package came to. */
export type BuildOutcome =
  /** Built and installed here. */
  | 'built'
  /** A dummy package: its old install was removed. */
  | 'removed'
  /** Another sagebuild process built it (or removed it) while this one waited for its lock: up to date, not built here. */
  | 'built-elsewhere'
  | 'failed'
  /** Stopped by Ctrl-C/SIGTERM, building or waiting for its lock (reported apart from failures). */
  | 'interrupted';

/** Whether the outcome lets the package's dependents build. */
export function succeeded(o: BuildOutcome): boolean {
  return o === 'built' || o === 'removed' || o === 'built-elsewhere';
}

/** A failure with a message for the user; `canceled` when it came from Ctrl-C/SIGTERM. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly canceled = false,
  ) {
    super(message);
  }
}

export function pkgId(r: Recipe): string {
  return `${r.name}-${r.version}`;
}

/**
 * This run's own staging folder name: a recipe left running by a run that died (or that escaped
 * its process group) writes into its own run's stage, never into the one another run merges.
 */
const STAGE = `inst-${process.pid}-${Date.now().toString(36)}`;

export function pkgPaths(project: Project, r: Recipe): PkgPaths {
  const id = pkgId(r);
  const buildRoot = path.join(project.config.buildDir, id);
  return {
    buildRoot,
    destdir: path.join(buildRoot, STAGE),
    tree: project.treeOf(r),
    logFile: path.join(project.config.logs, 'pkgs', `${id}.log`),
  };
}
