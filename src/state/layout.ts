// Every path sagebuild and Sage's conventions give a prefix (SAGE_LOCAL) or venv (SAGE_VENV)
// tree, in one place: Sage's records and scripts, sagebuild's own state beside them, the locks,
// the backups of an install in progress, the caches, and the default build directory. The
// folders no package may install into (RESERVED) are derived from these names.
import path from 'node:path';

/** Sage's installation records: <tree>/var/lib/sage/installed/<pkg>-<version> (SPKG_INST_RELDIR). */
export const INSTALLED_RELDIR = 'var/lib/sage/installed';
/** Installed uninstall hooks, spkg-requirements.txt: <tree>/var/lib/sage/scripts/<pkg>/ (SAGE_SPKG_SCRIPTS). */
export const SCRIPTS_RELDIR = 'var/lib/sage/scripts';
/** The persistent wheelhouse of a venv (SAGE_SPKG_WHEELS). */
export const WHEELS_RELDIR = 'var/lib/sage/wheels';
/** `venv: auto`: <prefix>/var/lib/sage/venv-python<X.Y>. */
const VENVS_RELDIR = 'var/lib/sage';
/** sagebuild's own state in a tree, where Sage's tools do not look. */
const STATE_RELDIR = 'var/lib/sage/sagebuild';
/** Records of *pip* packages (Sage keeps none). */
export const PIP_RECORDS_RELDIR = `${STATE_RELDIR}/pip-installed`;
/** Files a package is about to install, claimed across processes (claims.ts). */
const CLAIMS_RELDIR = `${STATE_RELDIR}/claims`;
/** Install journal records (journal.ts): an install's intent, until its manifest is written. */
const JOURNAL_RELDIR = `${STATE_RELDIR}/journal`;
const HASHCACHE_REL = `${STATE_RELDIR}/hashcache.json`;
const CONFIGURE_CACHE_REL = `${STATE_RELDIR}/configure.json`;
const DURATIONS_REL = `${STATE_RELDIR}/durations.json`;
/** What each interpreter binary said it is (python/interpreter.ts), keyed by its file's identity. */
const INTERPRETERS_REL = `${STATE_RELDIR}/interpreters.json`;
/** Recipes as last read, with their files' identities (recipecache.ts): an unchanged recipe is not read again. */
const RECIPES_REL = `${STATE_RELDIR}/recipes.json`;
/** What planning reads of each installation record, by the record's identity (recordsummary.ts). */
const RECORDS_REL = `${STATE_RELDIR}/records.json`;
/** One line per installation record written or removed (manifest.ts), so readers re-read only those. */
const RECORD_CHANGES_REL = `${STATE_RELDIR}/record-changes.log`;
const LOCK_RELDIR = 'var/lock';
/** Sage's pip lock. */
const PIP_LOCK_REL = `${LOCK_RELDIR}/pip3.lock`;
/** Taken briefly while a package checks and claims the files it lands. */
const TREE_LOCK_REL = `${LOCK_RELDIR}/sagebuild-install.lock`;
/** The files an upgrade replaces, kept until the new install is recorded. */
const BACKUP_RELDIR = 'var/tmp/sagebuild-backup';
const CACHE_RELDIR = 'var/cache/sagebuild';
/** `keep_wheels_cache`: wheels by fingerprint. */
const WHEEL_CACHE_RELDIR = `${CACHE_RELDIR}/wheels`;
/** Sage's default SAGE_BUILD_DIR under the prefix. */
const BUILD_DIR_REL = 'var/tmp/sage/build';
/** The default log folder (`logs:`), under the prefix so that two prefixes never share one. */
const LOGS_REL = 'var/log/sagebuild';
/** The wheelhouse's PEP 503 index: the `simple` symlink and the `.simple-*` folders it points to. */
export const INDEX_LINK = 'simple';
export const INDEX_DIR_PREFIX = '.simple-';

export const installedDir = (tree: string): string => path.join(tree, INSTALLED_RELDIR);
export const pipRecordsDir = (tree: string): string => path.join(tree, PIP_RECORDS_RELDIR);
export const scriptsDir = (tree: string): string => path.join(tree, SCRIPTS_RELDIR);
export const wheelhouseOf = (venv: string): string => path.join(venv, WHEELS_RELDIR);
export const venvFor = (prefix: string, pythonVersion: string): string => path.join(prefix, VENVS_RELDIR, `venv-python${pythonVersion}`);
export const claimsDir = (tree: string): string => path.join(tree, CLAIMS_RELDIR);
export const journalDir = (tree: string): string => path.join(tree, JOURNAL_RELDIR);
export const hashCacheFile = (prefix: string): string => path.join(prefix, HASHCACHE_REL);
export const configureCacheFile = (prefix: string): string => path.join(prefix, CONFIGURE_CACHE_REL);
/** Each package's last build time (as ninja's .ninja_log), for the scheduler's priority. */
export const durationsFile = (prefix: string): string => path.join(prefix, DURATIONS_REL);
export const recordChangesFile = (tree: string): string => path.join(tree, RECORD_CHANGES_REL);
export const interpreterCacheFile = (prefix: string): string => path.join(prefix, INTERPRETERS_REL);
export const recipeCacheFile = (prefix: string): string => path.join(prefix, RECIPES_REL);
export const recordSummaryFile = (prefix: string): string => path.join(prefix, RECORDS_REL);
export const pipLockFile = (venv: string): string => path.join(venv, PIP_LOCK_REL);
export const treeLockFile = (tree: string): string => path.join(tree, TREE_LOCK_REL);
export const backupDir = (tree: string, name: string): string => path.join(tree, BACKUP_RELDIR, name);
export const wheelCacheDir = (venv: string): string => path.join(venv, WHEEL_CACHE_RELDIR);
export const defaultBuildDir = (prefix: string): string => path.join(prefix, BUILD_DIR_REL);
export const defaultLogsDir = (prefix: string): string => path.join(prefix, LOGS_REL);
/** Per-package flocks (proc/heldlock.ts) live in the build directory. */
export const packageLockFile = (buildDir: string, pkg: string): string => path.join(buildDir, '.locks', `${pkg}.lock`);
/** Build folders being removed (proc/trash.ts): renamed here, then removed by rm(1). */
export const trashDir = (buildDir: string): string => path.join(buildDir, '.trash');

/** Folders of a tree that hold sagebuild's own state: no package may install into them or own files there. */
export const RESERVED: readonly string[] = [
  `${INSTALLED_RELDIR}/`,
  `${STATE_RELDIR}/`,
  `${LOCK_RELDIR}/`,
  `${CACHE_RELDIR}/`,
  `${BACKUP_RELDIR}/`,
  `${LOGS_REL}/`,
  `${WHEELS_RELDIR}/${INDEX_LINK}`,
  `${WHEELS_RELDIR}/${INDEX_DIR_PREFIX}`,
];

export function isReserved(rel: string): boolean {
  return RESERVED.some((pre) => rel.startsWith(pre));
}
