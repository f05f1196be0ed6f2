// The POSIX-shell subset found between autoconf macros: if/elif/else/fi, && || !, `;`,
// assignments, `test`/`[`, word expansion with $var, ${var}, "…", '…', `…` and $(…).
// Macro calls arrive as placeholders and run through a hook. Anything else (pipelines,
// subshells, real commands such as `grep -q …` or `cmake -S …`) is handed whole to bash,
// because only a shell runs shell text faithfully; Node evaluates what is trivial.

import { stat } from 'node:fs/promises';
import path from 'node:path';

export const PH_OPEN = '\u0001';
export const PH_CLOSE = '\u0002';
const PLACEHOLDER = /^\u0001(\d+)\u0002$/;

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

type Tok =
  | { t: 'word'; v: string; start: number; end: number }
  | { t: 'op'; v: string; start: number; end: number };

interface Simple { k: 'simple'; words: string[]; raw: string; start: number }
interface If { k: 'if'; clauses: { cond: Seq; body: Seq }[]; otherwise: Seq | null }
interface External { k: 'external'; raw: string; start: number }
type Cmd = Simple | If | External;
interface Pipeline { neg: boolean; cmd: Cmd }
interface AndOr { first: Pipeline; rest: { op: '&&' | '||'; p: Pipeline }[] }
type Seq = AndOr[];

const OPS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '\n'];

/** Tokenize shell text; heredoc bodies are folded into the span of the command that opens them. */
function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let pendingHeredoc: string | null = null;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || (c === '\\' && src[i + 1] === '\n')) {
      i += c === '\\' ? 2 : 1;
      continue;
    }
    if (c === '#' && (i === 0 || /\s|;/.test(src[i - 1]!))) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\n' && pendingHeredoc !== null) {
      const end = heredocEnd(src, i + 1, pendingHeredoc);
      const last = toks[toks.length - 1];
      if (last) last.end = end;
      pendingHeredoc = null;
      toks.push({ t: 'op', v: '\n', start: end, end });
      i = end;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op && !(op === '&' && /[<>]/.test(src[i - 1] ?? ''))) {
      toks.push({ t: 'op', v: op, start: i, end: i + op.length });
      i += op.length;
      continue;
    }
    const end = wordEnd(src, i);
    const v = src.slice(i, end);
    const here = /^<<-?\s*['"]?([A-Za-z_]\w*)/.exec(v);
    if (here) pendingHeredoc = here[1]!;
    toks.push({ t: 'word', v, start: i, end });
    i = end;
  }
  return toks;
}

function heredocEnd(src: string, from: number, delim: string): number {
  let i = from;
  while (i < src.length) {
    const nl = src.indexOf('\n', i);
    const lineEnd = nl < 0 ? src.length : nl;
    if (src.slice(i, lineEnd).trim() === delim) return lineEnd;
    i = lineEnd + 1;
  }
  throw new Unevaluable(`heredoc without closing ${delim}`);
}

/** End of the word starting at `i`: quotes, backticks, $( ) and ${ } keep it together. */
function wordEnd(src: string, i: number): number {
  while (i < src.length) {
    const c = src[i]!;
    if (/[\s;&|()]/.test(c) && !(c === '&' && /[<>]/.test(src[i - 1] ?? ''))) return i;
    if (c === '\\') i += 2;
    else if (c === "'") i = src.indexOf("'", i + 1) + 1 || src.length;
    else if (c === '"') i = skipDouble(src, i);
    else if (c === '`') i = skipBacktick(src, i);
    else if (c === '$' && src[i + 1] === '(') i = skipParens(src, i + 1);
    else if (c === '$' && src[i + 1] === '{') i = src.indexOf('}', i) + 1 || src.length;
    else if (c === '<' && src[i + 1] === '<') i += 2;
    else i++;
  }
  return i;
}

function skipDouble(src: string, i: number): number {
  for (i++; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '`') i = skipBacktick(src, i) - 1;
    else if (c === '$' && src[i + 1] === '(') i = skipParens(src, i + 1) - 1;
    else if (c === '"') return i + 1;
  }
  return i;
}

function skipBacktick(src: string, i: number): number {
  for (i++; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '`') return i + 1;
  }
  return i;
}

