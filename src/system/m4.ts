// A tolerant reader for the m4/autoconf subset of Sage's spkg-configure.m4 files.
// Not an m4 interpreter: it splits text into plain text, quoted groups and macro calls,
// keeping each argument's raw text so that evaluation can strip quotes level by level
// exactly when m4 would (argument collection strips one level, rescanning strips the next).

export type M4Node =
  | { kind: 'text'; text: string; line: number }
  | { kind: 'quoted'; inner: string; line: number }
  | { kind: 'macro'; name: string; args: M4Arg[] | null; line: number; raw: string };

/** One macro argument: raw text (quotes intact) and the line it starts on. */
export interface M4Arg {
  raw: string;
  line: number;
}

/** Where a piece of text comes from, for messages such as `gmp/spkg-configure.m4:12`. */
export interface M4Origin {
  file: string;
  line: number;
}

export class M4SyntaxError extends Error {
  constructor(origin: M4Origin, message: string) {
    super(`${origin.file}:${origin.line}: ${message}`);
  }
}

const IDENT_START = /[A-Za-z_]/;
// m4 expands only defined names; an unknown all-caps name with `(` is taken to be a macro we
// lack (and reported), while `find_package(` in a heredoc is plain text.
const LOOKS_LIKE_MACRO = /^[A-Z][A-Z0-9]*_[A-Z0-9_]*$/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

/**
 * Split `text` (starting at `origin.line`) into nodes. `isMacro` says which bare names
 * are macros; a name directly followed by `(` is a call if it is one or looks like one (all caps).
 * Unquoted `#` starts a comment to the end of the line (kept as text, not scanned);
 * `dnl` drops everything up to and including the next newline.
 */
export function parseM4(text: string, origin: M4Origin, isMacro: (name: string) => boolean): M4Node[] {
  const nodes: M4Node[] = [];
  let buf = '';
  let line = origin.line;
  let bufLine = line;
  let i = 0;
  const flush = (): void => {
    if (buf) nodes.push({ kind: 'text', text: buf, line: bufLine });
    buf = '';
  };
  const add = (s: string): void => {
    if (!buf) bufLine = line;
    buf += s;
  };
  // changequote(<<, >>) … changequote([, ]) (msolve): while other quotes are in force, brackets
  // are plain text and the new quotes delimit literal text. Macro arguments keep [ ] quoting.
  let quotes: [string, string] | null = null;
  while (i < text.length) {
    const c = text[i]!;
    if (quotes && text.startsWith(quotes[0], i)) {
      const end = text.indexOf(quotes[1], i + quotes[0].length);
      if (end < 0) throw new M4SyntaxError({ ...origin, line }, `unbalanced ${quotes[0]} (no closing ${quotes[1]})`);
      flush();
      nodes.push({ kind: 'quoted', inner: text.slice(i + quotes[0].length, end), line });
      line += countLines(text, i, end);
      i = end + quotes[1].length;
    } else if (quotes && (c === '[' || c === ']')) {
      add(c);
      i++;
    } else if (text.startsWith('changequote(', i) && (i === 0 || !IDENT_CHAR.test(text[i - 1]!))) {
      const close = text.indexOf(')', i);
      const args = text.slice(i + 'changequote('.length, close < 0 ? text.length : close).split(',').map((q) => q.trim());
      if (close < 0 || args.length !== 2 || !args[0] || !args[1]) throw new M4SyntaxError({ ...origin, line }, 'changequote needs two quote strings');
      quotes = args[0] === '[' && args[1] === ']' ? null : [args[0], args[1]];
      flush();
      i = close + 1;
    } else if (c === QUOTE_MARK) {
      i++;
    } else if (c === '[') {
      const end = matchQuote(text, i, { ...origin, line });
      flush();
      nodes.push({ kind: 'quoted', inner: stripMarks(text.slice(i + 1, end)), line });
      line += countLines(text, i, end + 1);
      i = end + 1;
    } else if (c === '#') {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      add(text.slice(i, end));
      i = end;
    } else if (IDENT_START.test(c) && (i === 0 || !IDENT_CHAR.test(text[i - 1]!))) {
      let j = i + 1;
      while (j < text.length && IDENT_CHAR.test(text[j]!)) j++;
      const name = text.slice(i, j);
      if (name === 'dnl') {
        flush(); // the next text starts on a later line than this text's newlines say
        const nl = text.indexOf('\n', j);
        line += nl < 0 ? 0 : 1;
        i = nl < 0 ? text.length : nl + 1;
      } else if (text[j] === '(' && (isMacro(name) || LOOKS_LIKE_MACRO.test(name))) {
        const { args, end } = readArgs(text, j, { ...origin, line });
        flush();
        nodes.push({ kind: 'macro', name, args, line, raw: text.slice(i, end) });
        line += countLines(text, i, end);
        i = end;
      } else if (isMacro(name)) {
        flush();
        nodes.push({ kind: 'macro', name, args: null, line, raw: name });
        i = j;
      } else {
        add(name);
        i = j;
      }
    } else {
      add(c);
      if (c === '\n') line++;
      i++;
    }
  }
  flush();
  return nodes;
}

