// Text for `sagebuild status` and `sagebuild --explain <pkg>`, from a plan (no side effects).
import type { PlanItem } from '../events.js';
import type { Reason } from '../reasons.js';
import type { InstalledEntry } from '../state/manifest.js';
import type { Project } from '../project.js';
import type { Decision } from '../systempkgs.js';
import { reasonText, reasonsJson, reasonsText } from './reasons.js';

/** What `status` says of a package beside its state. */
export interface StatusFacts {
  /** Sage's type: base, standard, optional, experimental. */
  type: string;
  /** Where it comes from: its kind (normal, wheel, pip, script, none, venv), or `system`. */
  source: string;
  /** The record's `test_result` (empty: checks never ran). */
  testResult: string;
}

/** A package's state as `status` names it (`--json` spells it with hyphens). */
export type StatusState = 'installed' | 'outdated' | 'not-installed' | 'dummy' | 'system' | 'cannot-build' | 'no-recipe';

function stateOf(i: PlanItem, have: string[]): StatusState {
  if (i.action === 'dummy') return 'dummy';
  if (i.action === 'system') return 'system';
  if (i.action === 'up-to-date') return 'installed';
  if (i.problems?.length) return 'cannot-build';
  return have.length ? 'outdated' : 'not-installed';
}

export interface StatusJson {
  name: string;
  /** The recipe's version (null: no recipe). */
  version: string | null;
  state: StatusState;
  /** Installed versions. */
  installed: string[];
  type: string | null;
  source: string | null;
  testResult: string | null;
  reasons: (Reason & { text: string })[];
  evidence: string | null;
  problems: string[];
}

/** `status --json` (and `list --installed --json`): the rows of statusLines as data (README: "JSON output"). */
export function statusJson(plan: PlanItem[], installed: Map<string, InstalledEntry[]>, facts: Map<string, StatusFacts>): StatusJson[] {
  const rows: StatusJson[] = [];
  for (const i of plan) {
    const have = (installed.get(i.name) ?? []).map((e) => e.version);
    const f = facts.get(i.name);
    rows.push({
      name: i.name,
      version: i.version,
      state: stateOf(i, have),
      installed: have,
      type: f?.type ?? null,
      source: f?.source ?? null,
      testResult: f?.testResult || null,
      reasons: i.action === 'build' ? reasonsJson(i.reasons) : [],
      evidence: i.evidence ?? null,
      problems: i.problems ?? [],
    });
  }
  const known = new Set(plan.map((i) => i.name));
  for (const [name, list] of installed) {
    if (!known.has(name)) rows.push({ name, version: null, state: 'no-recipe', installed: list.map((e) => e.version), type: null, source: null, testResult: null, reasons: [], evidence: null, problems: [] });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One line per package: installed / outdated (why) / not installed / dummy, then in parentheses
 * its type, source and test result (when `facts` has them).
 */
export function statusLines(plan: PlanItem[], installed: Map<string, InstalledEntry[]>, facts: Map<string, StatusFacts> = new Map()): string[] {
  const rows: [string, string, string][] = [];
  const about = (name: string, text: string) => {
    const f = facts.get(name);
    return f ? `${text}  (${f.type}, ${f.source}${f.testResult ? `, tests ${f.testResult}` : ''})` : text;
  };
  for (const i of [...plan].sort((a, b) => a.name.localeCompare(b.name))) {
    const have = (installed.get(i.name) ?? []).map((e) => e.version);
    const state = stateOf(i, have);
    const word = state.replace('-', ' ');
    if (state === 'dummy') rows.push([i.name, word, '(never built)']);
    else if (state === 'system') rows.push([i.name, word, i.evidence ?? '']);
    else if (state === 'installed' || state === 'not-installed') rows.push([i.name, word, i.version]);
    else if (state === 'cannot-build') rows.push([i.name, word, `${i.version}: ${i.problems!.join('; ')}`]);
    else rows.push([i.name, word, `${have.join(', ')}: ${reasonsText(i.reasons)}`]);
    const row = rows[rows.length - 1]!;
    row[2] = about(i.name, row[2]);
  }
  // Installed packages whose recipe is gone (Sage's all-sage would uninstall them).
  const known = new Set(plan.map((i) => i.name));
  for (const [name, list] of installed) {
    if (!known.has(name)) rows.push([name, 'no recipe', `${list.map((e) => e.version).join(', ')}: installed, but pkgs/ has no recipe; remove it with '${name}-clean'`]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const w0 = Math.max(8, ...rows.map((r) => r[0].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(13)}  ${c}`);
}

/** `sagebuild configure`: one line per package with a check, as Sage's configure prints, then the counts. */
export function configureLines(project: Project, decisions: Map<string, Decision>): string[] {
  const rows: string[] = [];
  const w = Math.max(8, ...[...decisions.keys()].map((n) => n.length + 1));
  let system = 0;
  let build = 0;
  const undecided: string[] = [];
  const names = [...project.recipes.values()].filter((r) => !r.builtin).map((r) => r.name).sort();
  for (const name of names) {
    const d = decisions.get(name);
    const evidence = project.system.get(name);
    if (evidence !== undefined) system++;
    else if (d?.state === 'undecided') undecided.push(name);
    else build++;
    if (!d || project.recipes.get(name)!.configureM4 === null) continue;
    const what =
      evidence !== undefined ? `from the system: ${evidence}` : d.state === 'system' ? `will be built (installed by sagebuild already, or asked for): ${d.evidence}` : d.state === 'undecided' ? `undecided, will be built: ${d.evidence}` : `will be built: ${d.evidence}`;
    rows.push(`${`${name}:`.padEnd(w)} ${what}`);
  }
  rows.push(`configure: of ${names.length} packages, ${system} from the system, ${build} to build, ${undecided.length} undecided (built)${undecided.length ? `: ${undecided.join(' ')}` : ''}`);
  return rows;
}

/** The full reason chain: why `name` builds, and why each dependency that triggers it builds. */
export function explainLines(plan: PlanItem[], name: string): string[] {
  const by = new Map(plan.map((i) => [i.name, i]));
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (n: string, depth: number) => {
    const i = by.get(n);
    if (!i) return;
    const pad = '  '.repeat(depth);
    if (seen.has(n)) {
      out.push(`${pad}${n}: (see above)`);
      return;
    }
    seen.add(n);
    if (i.action === 'dummy') {
      out.push(`${pad}${n}: dummy package, never built`);
      return;
    }
    if (i.action === 'system') {
      out.push(`${pad}${n}: from the system (${i.evidence}), never built`);
      return;
    }
    if (i.action === 'up-to-date') {
      out.push(`${pad}${n}-${i.version}: up to date${i.fingerprint ? ` (fingerprint ${i.fingerprint.slice(0, 12)})` : ''}`);
      return;
    }
    out.push(`${pad}${n}-${i.version} will be rebuilt${i.fingerprint ? ` (fingerprint now ${i.fingerprint.slice(0, 12)})` : ''}, because:`);
    for (const r of i.reasons) {
      out.push(`${pad}  - ${reasonText(r)}`);
      if (r.kind === 'dependency-rebuilt') walk(r.dep, depth + 2);
    }
  };
  walk(name, 0);
  return out;
}