/** Past the `)` matching the `(` at `i`, honouring quotes inside. */
function skipParens(src: string, i: number): number {
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

class Parser {
  private pos = 0;
  constructor(private readonly src: string, private readonly toks: Tok[]) {}

  parseAll(): Seq {
    const seq = this.seq(new Set());
    if (this.pos < this.toks.length) throw new Unevaluable(`shell syntax near '${this.peek()?.v}'`);
    return seq;
  }

  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }

  private isKeyword(words: Set<string>): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'word' && words.has(t.v);
  }

  private skipSeparators(): void {
    while (this.peek()?.t === 'op' && [';', '\n', '&'].includes(this.peek()!.v)) this.pos++;
  }

  private seq(stop: Set<string>): Seq {
    const items: AndOr[] = [];
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t || this.isKeyword(stop) || (t.t === 'op' && t.v === ')')) return items;
      items.push(this.andOr());
    }
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: AndOr['rest'] = [];
    for (;;) {
      const t = this.peek();
      if (t?.t !== 'op' || (t.v !== '&&' && t.v !== '||')) return { first, rest };
      this.pos++;
      while (this.peek()?.v === '\n') this.pos++;
      rest.push({ op: t.v, p: this.pipeline() });
    }
  }

  private pipeline(): Pipeline {
    let neg = false;
    if (this.isKeyword(new Set(['!']))) {
      neg = true;
      this.pos++;
    }
    const start = this.peek()?.start ?? this.src.length;
    const cmd = this.command();
    if (this.peek()?.v !== '|') return { neg, cmd };
    // A pipeline is a real-command affair: bash runs the whole of it.
    while (this.peek()?.v === '|') {
      this.pos++;
      this.command();
    }
    const end = this.toks[this.pos - 1]!.end;
    return { neg, cmd: { k: 'external', raw: this.src.slice(start, end), start } };
  }

  private command(): Cmd {
    const t = this.peek();
    if (!t) throw new Unevaluable('shell syntax: command expected at end of text');
    if (t.t === 'word' && t.v === 'if') return this.ifCommand();
    if (t.t === 'op' && t.v === '(') {
      const start = t.start;
      let depth = 0;
      do {
        const u = this.toks[this.pos++];
        if (!u) throw new Unevaluable('shell syntax: unbalanced (');
        if (u.v === '(') depth++;
        if (u.v === ')') depth--;
      } while (depth > 0);
      return { k: 'external', raw: this.src.slice(start, this.toks[this.pos - 1]!.end), start };
    }
    if (t.t === 'word' && ['while', 'for', 'case', 'until', '{'].includes(t.v)) {
      throw new Unevaluable(`shell '${t.v}' compound command`);
    }
    const words: string[] = [];
    const start = t.start;
    let end = t.end;
    // A macro call is a command of its own: m4 expansions end in a newline, even where a
    // `dnl` swallowed the one in the source.
    while (this.peek()?.t === 'word') {
      const w = this.toks[this.pos]!;
      if (PLACEHOLDER.test(w.v) && words.length > 0) break;
      this.pos++;
      words.push(w.v);
      end = w.end;
      if (PLACEHOLDER.test(w.v)) break;
    }
    if (words.length === 0) throw new Unevaluable(`shell syntax near '${t.v}'`);
    return { k: 'simple', words, raw: this.src.slice(start, end), start };
  }

  private ifCommand(): If {
    this.pos++;
    const clauses: If['clauses'] = [];
    let otherwise: Seq | null = null;
    for (;;) {
      const cond = this.seq(new Set(['then']));
      this.expect('then');
      const body = this.seq(new Set(['elif', 'else', 'fi']));
      clauses.push({ cond, body });
      const kw = this.peek();
      this.pos++;
      if (kw?.v === 'elif') continue;
      if (kw?.v === 'else') {
        otherwise = this.seq(new Set(['fi']));
        this.expect('fi');
      } else if (kw?.v !== 'fi') throw new Unevaluable('shell if without fi');
      return { k: 'if', clauses, otherwise };
    }
  }

  private expect(word: string): void {
    if (this.peek()?.v !== word) throw new Unevaluable(`shell syntax: '${word}' expected`);
    this.pos++;
  }
}

/** Run shell text (with macro placeholders); returns the exit status of the last command. */
export async function runShell(src: string, host: ShellHost): Promise<number> {
  const seq = new Parser(src, tokenize(src)).parseAll();
  return runSeq(seq, host);
}

async function runSeq(seq: Seq, host: ShellHost): Promise<number> {
  let status = 0;
  for (const item of seq) status = await runAndOr(item, host);
  return status;
}

