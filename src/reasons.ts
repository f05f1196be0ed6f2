// Why a package builds, as data: plan.ts and fingerprint.ts produce these, spkg/package.ts and
// report/status.ts read them by kind, and only report/reasons.ts turns them into English.

/** A change to a recipe file: added, changed or removed. */
export type Change = 'changed' | 'added' | 'removed';

export type Reason =
  /** No version of the package is installed. */
  | { kind: 'not-installed' }
  /** `from`: the installed version(s). */
  | { kind: 'version'; from: string[]; to: string }
  /** `<pkg>-no-deps`: built unconditionally, as Sage does. */
  | { kind: 'no-deps' }
  /** FORCE in its dependencies. */
  | { kind: 'force' }
  /** The recipe became a dummy: `stale` (ids) are removed. */
  | { kind: 'now-dummy'; stale: string[] }
  /** An old-style Sage stamp or a damaged manifest. */
  | { kind: 'unknown-files' }
  /** Installed by Sage or an older sagebuild. */
  | { kind: 'no-fingerprint' }
  /** The fingerprint differs, but no input difference can be named (`unreadable`: nor the recorded inputs read). */
  | { kind: 'fingerprint-changed'; unreadable?: boolean }
  /** --check (or `check:`), and the install has no passing check. */
  | { kind: 'checks-requested'; lastResult: string }
  /** One recipe file (or one file of the recipe's src/). */
  | { kind: 'recipe-file'; change: Change; file: string }
  /** Several files of the recipe's src/ (at least two). */
  | { kind: 'src-files'; change: Change; files: string[] }
  | { kind: 'tarball'; from: string | undefined; to: string | undefined }
  /** A file prerequisite of the dependencies line (changed, appeared or vanished). */
  | { kind: 'file'; file: string }
  /** configure now finds it on the system (`now`: its evidence), or no longer does (`was`). */
  | { kind: 'system'; now: string | undefined; was: string | undefined }
  | { kind: 'python'; from: string | undefined; to: string | undefined }
  /** sagebuild's own build environment (helpers, its version). */
  | { kind: 'tool'; from: string; to: string }
  | { kind: 'dependency-new'; dep: string }
  /** The dependency builds in this same run. */
  | { kind: 'dependency-rebuilt'; dep: string }
  /** The dependency's fingerprint differs from the one recorded (built meanwhile, elsewhere). */
  | { kind: 'dependency-changed'; dep: string }
  | { kind: 'dependency-removed'; dep: string };
