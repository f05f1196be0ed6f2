// Shell word expansion as configure scripts need it: $var, ${var}, ${var:-word}, $?, quotes,
// `cmd` and $(cmd) (bash runs those), field splitting; `test`/`[`; case patterns; heredoc text.

import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { PH_OPEN, Unevaluable, shorten, skipBacktick, skipDouble, skipParens } from './shell-syntax.js';
import type { ShellHost } from './shell-syntax.js';

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

/** A `test` expression test(1) rejects ("too many arguments"): its status is 2. */
class TestSyntax extends Error {}

/** POSIX `test` with -a/-o/!/( ): exit status 0 (true), 1 (false) or 2 (syntax error, as test(1)). */
export async function testStatus(args: string[], host: ShellHost): Promise<number> {
  if (args.length === 0) return 1;
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
    if (a === undefined) throw new TestSyntax('argument expected');
    if (a === '(' && args.length - pos > 1) {
      pos++;
      const v = await orExpr();
      if (args[pos++] !== ')') throw new TestSyntax("')' expected");
      return v;
    }
    const op = args[pos + 1];
    if (op !== undefined && BINARY.has(op) && args[pos + 2] !== undefined) {
      pos += 3;
      return binary(a, op, args[pos - 1]!, host);
    }
    if (UNARY.has(a) && args[pos + 1] !== undefined) {
      pos += 2;
      return unary(a, args[pos - 1]!, host);
    }
    pos++;
    return a !== '';
  };
  try {
    const v = await orExpr();
    if (pos !== args.length) throw new TestSyntax('too many arguments');
    return v ? 0 : 1;
  } catch (err) {
    if (err instanceof TestSyntax) return 2;
    throw err;
  }
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

async function statOf(p: string, host: ShellHost): Promise<Stats | null> {
  if (!p) return null;
  try {
    return await stat(path.resolve(host.cwd, p));
  } catch {
    return null;
  }
}

export { casePattern } from '../util/glob.js';

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