async function runAndOr(item: AndOr, host: ShellHost): Promise<number> {
  let status = await runPipeline(item.first, host);
  for (const { op, p } of item.rest) {
    if ((op === '&&') === (status === 0)) status = await runPipeline(p, host);
  }
  return status;
}

async function runPipeline(p: Pipeline, host: ShellHost): Promise<number> {
  const status = await runCmd(p.cmd, host);
  const result = p.neg ? (status === 0 ? 1 : 0) : status;
  host.vars.set('?', String(result));
  return result;
}

async function runCmd(cmd: Cmd, host: ShellHost): Promise<number> {
  if (cmd.k === 'if') {
    for (const c of cmd.clauses) {
      if ((await runSeq(c.cond, host)) === 0) return runSeq(c.body, host);
    }
    return cmd.otherwise ? runSeq(cmd.otherwise, host) : 0;
  }
  host.at?.(cmd.start);
  if (cmd.k === 'external') return runExternal(cmd.raw, host);
  return runSimple(cmd, host);
}

async function runExternal(raw: string, host: ShellHost): Promise<number> {
  if (raw.includes(PH_OPEN)) throw new Unevaluable(`macro inside a shell pipeline or subshell: ${shorten(raw)}`);
  return (await host.runBash(raw)).status;
}

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)=/;

async function runSimple(cmd: Simple, host: ShellHost): Promise<number> {
  const only = cmd.words.length === 1 ? PLACEHOLDER.exec(cmd.words[0]!) : null;
  if (only) return host.runMacro(Number(only[1]));
  if (cmd.raw.includes(PH_OPEN)) throw new Unevaluable(`macro used inside a shell command: ${shorten(cmd.raw)}`);
  const assigns = cmd.words.filter((w, i) => cmd.words.slice(0, i + 1).every((x) => ASSIGN.test(x)));
  if (assigns.length === cmd.words.length) return runAssignments(assigns, host);
  if (assigns.length > 0) return runExternal(cmd.raw, host);
  const fields = await expandWords(withoutRedirections(cmd.words), host);
  return runBuiltinOr(fields, cmd.raw, host);
}

/** Builtins ignore redirections: drop `>file`, `2>&1`, and `>& 5` (operator + target). */
function withoutRedirections(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!/^\d*(<|>)/.test(w)) out.push(w);
    else if (/^\d*(<|>>?|>&|<&)$/.test(w)) i++;
  }
  return out;
}

async function runAssignments(words: string[], host: ShellHost): Promise<number> {
  let status = 0;
  for (const w of words) {
    const m = ASSIGN.exec(w)!;
    const { value, subStatus } = await expandJoined(w.slice(m[0].length), host);
    host.vars.set(m[1]!, value);
    if (subStatus !== null) status = subStatus;
  }
  return status;
}

async function runBuiltinOr(fields: string[], raw: string, host: ShellHost): Promise<number> {
  const [name, ...args] = fields;
  switch (name) {
    case undefined:
    case ':':
    case 'true':
      return 0;
    case 'false':
      return 1;
    case 'break':
      throw new BreakSignal();
    case 'test':
      return (await evalTest(args, host)) ? 0 : 1;
    case '[':
      if (args[args.length - 1] !== ']') throw new Unevaluable(`'[' without ']': ${shorten(raw)}`);
      return (await evalTest(args.slice(0, -1), host)) ? 0 : 1;
    case 'echo':
    case 'printf':
      // Only messages (to the log or the terminal); command substitutions use bash.
      return 0;
    case 'export':
      return runAssignments(args.filter((a) => ASSIGN.test(a)), host);
    case 'exit':
      throw new Unevaluable(`shell exit: ${shorten(raw)}`);
    default:
      return runExternal(raw, host);
  }
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

// ---- word expansion --------------------------------------------------------------------

interface Piece { text: string; split: boolean }

/** Expand words into fields: unquoted expansions are split at whitespace, empty ones vanish. */
export async function expandWords(words: string[], host: ShellHost): Promise<string[]> {
  const fields: string[] = [];
  for (const w of words) fields.push(...fieldsOf(await expandPieces(w, host)));
  return fields;
}

/** Expand one word without field splitting (assignments, case words, AC macro arguments). */
export async function expandJoined(word: string, host: ShellHost): Promise<{ value: string; subStatus: number | null }> {
  let subStatus: number | null = null;
  const pieces = await expandPieces(word, host, (s) => (subStatus = s));
  return { value: pieces.map((p) => p.text).join(''), subStatus };
}

function fieldsOf(pieces: Piece[]): string[] {
  const fields: string[] = [];
  let cur: string | null = null;
  for (const p of pieces) {
    if (!p.split) {
      cur = (cur ?? '') + p.text;
      continue;
    }
    const parts = p.text.split(/[ \t\n]+/);
    parts.forEach((part, i) => {
      if (i > 0 && cur !== null) {
        fields.push(cur);
        cur = null;
      }
      if (part) cur = (cur ?? '') + part;
    });
  }
  if (cur !== null) fields.push(cur);
  return fields;
}

async function expandPieces(word: string, host: ShellHost, onSub?: (status: number) => void): Promise<Piece[]> {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < word.length) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      pieces.push({ text: word.slice(i + 1, end < 0 ? word.length : end), split: false });
      i = end < 0 ? word.length : end + 1;
    } else if (c === '"' || (c === '$' && word[i + 1] === '"')) {
      const open = c === '"' ? i : i + 1;
      const end = skipDouble(word, open);
      pieces.push({ text: await expandDouble(word.slice(open + 1, end - 1), host, onSub), split: false });
      i = end;
    } else if (c === '\\') {
      pieces.push({ text: word[i + 1] ?? '', split: false });
      i += 2;
    } else if (c === '$' || c === '`') {
      const { text, end } = await expandDollar(word, i, host, onSub);
      pieces.push({ text, split: true });
      i = end;
    } else {
      pieces.push({ text: c, split: false });
      i++;
    }
  }
  return pieces;
}

