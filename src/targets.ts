// Turns command-line targets into an ordered list of actions, validating names.
import { UserError, closest, type Diagnostic } from './diagnostics.js';
import type { BuildRequest } from './plan.js';

export type Action =
  | { kind: 'build'; requests: BuildRequest[] }
  | { kind: 'clean'; name: string }
  /** `names`: the packages to report on (none: every package). */
  | { kind: 'list'; names: string[] }
  | { kind: 'wheelhouse-index' }
  | { kind: 'status'; names: string[] }
  | { kind: 'configure' }
  | { kind: 'download'; requests: BuildRequest[] };

export const SPECIAL_TARGETS = ['all', 'list', 'status', 'configure', 'download', 'watch', 'wheelhouse-index', 'graph', 'why', 'completion'];

/** Commands that take the rest of the command line as their own arguments, so they come first (main.ts runs them). */
export const LEADING_COMMANDS = ['watch', 'graph', 'why', 'completion'];

/**
 * `known` are recipe names; `installed` are names with a manifest (a package removed from the
 * tree can still be cleaned, as Sage's %-uninstall allows).
 */
export function parseTargets(targets: string[], known: Set<string>, allTargets: () => string[], installed: Set<string>): Action[] {
  const actions: Action[] = [];
  const diags: Diagnostic[] = [];
  const addBuild = (r: BuildRequest[]) => {
    const last = actions[actions.length - 1];
    if (last?.kind === 'build') last.requests.push(...r);
    else actions.push({ kind: 'build', requests: r });
  };
  const unknown = (t: string, name: string) => {
    const near = closest(t, [...SPECIAL_TARGETS, ...known]) ?? closest(name, known);
    diags.push({ message: `unknown target '${t}': no package '${name}' in the recipe tree`, hint: near ? `did you mean '${near}'?` : "run 'sagebuild list' for the package names" });
  };
  const dl = targets.indexOf('download');
  if (dl >= 0) {
    // `download [pkg...|all]`: the rest of the command line names what to download.
    const rest = parseTargets(targets.slice(dl + 1).length ? targets.slice(dl + 1) : ['all'], known, allTargets, new Set());
    const requests = rest.flatMap((a) => (a.kind === 'build' ? a.requests : []));
    if (rest.some((a) => a.kind !== 'build')) diags.push({ message: "after 'download' name packages or 'all'" });
    if (diags.length) throw new UserError(diags);
    return [...parseTargets(targets.slice(0, dl), known, allTargets, installed), { kind: 'download', requests }];
  }
  // The names right after `status`/`list` are what the query reports on, never build targets.
  let query: { names: string[] } | null = null;
  for (const t of targets) {
    if (query && /^[a-z0-9_]+$/.test(t) && (t === 'all' || !SPECIAL_TARGETS.includes(t))) {
      if (t === 'all') continue; // every package: the query's default
      if (known.has(t) || installed.has(t)) query.names.push(t);
      else unknown(t, t);
      continue;
    }
    query = null;
    if (LEADING_COMMANDS.includes(t)) {
      diags.push({ message: `'${t}' must come first: sagebuild ${t} ${t === 'why' ? 'A B' : t === 'completion' ? 'bash|zsh' : '[targets]'}` });
      continue;
    }
    if (t === 'all') {
      addBuild(allTargets().map((name) => ({ name, noDeps: false })));
      continue;
    }
    // `configure` is the command even in Sage's tree, whose base package `configure` cannot be built.
    if (t === 'list' || t === 'status') {
      query = { names: [] };
      actions.push({ kind: t, names: query.names });
      continue;
    }
    if (t === 'wheelhouse-index' || t === 'configure') {
      actions.push({ kind: t });
      continue;
    }
    const m = /^([a-z0-9_]+)-(no-deps|clean|uninstall)$/.exec(t);
    if (m) {
      const [, name, what] = m as unknown as [string, string, string];
      if (what === 'no-deps') {
        if (known.has(name)) addBuild([{ name, noDeps: true }]);
        else unknown(t, name);
      } else if (known.has(name) || installed.has(name)) {
        actions.push({ kind: 'clean', name });
      } else unknown(t, name);
      continue;
    }
    if (known.has(t)) addBuild([{ name: t, noDeps: false }]);
    else unknown(t, t);
  }
  if (diags.length) throw new UserError(diags);
  return actions;
}
