// Decides, for the packages a set of targets needs, which must build and why: a package is up to
// date iff the manifest of its current version records the fingerprint it has now.
import path from 'node:path';
import { UserError, type Diagnostic } from './diagnostics.js';
import type { PlanItem } from './events.js';
import { explainDiff, type Fingerprint, type FingerprintInputs, type Fingerprinter } from './fingerprint.js';
import { readManifestOrNull, type InstalledEntry } from './state/manifest.js';
import { kindOf } from './kinds.js';
import type { Project } from './project.js';
import type { Recipe } from './recipes.js';
import type { Reason } from './reasons.js';
import { reachable } from './util/dag.js';
import type { RecordSummaries } from './state/recordsummary.js';
import { statOrNull } from './util/fs.js';

export interface BuildRequest {
  name: string;
  /** `<pkg>-no-deps`: build just this package, unconditionally, as Sage does. */
  noDeps: boolean;
}

/** Every package the requests need: the requested ones and, unless -no-deps, all their dependencies. */
export function closure(project: Project, requests: BuildRequest[]): Set<string> {
  const need = reachable(requests.filter((r) => !r.noDeps).map((r) => r.name), (n) => {
    const d = project.deps.get(n)!;
    return [...d.normal, ...d.orderOnly];
  });
  for (const r of requests) if (r.noDeps) need.add(r.name);
  return need;
}

/** `strict`: a missing file prerequisite is an error (as make's "No rule to make target"); status is lenient. */
/** `records`: summaries of the installation records, so that an up-to-date package's record is not read (a build's plan). */
export function makePlan(project: Project, installed: Map<string, InstalledEntry[]>, requests: BuildRequest[], fp: Fingerprinter, strict = true, records?: RecordSummaries): PlanItem[] {
  const need = closure(project, requests);
  const forced = new Set(requests.filter((r) => r.noDeps).map((r) => r.name));
  const items = new Map<string, PlanItem>();
  const out: PlanItem[] = [];
  const rebuilding = (dep: string) => items.get(dep)?.action === 'build';
  const problems: Diagnostic[] = [];
  const unbuildable: Diagnostic[] = [];
  for (const name of project.order) {
    if (!need.has(name)) continue;
    const r = project.recipes.get(name)!;
    const reasons: Reason[] = [];
    let action: PlanItem['action'] = 'build';
    let fingerprint: string | undefined;
    const evidence = project.system.get(name);
    if (evidence !== undefined && !forced.has(name)) {
      // From the system: nothing to build (an install of its own keeps it from being chosen).
      const item: PlanItem = { name, version: r.version, action: 'system', reasons: [], evidence };
      items.set(name, item);
      out.push(item);
      continue;
    } else if (!kindOf(r).installs) {
      // A package that became a dummy (say, the system provides it now) loses its old install,
      // which would otherwise shadow the system's copy.
      const stale = installed.get(name) ?? [];
      if (stale.length) reasons.push({ kind: 'now-dummy', stale: stale.map((e) => `${name}-${e.version}`) });
      else action = 'dummy';
    } else {
      let cur: Fingerprint;
      try {
        cur = fp.get(name);
      } catch (e) {
        // Collect: every unreadable input is reported, not just the first.
        if (!(e instanceof UserError)) throw e;
        for (const d of e.diagnostics) if (!problems.some((x) => x.file === d.file && x.message === d.message)) problems.push(d);
        continue;
      }
      fingerprint = cur.hash;
      const missing = Object.entries(cur.inputs.files ?? {}).filter(([, h]) => h === 'missing');
      if (missing.length && strict) {
        throw new UserError({ file: r.deps?.file ?? path.join(r.dir, 'dependencies'), line: 1, message: `file prerequisite ${missing[0]![0]} of package '${name}' does not exist`, hint: 'fix the path ($(SAGE_SRC) is set by `sage_src:` in build.config.yaml), or create the file' });
      }
      if (forced.has(name)) reasons.push({ kind: 'no-deps' });
      else reasons.push(...whyBuild(project, installed, name, cur, rebuilding, records));
      if (!reasons.length) action = 'up-to-date';
    }
    if (action === 'build' && r.problems.length) {
      // Only now is a build-only recipe problem an error: something needs this package built.
      const requested = requests.some((q) => q.name === name);
      const parent = requested ? null : [...need].find((n) => project.deps.get(n)?.normal.includes(name) || project.deps.get(n)?.orderOnly.includes(name));
      const why = requested ? 'it was requested' : `${parent ?? 'a target'} needs it`;
      unbuildable.push(...cannotBuild(r, why));
    }
    const item: PlanItem = { name, version: r.version, action, reasons, fingerprint, ...(r.problems.length ? { problems: r.problems.map((d) => d.message) } : {}) };
    items.set(name, item);
    out.push(item);
  }
  if (problems.length) throw new UserError(problems);
  if (unbuildable.length && strict) throw new UserError(unbuildable);
  return out;
}

