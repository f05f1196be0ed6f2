// `<pkg>-clean` / `<pkg>-uninstall`: under the package's lock, as Sage's %-uninstall.
import { holdLock } from '../proc/heldlock.js';
import { packageLockFile } from '../state/layout.js';
import { CleanIncomplete, cleanPackage } from '../clean.js';
import { HookFailed } from '../hooks.js';
import type { InstalledState } from '../state/state.js';
import { readManifest, readManifestOrNull } from '../state/manifest.js';
import type { Project } from '../project.js';
import { PipError } from '../python/pip.js';
import { LockWaitCanceled } from '../proc/lockedstep.js';
import { processEnv } from '../util/env.js';
import { err, out, type CommandOptions } from './options.js';

export async function clean(project: Project, name: string, o: CommandOptions, state: InstalledState): Promise<number> {
  const { db } = state;
  db.refresh(name);
  if (o.dryRun) {
    const entries = db.get(name);
    if (!entries.length) out(o, [`${name} is not installed; nothing to clean`]);
    for (const e of entries) {
      const legacy = project.recipes.get(name)?.scripts.legacyUninstall;
      if (legacy && readManifestOrNull(e.file) === null) {
        out(o, [`would run ${legacy.path} for ${name}-${e.version} (a stamp without a file list) and remove ${e.file}`]);
        continue;
      }
      const files = readManifest(e.file).files;
      out(o, [`would remove ${name}-${e.version}: ${files.length} file(s) and ${e.file}`, ...files.map((f) => `  ${f}`)]);
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
      err(o, [`sagebuild: ${name}-clean: ${e.message}; nothing was removed`]);
      return 130;
    }
    if (e instanceof CleanIncomplete) {
      err(o, [`sagebuild: ${name}-clean: ${e.message}`]);
      return 1;
    }
    if (e instanceof HookFailed) {
      err(o, [`sagebuild: ${name}-clean: ${e.message}`]);
      return e.canceled ? 130 : 1;
    }
    if (!(e instanceof PipError)) throw e;
    err(o, [`sagebuild: ${name}-clean: ${e.message}; nothing was removed`]);
    return 1;
  } finally {
    await lock.release();
  }
}
