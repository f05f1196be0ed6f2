// What every build step of one package needs, and how steps fail.
import path from 'node:path';
import type { EventBus } from '../events.js';
import type { Fingerprint } from '../fingerprint.js';
import type { InstalledDb } from '../state/installed.js';
import type { Jobserver } from '../jobserver.js';
import type { Project } from '../project.js';
import type { Recipe } from '../recipes.js';
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
  /** Packages another sagebuild process built while this one waited: up to date, not built here. */
  builtElsewhere: Set<string>;
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

export function pkgPaths(project: Project, r: Recipe): PkgPaths {
  const id = pkgId(r);
  const buildRoot = path.join(project.config.buildDir, id);
  return {
    buildRoot,
    destdir: path.join(buildRoot, 'inst'),
    tree: project.treeOf(r),
    logFile: path.join(project.config.logs, 'pkgs', `${id}.log`),
  };
}