async function expandDouble(inner: string, host: ShellHost, onSub?: (s: number) => void): Promise<string> {
  let out = '';
  let i = 0;
  while (i < inner.length) {
    const c = inner[i]!;
    if (c === '\\' && /[$`"\\\n]/.test(inner[i + 1] ?? '')) {
      out += inner[i + 1] === '\n' ? '' : inner[i + 1];
      i += 2;
    } else if (c === '$' || c === '`') {
      const { text, end } = await expandDollar(inner, i, host, onSub);
      out += text;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** `$name`, `${name}`, `${name:-word}`, `$?`, `$(cmd)`, `` `cmd` `` at `i`. */
async function expandDollar(
  s: string,
  i: number,
  host: ShellHost,
  onSub?: (s: number) => void,
): Promise<{ text: string; end: number }> {
  if (s[i] === '`') {
    const end = skipBacktick(s, i);
    const inner = s.slice(i + 1, end - 1).replace(/\\([`$\\])/g, '$1');
    return { text: await commandSubst(inner, host, onSub), end };
  }
  const next = s[i + 1];
  if (next === '(') {
    const end = skipParens(s, i + 1);
    return { text: await commandSubst(s.slice(i + 2, end - 1), host, onSub), end };
  }
  if (next === '{') {
    const close = s.indexOf('}', i);
    const body = s.slice(i + 2, close);
    const m = /^([A-Za-z_]\w*)(?::?([-=+])(.*))?$/.exec(body);
    if (!m) throw new Unevaluable(`shell parameter expansion \${${body}}`);
    const val = host.vars.get(m[1]!) ?? '';
    if (m[2] === '-' || m[2] === '=') return { text: val || (await expandJoined(m[3] ?? '', host)).value, end: close + 1 };
    if (m[2] === '+') return { text: val ? (await expandJoined(m[3] ?? '', host)).value : '', end: close + 1 };
    return { text: val, end: close + 1 };
  }
  const m = /^([A-Za-z_]\w*|[0-9?#@*$!])/.exec(s.slice(i + 1));
  if (!m) return { text: '$', end: i + 1 };
  const name = m[1]!;
  return { text: /^[0-9#@*!$]$/.test(name) ? '' : (host.vars.get(name) ?? ''), end: i + 1 + name.length };
}

async function commandSubst(script: string, host: ShellHost, onSub?: (s: number) => void): Promise<string> {
  if (script.includes(PH_OPEN)) throw new Unevaluable(`macro inside a command substitution: ${shorten(script)}`);
  const { status, stdout } = await host.runBash(script);
  onSub?.(status);
  return stdout.replace(/\n+$/, '');
}

// ---- test / [ --------------------------------------------------------------------------

/** POSIX `test` with -a/-o/!/( ): the forms configure scripts use. */
export async function evalTest(args: string[], host: ShellHost): Promise<boolean> {
  let pos = 0;
  const peek = (): string | undefined => args[pos];
  const orExpr = async (): Promise<boolean> => {
    let v = await andExpr();
    while (peek() === '-o') {
      pos++;
      const r = await andExpr();
      v = v || r;
    }
    return v;
  };
  const andExpr = async (): Promise<boolean> => {
    let v = await notExpr();
    while (peek() === '-a') {
      pos++;
      const r = await notExpr();
      v = v && r;
    }
    return v;
  };
  const notExpr = async (): Promise<boolean> => {
    if (peek() === '!' && args.length - pos > 1) {
      pos++;
      return !(await notExpr());
    }
    return primary();
  };
  const primary = async (): Promise<boolean> => {
    const a = args[pos];
    if (a === '(' ) {
      pos++;
      const v = await orExpr();
      pos++;
      return v;
    }
    const op = args[pos + 1];
    if (op !== undefined && BINARY.has(op) && pos + 2 < args.length + 0 && args[pos + 2] !== undefined) {
      pos += 3;
      return binary(a ?? '', op, args[pos - 1]!, host);
    }
    if (a !== undefined && UNARY.has(a) && args[pos + 1] !== undefined) {
      pos += 2;
      return unary(a, args[pos - 1]!, host);
    }
    pos++;
    return (a ?? '') !== '';
  };
  if (args.length === 0) return false;
  return orExpr();
}

const BINARY = new Set(['=', '==', '!=', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-ef', '-nt', '-ot']);
const UNARY = new Set(['-z', '-n', '-f', '-x', '-d', '-e', '-s', '-r', '-w', '-L', '-h']);

async function binary(a: string, op: string, b: string, host: ShellHost): Promise<boolean> {
  switch (op) {
    case '=':
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '-ef': {
      const [x, y] = await Promise.all([statOf(a, host), statOf(b, host)]);
      return x !== null && y !== null && x.ino === y.ino && x.dev === y.dev;
    }
    case '-nt':
    case '-ot':
      throw new Unevaluable(`test ${op}`);
    default: {
      const [x, y] = [Number(a), Number(b)];
      if (!Number.isInteger(x) || !Number.isInteger(y) || a.trim() === '' || b.trim() === '') {
        return false; // test prints "integer expression expected" and fails
      }
      return { '-eq': x === y, '-ne': x !== y, '-lt': x < y, '-le': x <= y, '-gt': x > y, '-ge': x >= y }[op] ?? false;
    }
  }
}

async function unary(op: string, arg: string, host: ShellHost): Promise<boolean> {
  if (op === '-z') return arg === '';
  if (op === '-n') return arg !== '';
  const st = await statOf(arg, host);
  if (!st) return false;
  switch (op) {
    case '-f':
      return st.isFile();
    case '-d':
      return st.isDirectory();
    case '-x':
      return (st.mode & 0o111) !== 0;
    case '-s':
      return st.size > 0;
    default:
      return true;
  }
}

async function statOf(p: string, host: ShellHost): Promise<import('node:fs').Stats | null> {
  if (!p) return null;
  try {
    return await stat(path.resolve(host.cwd, p));
  } catch {
    return null;
  }
}

/** Shell `case` pattern (with `|` alternatives) as a RegExp. */
export function casePattern(pattern: string): RegExp {
  const alts = pattern.split('|').map((alt) => {
    let re = '';
    for (let i = 0; i < alt.length; i++) {
      const c = alt[i]!;
      if (c === '*') re += '.*';
      else if (c === '?') re += '.';
      else if (c === '[') {
        const close = alt.indexOf(']', i + 1);
        if (close < 0) re += '\\[';
        else {
          re += `[${alt.slice(i + 1, close).replace(/^!/, '^')}]`;
          i = close;
        }
      } else if (c === '\\') re += `\\${alt[++i] ?? ''}`;
      else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
    }
    return re;
  });
  return new RegExp(`^(?:${alts.join('|')})$`, 's');
}

/** Text of an unquoted heredoc (how autoconf writes conftest.c): $var, ${var}, `cmd` expand; `\$`, `\``, `\\` unescape. */
export async function expandHeredoc(text: string, host: ShellHost): Promise<string> {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && /[$`\\\n]/.test(text[i + 1] ?? '')) {
      out += text[i + 1] === '\n' ? '' : text[i + 1];
      i += 2;
    } else if ((c === '$' && /[A-Za-z_{(]/.test(text[i + 1] ?? '')) || c === '`') {
      const { text: t, end } = await expandDollar(text, i, host);
      out += t;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
