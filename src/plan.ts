// Decides, for the packages a set of targets needs, which must build and why (Sage's rule:
// a package is up to date when the manifest of its current version exists and no normal
// dependency was installed after it).
import { statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './diagnostics.js';
import type { PlanItem } from './events.js';
import { readManifest, type InstalledEntry } from './manifest.js';
import type { Project } from './project.js';

export interface BuildRequest {
  name: string;
  /** `<pkg>-no-deps`: build just this package, unconditionally, as Sage does. */
  noDeps: boolean;
}

/** Every package the requests need: the requested ones and, unless -no-deps, all their dependencies. */
export function closure(project: Project, requests: BuildRequest[]): Set<string> {
  const need = new Set<string>(requests.filter((r) => r.noDeps).map((r) => r.name));
  const seen = new Set<string>();
  const stack = requests.filter((r) => !r.noDeps).map((r) => r.name);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    need.add(n);
    const d = project.deps.get(n)!;
    stack.push(...d.normal, ...d.orderOnly);
  }
  return need;
}

export function makePlan(project: Project, installed: Map<string, InstalledEntry[]>, requests: BuildRequest[]): PlanItem[] {
  const need = closure(project, requests);
  const forced = new Set(requests.filter((r) => r.noDeps).map((r) => r.name));
  const items = new Map<string, PlanItem>();
  const out: PlanItem[] = [];
  const stampTime = (name: string): number | undefined => {
    const r = project.recipes.get(name)!;
    return installed.get(name)?.find((e) => e.version === r.version)?.mtimeMs;
  };
  for (const name of project.order) {
    if (!need.has(name)) continue;
    const r = project.recipes.get(name)!;
    const d = project.deps.get(name)!;
    const reasons: string[] = [];
    let action: PlanItem['action'] = 'build';
    if (r.kind === 'none') {
      action = 'dummy';
    } else if (forced.has(name)) {
      reasons.push('requested with -no-deps');
    } else {
      const mine = stampTime(name);
      if (d.force) reasons.push('depends on FORCE (always rebuilt)');
      const others = (installed.get(name) ?? []).map((e) => e.version);
      if (mine === undefined) reasons.push(others.length ? `version ${others.join(', ')} -> ${r.version}` : 'not installed');
      if (others.length) {
        for (const dep of d.normal) {
          const di = items.get(dep);
          if (di?.action === 'build') reasons.push(`dependency ${dep} rebuilt`);
          else if (mine !== undefined && di?.action === 'up-to-date' && (stampTime(dep) ?? 0) > mine) reasons.push(`dependency ${dep} was installed after it`);
        }
      }
      if (mine !== undefined) {
        for (const f of d.files) {
          let m: number;
          try {
            m = statSync(f).mtimeMs;
          } catch {
            throw new UserError({ file: path.join(r.dir, 'dependencies'), line: 1, message: `file prerequisite ${f} does not exist`, hint: 'fix the path (SAGE_SRC is set by `sage_src:` in build.config.yaml)' });
          }
          if (m > mine) reasons.push(`file ${f} changed`);
        }
      }
      if (mine !== undefined && !reasons.length && project.checkFor(name) && r.scripts.check) {
        // Checks were asked for: a package installed without a passing check is rebuilt and checked.
        const file = installed.get(name)!.find((e) => e.version === r.version)!.file;
        const result = readManifest(file).test_result;
        if (result !== 'passed') reasons.push(`checks requested; last test_result: ${result || 'none'}`);
      }
      if (!reasons.length) action = 'up-to-date';
    }
    const item: PlanItem = { name, version: r.version, action, reasons };
    items.set(name, item);
    out.push(item);
  }
  return out;
}