function cannotBuild(r: Recipe, why: string): Diagnostic[] {
  return r.problems.map((d) => ({ ...d, message: `cannot build package '${r.name}' (${why}): ${d.message}` }));
}

/**
 * The requested packages that cannot be built whatever configure decides: a build-only recipe
 * problem, no spkg-configure.m4 (the system can never provide them), and built in any case (-no-deps,
 * or not installed). Asked before configure runs its checks (seconds on Sage's tree), so that
 * such a request is an error at once; makePlan would report the same later.
 */
export function hopelessRequests(project: Project, requests: BuildRequest[], installed: (name: string) => boolean): Diagnostic[] {
  return requests.flatMap((q) => {
    const r = project.recipes.get(q.name);
    return r && r.problems.length && !r.configureM4 && (q.noDeps || !installed(q.name)) ? cannotBuild(r, 'it was requested') : [];
  });
}

/** Why `name` must be (re)built; empty when it is up to date. */
export function whyBuild(project: Project, installed: Map<string, InstalledEntry[]>, name: string, cur: Fingerprint, rebuilding: (dep: string) => boolean, records?: RecordSummaries): Reason[] {
  const r = project.recipes.get(name)!;
  const reasons: Reason[] = [];
  if (project.deps.get(name)!.force) reasons.push({ kind: 'force' });
  const entries = installed.get(name) ?? [];
  const mine = entries.find((e) => e.version === r.version);
  if (!mine) {
    if (!entries.length) {
      reasons.push({ kind: 'not-installed' });
      return reasons;
    }
    // Another version is installed: explain against what it was built from.
    const prev = [...entries].sort((a, b) => b.mtimeMs - a.mtimeMs)[0]!;
    const inputs = readManifestOrNull(prev.file)?.sagebuild?.inputs as FingerprintInputs | undefined;
    const diff = inputs ? explainDiff(inputs, cur.inputs, rebuilding) : [];
    reasons.push(...(diff.some((d) => d.kind === 'version') ? diff : [{ kind: 'version', from: entries.map((e) => e.version), to: r.version } satisfies Reason, ...diff]));
    return reasons;
  }
  const summary = records?.get(mine.file);
  if (summary?.fingerprint === cur.hash) {
    // The record is the one summarised, built with this fingerprint: only the checks can ask for more.
    if (!reasons.length && project.checkFor(name) && r.scripts.check && summary.test !== 'passed') reasons.push({ kind: 'checks-requested', lastResult: summary.test });
    return reasons;
  }
  const st = records ? statOrNull(mine.file) : null; // before reading: a change meanwhile shows next time
  const m = readManifestOrNull(mine.file);
  if (m && st) records!.note(mine.file, st, m);
  if (!m) {
    reasons.push({ kind: 'unknown-files' });
    return reasons;
  }
  const recorded = m.sagebuild?.fingerprint;
  const inputs = m.sagebuild?.inputs as FingerprintInputs | undefined;
  if (typeof recorded !== 'string' || !inputs) {
    reasons.push({ kind: 'no-fingerprint' });
  } else if (recorded !== cur.hash) {
    const diff = explainDiff(inputs, cur.inputs, rebuilding);
    reasons.push(...(diff.length ? diff : [{ kind: 'fingerprint-changed' } satisfies Reason]));
  }
  if (!reasons.length && project.checkFor(name) && r.scripts.check && m.test_result !== 'passed') {
    // Checks were asked for: a package installed without a passing check is rebuilt and checked.
    reasons.push({ kind: 'checks-requested', lastResult: m.test_result });
  }
  return reasons;
}
