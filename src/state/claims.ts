// Files a package is about to install, claimed before its merge. Two sagebuild processes on one
// prefix each check that the files they land belong to nobody else; a claim, written under a
// short per-tree flock together with that check, makes check-and-claim atomic across processes,
// so two packages can never both land the same new file. A claim lives until the package's
// manifest is written; the claim of a process that died (or whose PID was reused) is ignored.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { processAlive, processStart } from '../util/proc.js';
import { readdirOrEmpty, readJsonOrNull, writeFileAtomic } from '../util/fs.js';
import { claimsDir } from './layout.js';

/** Absolute path -> claiming package, from the live claims in these trees. */
export function liveClaims(trees: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const tree of new Set(trees)) {
    const dir = claimsDir(tree);
    for (const n of readdirOrEmpty(dir)) {
      const file = path.join(dir, n);
      const m = /^(\d+)-(.+)\.json$/.exec(n);
      if (!m) continue; // a temp file (.<name>.tmp-<pid>)
      const c = readJsonOrNull<{ files: string[]; start?: string | null }>(file);
      if (!c) continue; // damaged (it is written to a temp file and renamed): it claims nothing
      const pid = Number(m[1]);
      // Dead, or its PID now belongs to another process (as happens in containers): stale.
      if (!processAlive(pid) || (c.start && processStart(pid) !== c.start)) {
        rmSync(file, { force: true });
        continue;
      }
      for (const f of c.files) out.set(path.join(tree, f), m[2]!);
    }
  }
  return out;
}

/** Claims `absFiles` (inside `tree`) for `pkg`; returns the claim file to drop later. */
export function writeClaim(tree: string, pkg: string, absFiles: string[]): string {
  const dir = claimsDir(tree);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${pkg}.json`);
  // Atomic, not durable: after a crash a claim is void anyway (its process is gone).
  writeFileAtomic(file, JSON.stringify({ start: processStart(process.pid), files: absFiles.map((f) => path.relative(tree, f)) }), { durable: false });
  return file;
}

export function dropClaim(file: string): void {
  rmSync(file, { force: true });
}
