// Files a package is about to install, claimed before its merge. Two sagebuild processes on one
// prefix each check that the files they land belong to nobody else; a claim, written under a
// short per-tree flock together with that check, makes check-and-claim atomic across processes,
// so two packages can never both land the same new file. A claim lives until the package's
// manifest is written; the claim of a process that died is ignored.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from './util/proc.js';

const CLAIMS_RELDIR = 'var/lib/sage/sagebuild/claims';

export function treeLockFile(tree: string): string {
  return path.join(tree, 'var/lock/sagebuild-install.lock');
}


/** Absolute path -> claiming package, from the live claims in these trees. */
export function liveClaims(trees: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const tree of new Set(trees)) {
    const dir = path.join(tree, CLAIMS_RELDIR);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(dir, n);
      const m = /^(\d+)-(.+)\.json$/.exec(n);
      if (!m) continue;
      if (!processAlive(Number(m[1]))) {
        rmSync(file, { force: true });
        continue;
      }
      try {
        const c = JSON.parse(readFileSync(file, 'utf8')) as { files: string[] };
        for (const f of c.files) out.set(path.join(tree, f), m[2]!);
      } catch {
        // being written (never: it is renamed into place) or damaged: it claims nothing
      }
    }
  }
  return out;
}

/** Claims `absFiles` (inside `tree`) for `pkg`; returns the claim file to drop later. */
export function writeClaim(tree: string, pkg: string, absFiles: string[]): string {
  const dir = path.join(tree, CLAIMS_RELDIR);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${pkg}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ files: absFiles.map((f) => path.relative(tree, f)) }));
  renameSync(tmp, file);
  return file;
}

export function dropClaim(file: string): void {
  rmSync(file, { force: true });
}
