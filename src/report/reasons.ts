// The English of a build reason (reasons.ts): the only place it is written.
import type { Reason } from '../reasons.js';

export function reasonText(r: Reason): string {
  switch (r.kind) {
    case 'not-installed':
      return 'not installed';
    case 'version':
      return `version ${r.from.join(', ')} -> ${r.to}`;
    case 'no-deps':
      return 'requested with -no-deps';
    case 'force':
      return 'depends on FORCE (always rebuilt)';
    case 'now-dummy':
      return `now a dummy package: the installed ${r.stale.join(', ')} is removed`;
    case 'unknown-files':
      return 'installed, but its files are unknown (an old-style Sage stamp or a damaged manifest)';
    case 'no-fingerprint':
      return 'installed without a fingerprint (by Sage or an older sagebuild)';
    case 'fingerprint-changed':
      return r.unreadable ? 'fingerprint changed (the recorded inputs are unreadable)' : 'fingerprint changed';
    case 'checks-requested':
      return `checks requested; last test_result: ${r.lastResult || 'none'}`;
    case 'recipe-file':
      return `${r.file} ${r.change}`;
    case 'src-files':
      return `${r.files.length} files in src/ ${r.change} (${r.files.slice(0, 3).join(', ')}${r.files.length > 3 ? ', ...' : ''})`;
    case 'tarball':
      return `upstream tarball checksum ${r.from ?? 'none'} -> ${r.to ?? 'none'}`;
    case 'file':
      return `file ${r.file} changed`;
    case 'system':
      return r.now ? `now from the system (${r.now})` : `no longer from the system (was: ${r.was})`;
    case 'python':
      return `python ${r.from ?? 'none'} -> ${r.to ?? 'none'}`;
    case 'tool':
      return `sagebuild build environment ${r.from} -> ${r.to}`;
    case 'dependency-new':
      return `new dependency ${r.dep}`;
    case 'dependency-rebuilt':
      return `dependency ${r.dep} rebuilt`;
    case 'dependency-changed':
      return `dependency ${r.dep} changed`;
    case 'dependency-removed':
      return `dependency ${r.dep} removed`;
  }
}

/** Reasons joined as every reporter prints them on one line. */
export function reasonsText(rs: Reason[]): string {
  return rs.map(reasonText).join('; ');
}

/** Reasons as JSON: each the typed Reason (its `kind` and fields) plus its English as `text`. */
export function reasonsJson(rs: Reason[]): (Reason & { text: string })[] {
  return rs.map((r) => ({ ...r, text: reasonText(r) }));
}
