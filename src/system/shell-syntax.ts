// Shared pieces of the shell subset: the host interface, the errors that stop evaluation,
// macro placeholders, and the scanners that find where quoted text and substitutions end.

export const PH_OPEN = '\u0001';
export const PH_CLOSE = '\u0002';
export const PLACEHOLDER = /^\u0001(\d+)\u0002$/;

/** What the interpreter needs from its host: macros, real commands, variables. */
export interface ShellHost {
  vars: Map<string, string>;
  cwd: string;
  runMacro(index: number): Promise<number>;
  /** Called with the source offset of each command before it runs (for line numbers). */
  at?(offset: number): void;
  /** Run `script` with bash (variables exported); returns status and stdout. */
  runBash(script: string): Promise<{ status: number; stdout: string }>;
}

/** A construct the evaluator cannot run: the package stays undecided. */
export class Unevaluable extends Error {}

/** `break` inside a loop macro (AC_CHECK_HEADERS, AC_PATH_PROGS_FEATURE_CHECK, m4_foreach). */
export class BreakSignal extends Error {}

export function skipDouble(src: string, i: number): number {
  for (i++; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '`') i = skipBacktick(src, i) - 1;
    else if (c === '$' && src[i + 1] === '(') i = skipParens(src, i + 1) - 1;
    else if (c === '"') return i + 1;
  }
  return i;
}

export function skipBacktick(src: string, i: number): number {
  for (i++; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '`') return i + 1;
  }
  return i;
}

/** Past the `)` matching the `(` at `i`, honouring quotes inside. */
export function skipParens(src: string, i: number): number {
  let depth = 0;
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === "'") i = src.indexOf("'", i + 1);
    else if (c === '"') i = skipDouble(src, i) - 1;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
    if (i < 0) break;
  }
  return src.length;
}

export function shorten(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
