// Which distributions a package is about to remove from the venv are still needed there: pip
// packages install their requirements' dependencies too, and another installed distribution may
// need one of them since. Asked of the venv's own interpreter (its installed metadata).
import { capture, failureLine, ranOk } from '../proc/spawn.js';
import path from 'node:path';
import type { PythonDist } from '../state/manifest.js';

const SCRIPT = `
import json, re, sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
leaving = {canon(n) for n in json.loads(sys.argv[1])}
candidates = {canon(n) for n in json.loads(sys.argv[2])}
reqs = {}
for d in metadata.distributions():
    name = d.metadata["Name"]
    if not name:
        continue
    out = []
    for r in d.requires or []:
        try:
            q = Requirement(r)
        except Exception:
            continue
        if q.marker is not None and not q.marker.evaluate({"extra": ""}):
            continue
        out.append(canon(q.name))
    reqs[canon(name)] = (name, out)
needed = {}
changed = True
while changed:  # a kept dependency keeps what it needs in turn
    changed = False
    for n, (name, out) in reqs.items():
        if n in leaving and n not in needed:
            continue
        for q in out:
            if q in candidates and q not in needed:
                needed[q] = needed.get(n, name) if n in needed else name
                changed = True
print(json.dumps(needed))
`;

/**
 * Of `candidates` (dependency dists among `leaving`), those another remaining distribution
 * requires, directly or through another kept one: normalized name -> the distribution that
 * needs it (the first one outside `leaving` on the chain).
 */
export function stillNeeded(venv: string, leaving: PythonDist[], candidates: PythonDist[]): Promise<Map<string, string>> {
  if (!candidates.length) return Promise.resolve(new Map());
  const python = path.join(venv, 'bin', 'python3');
  return capture(python, ['-c', SCRIPT, JSON.stringify(leaving.map((d) => d.name)), JSON.stringify(candidates.map((d) => d.name))]).then((r) => {
    if (!ranOk(r)) throw new Error(`cannot ask the venv ${venv} which distributions are still needed: ${failureLine(r)}`);
    return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
  });
}
