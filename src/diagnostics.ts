// Errors the user must fix (bad config, bad recipes, bad targets). They carry a location and a
// hint, are collected rather than thrown one at a time, and map to exit code 2.

export interface Diagnostic {
  file?: string;
  line?: number;
  col?: number;
  message: string;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  let where = '';
  if (d.file) {
    where = d.file;
    if (d.line !== undefined) where += `:${d.line}`;
    if (d.line !== undefined && d.col !== undefined) where += `:${d.col}`;
    where += ': ';
  }
  let s = `${where}error: ${d.message}`;
  if (d.hint) s += `\n  hint: ${d.hint}`;
  return s;
}

/** Thrown when analysis found problems; carries every diagnostic found, not just the first. */
export class UserError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly exitCode: number;
  constructor(diagnostics: Diagnostic[] | Diagnostic, exitCode = 2) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map(formatDiagnostic).join('\n'));
    this.diagnostics = list;
    this.exitCode = exitCode;
  }
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // Only suggest something reasonably close.
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