/** Index of the `]` closing the `[` at `start` (quotes nest). */
function matchQuote(text: string, start: number, origin: M4Origin): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']' && --depth === 0) return i;
  }
  throw new M4SyntaxError(origin, 'unbalanced [ (no closing ])');
}

/** Arguments of a call whose `(` is at `open`: split at top-level commas, leading whitespace dropped (as m4 does). */
function readArgs(text: string, open: number, origin: M4Origin): { args: M4Arg[]; end: number } {
  const args: M4Arg[] = [];
  let line = origin.line;
  let i = open + 1;
  let start = i;
  let startLine = line;
  let parens = 0;
  const push = (end: number): void => {
    const rawWithSpace = text.slice(start, end);
    const lead = rawWithSpace.length - rawWithSpace.trimStart().length;
    args.push({ raw: rawWithSpace.slice(lead), line: startLine + countLines(text, start, start + lead) });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '[') {
      const end = matchQuote(text, i, { ...origin, line });
      line += countLines(text, i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === '#') {
      // m4 comments are recognized inside unquoted arguments too.
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === 'd' && text.startsWith('dnl', i) && !IDENT_CHAR.test(text[i - 1] ?? ' ') && !IDENT_CHAR.test(text[i + 3] ?? ' ')) {
      // dnl inside an unquoted argument: its comment may hold commas or parentheses.
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '\n') line++;
    if (c === '(') parens++;
    else if (c === ')' && parens > 0) parens--;
    else if (c === ')' || (c === ',' && parens === 0)) {
      push(i);
      if (c === ')') return { args, end: i + 1 };
      start = i + 1;
      startLine = line;
    }
    i++;
  }
  throw new M4SyntaxError(origin, 'unterminated macro call (no closing ))');
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === '\n') n++;
  return n;
}

/**
 * Where m4 removed a quote: a token boundary for the next scan (`[FOURTITWO_]m4_toupper(x)` is
 * text followed by a macro call, `PALP[]prog` two words), dropped from all output.
 */
export const QUOTE_MARK = '\u0003';

/** An argument's value after m4 collects it, to be scanned again: top-level quotes become QUOTE_MARKs. */
export function argSource(raw: string): string {
  let out = '';
  let depth = 0;
  for (const c of raw) {
    if (c === '[') {
      out += depth++ > 0 ? c : QUOTE_MARK;
    } else if (c === ']' && depth > 0) {
      out += --depth > 0 ? c : QUOTE_MARK;
    } else out += c;
  }
  return trimTrailingSpace(out);
}

/** An argument's value as plain text: each top-level quoted group loses its brackets. */
export function argValue(raw: string): string {
  return stripMarks(argSource(raw));
}

export function stripMarks(s: string): string {
  return s.replaceAll(QUOTE_MARK, '');
}

/** m4 keeps trailing whitespace of arguments; autoconf code never depends on it, so drop it. */
function trimTrailingSpace(s: string): string {
  return s.replace(/\s+$/, '');
}

/** Autoconf quadrigraphs, turned into characters at the very end (as autom4te does). */
export function unQuadrigraph(s: string): string {
  return s
    .replaceAll('@<:@', '[')
    .replaceAll('@:>@', ']')
    .replaceAll('@S|@', '$')
    .replaceAll('@%:@', '#')
    .replaceAll('@&t@', '');
}

/** Split a comma list (m4_foreach) at top-level commas; items are argument values. */
export function splitCommaList(value: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of value) {
    if (c === '[') depth++;
    else if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      items.push(argValue(cur.trimStart()));
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) items.push(argValue(cur.trimStart()));
  return items;
}

/** Replace whole-word occurrences of `name` in `body` (m4_foreach's loop variable). */
export function substituteWord(body: string, name: string, value: string): string {
  const re = new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`, 'g');
  return body.replace(re, () => value);
}

/** `$1`…`$9`, `$#`, `$@` in an AC_DEFUN body, textually (m4's expansion of a user macro). */
export function substituteParams(body: string, args: string[]): string {
  return body.replace(/\$([0-9#@*])/g, (_m, p: string) => {
    if (p === '#') return String(args.length);
    if (p === '@' || p === '*') return args.map((a) => `[${a}]`).join(',');
    if (p === '0') return '';
    return args[Number(p) - 1] ?? '';
  });
}
