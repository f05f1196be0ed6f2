// The POSIX-shell subset found between autoconf macros: if/elif/else/fi, && || !, `;`,
// assignments, `test`/`[`, word expansion with $var, ${var}, "…", '…', `…` and $(…).
// Macro calls arrive as placeholders and run through a hook. Anything else (pipelines,
// subshells, real commands such as `grep -q …` or `cmake -S …`) is handed whole to bash,
// because only a shell runs shell text faithfully; Node evaluates what is trivial.

import { BreakSignal, PH_OPEN, PLACEHOLDER, Unevaluable, shorten, skipBacktick, skipDouble, skipParens } from './shell-syntax.js';
import type { ShellHost } from './shell-syntax.js';
import { expandJoined, expandWords, testStatus } from './shell-expand.js';

export { BreakSignal, PH_CLOSE, PH_OPEN, Unevaluable } from './shell-syntax.js';
export type { ShellHost } from './shell-syntax.js';
export { casePattern, expandHeredoc, expandJoined } from './shell-expand.js';

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
  const words = withoutRedirections(cmd.words);
  const fields = await expandWords(words, host);
  // `echo … >file` writes a file: with a redirection, echo/printf are real commands.
  if ((fields[0] === 'echo' || fields[0] === 'printf') && words.length !== cmd.words.length) return runExternal(cmd.raw, host);
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
      return testStatus(args, host);
    case '[':
      if (args[args.length - 1] !== ']') throw new Unevaluable(`'[' without ']': ${shorten(raw)}`);
      return testStatus(args.slice(0, -1), host);
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

