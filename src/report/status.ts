// Text for `sagebuild status` and `sagebuild --explain <pkg>`, from a plan (no side effects).
import type { PlanItem } from '../events.js';
import type { InstalledEntry } from '../manifest.js';

/** One line per package: installed / outdated (why) / not installed / dummy. */
export function statusLines(plan: PlanItem[], installed: Map<string, InstalledEntry[]>): string[] {
  const rows: [string, string, string][] = [];
  for (const i of [...plan].sort((a, b) => a.name.localeCompare(b.name))) {
    const have = (installed.get(i.name) ?? []).map((e) => e.version);
    if (i.action === 'dummy') rows.push([i.name, 'dummy', '(never built)']);
    else if (i.action === 'up-to-date') rows.push([i.name, 'installed', i.version]);
    else if (i.problems?.length) rows.push([i.name, 'cannot build', `${i.version}: ${i.problems.join('; ')}`]);
    else if (!have.length) rows.push([i.name, 'not installed', i.version]);
    else rows.push([i.name, 'outdated', `${have.join(', ')}: ${i.reasons.join('; ')}`]);
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

const DEP_REBUILT = /^dependency (\S+) rebuilt$/;

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
    if (i.action === 'up-to-date') {
      out.push(`${pad}${n}-${i.version}: up to date${i.fingerprint ? ` (fingerprint ${i.fingerprint.slice(0, 12)})` : ''}`);
      return;
    }
    out.push(`${pad}${n}-${i.version} will be rebuilt${i.fingerprint ? ` (fingerprint now ${i.fingerprint.slice(0, 12)})` : ''}, because:`);
    for (const r of i.reasons) {
      out.push(`${pad}  - ${r}`);
      const m = DEP_REBUILT.exec(r);
      if (m) walk(m[1]!, depth + 2);
    }
  };
  walk(name, 0);
  return out;
}
