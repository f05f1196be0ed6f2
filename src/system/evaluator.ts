// Evaluation of one package's spkg-configure.m4: quotes are stripped level by level, macro
// calls dispatch to handlers (control flow, variables and m4 here; probes in probes.ts),
// shell text in between runs in shell.ts. Shell variables live in one map per package, as
// the one configure shell would hold them; other packages' results come in via AC_REQUIRE.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { argSource, argValue, parseM4, stripMarks, splitCommaList, substituteParams, substituteWord, unQuadrigraph } from './m4.js';
import type { M4Arg, M4Node } from './m4.js';
import { BreakSignal, PH_CLOSE, PH_OPEN, Unevaluable, casePattern, expandHeredoc, expandJoined, runShell } from './shell.js';
import type { ShellHost } from './shell.js';
import type { Lang, Prober } from './checks.js';

/** AC_MSG_ERROR: Sage's configure would stop here. */
export class ConfigureError extends Error {}

/** What other packages see of a package: its three configure variables. */
export interface PackageVars {
  install: string;
  require: string;
  useSystem: string;
}

export interface UserMacro {
  body: string;
  file: string;
  line: number;
}

/** State shared by all package evaluations of one run. */
export interface World {
  prober: Prober;
  userMacros: Map<string, UserMacro>;
  /** Wait for another package's configure result (AC_REQUIRE / SAGE_SPKG_DEPCHECK). */
  requirePackage(from: string, target: string): Promise<PackageVars>;
  /** Package name for `SAGE_SPKG_CONFIGURE_<UPPER>`. */
  packageByUpper: Map<string, string>;
  /** SAGE_ROOT of the recipe tree, for m4_include; null when the packages are not in a Sage tree. */
  root: string | null;
  /** Compiler facts computed once: is the C / C++ compiler GNU-compatible. */
  isGnu(lang: Lang): Promise<boolean>;
}

/** Shell variables; writes to `sage_spkg_install_*` are reported (the evidence hooks). */
export class Vars extends Map<string, string> {
  onSet: ((key: string, value: string) => void) | null = null;
  override set(key: string, value: string): this {
    super.set(key, value);
    this.onSet?.(key, value);
    return this;
  }
  /** Set without reporting (values imported from other packages). */
  quietSet(key: string, value: string): void {
    super.set(key, value);
  }
}

export type Handler = (ev: PackageEval, args: M4Arg[], node: M4Node & { kind: 'macro' }) => Promise<number>;

// Bare names (no parentheses) that are macros even when we lack them. Not PKG_ or LIBCURL_:
// $PKG_CONFIG and $LIBCURL_CPPFLAGS are shell variables, and m4 leaves undefined names alone.
const MACRO_PREFIX = /^(AC|AS|AM|AX|m4|_AC|_AS)_/;
const SPKG_TEXT = new Set(['SPKG_NAME', 'SPKG_INSTALL', 'SPKG_REQUIRE', 'SPKG_USE_SYSTEM']);

export class PackageEval {
  readonly vars: Vars;
  // Sage's configure.ac switches to AC_LANG(C++) before SAGE_SPKG_COLLECT; checks start there.
  readonly langs: Lang[] = ['C++'];
  readonly confdefs: string[] = [];
  readonly exports = new Set<string>();
  readonly facts: string[] = [];
  /** "checking …: yes" lines: the evidence when a check was plain shell (kpsewhich, grep…). */
  readonly results: string[] = [];
  /** Writes to other packages' sage_spkg_install_* (linbox's POST sets givaro's, for one). */
  readonly overrides = new Map<string, string>();
  lastFailure: string | null = null;
  installReason: string | null = null;
  /** The install flag was set to yes before any check failed ("default to installing the SPKG"). */
  reasonIsDefault = false;
  checking: string | null = null;
  /** The last "checking …: result" pair, for failures that only shell text reports. */
  lastResult: string | null = null;
  lastVersion: string | null = null;
  /** Where sage_require_<pkg> was last set, for "not required" decisions. */
  requireReason: string | null = null;
  line = 1;
  private readonly pushdefs = new Map<string, string[]>();
  private readonly required = new Set<string>();

  constructor(
    readonly name: string,
    readonly file: string,
    readonly cwd: string,
    readonly world: World,
    readonly handlers: Map<string, Handler>,
    baseVars: Map<string, string>,
  ) {
    this.vars = new Vars(baseVars);
    this.vars.onSet = (k, v) => this.noteSet(k, v);
  }

  get lang(): Lang {
    return this.langs[this.langs.length - 1] ?? 'C';
  }

  where(line = this.line): string {
    return `${this.file}:${line}`;
  }

  /** A failed check, remembered as the likely reason if the package ends up building. */
  fail(what: string): void {
    this.lastFailure = `${what} (${this.where()})`;
    this.failedSinceChecking = true;
  }

  /** Set by fail(); AC_MSG_RESULT([no]) only counts as the failure when no probe reported one. */
  failedSinceChecking = false;

  fact(what: string): void {
    if (!this.facts.includes(what)) this.facts.push(what);
  }

  private noteSet(key: string, value: string): void {
    if (key === `sage_require_${this.name}`) this.requireReason = `${key}=${value}, ${this.where()}`;
    const m = /^sage_spkg_install_(\w+)$/.exec(key);
    if (!m) return;
    if (m[1] !== this.name) {
      if (this.world.packageByUpper.has(m[1]!.toUpperCase())) this.overrides.set(m[1]!, value);
      return;
    }
    if (value === 'yes' && this.installReason === null) {
      const after = this.lastResult ? ` after "${this.lastResult}"` : '';
      this.installReason = this.lastFailure ?? `sets ${key}=yes${after} (${this.where()})`;
      this.reasonIsDefault = this.lastFailure === null;
    }
    if (value !== 'yes') this.installReason = null;
  }

  isMacro(name: string): boolean {
    return (
      this.pushdefs.has(name) ||
      this.handlers.has(name) ||
      this.world.userMacros.has(name) ||
      SPKG_TEXT.has(name) ||
      MACRO_PREFIX.test(name)
    );
  }

  private parse(text: string, line: number): M4Node[] {
    return parseM4(text, { file: this.file, line }, (n) => this.isMacro(n));
  }

  // ---- values of arguments ----------------------------------------------------------

  /** An argument as literal text after m4 (quotes stripped twice, text macros expanded). */
  text(arg: M4Arg | undefined): string {
    if (!arg) return '';
    return unQuadrigraph(this.render(this.parse(argSource(arg.raw), arg.line)));
  }

  private render(nodes: M4Node[]): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'quoted') out += n.inner;
      else out += this.textMacro(n) ?? stripMarks(n.raw);
    }
    return out;
  }

  /** An argument as one shell word: its text after shell expansion ($var, quotes, `cmd`). */
  async word(arg: M4Arg | undefined): Promise<string> {
    return (await expandJoined(this.text(arg).trim(), this.host())).value;
  }

  /** A test program: AC_LANG_PROGRAM etc. expanded, then shell-expanded as autoconf's heredoc is. */
  async program(arg: M4Arg | undefined): Promise<string> {
    return expandHeredoc(this.text(arg), this.host());
  }

  hasCode(arg: M4Arg | undefined): boolean {
    return arg !== undefined && this.text(arg).trim() !== '';
  }

  /** Run an argument as configure code; returns the shell status of its last command. */
  async code(arg: M4Arg | undefined): Promise<number> {
    if (!arg) return 0;
    return this.runText(argSource(arg.raw), arg.line);
  }

  /** Run m4 text as configure code: macros become placeholders that the shell calls back. */
  async runText(text: string, line: number): Promise<number> {
    const nodes = this.parse(text, line);
    const macros: (M4Node & { kind: 'macro' })[] = [];
    let src = '';
    const lines: number[] = []; // source line of each character of src
    const append = (piece: string, from: number, follow: boolean): void => {
      let l = from;
      for (const c of piece) {
        lines.push(l);
        if (follow && c === '\n') l++;
      }
      src += piece;
    };
    for (const n of nodes) {
      if (n.kind === 'text') append(unQuadrigraph(n.text), n.line, true);
      else if (n.kind === 'quoted') append(unQuadrigraph(n.inner), n.line, true);
      else {
        const t = this.textMacro(n);
        if (t !== null) append(t, n.line, false);
        else {
          append(`${PH_OPEN}${macros.length}${PH_CLOSE}`, n.line, false);
          macros.push(n);
        }
      }
    }
    if (!src.trim()) return 0;
    try {
      const host = this.host((i) => this.runMacro(macros[i]!));
      host.at = (offset) => {
        this.line = lines[offset] ?? line;
      };
      return await runShell(src, host);
    } catch (err) {
      if (err instanceof Unevaluable && !/\(\S+:\d+\)$/.test(err.message)) {
        throw new Unevaluable(`${err.message} (${this.where(line)})`);
      }
      throw err;
    }
  }

  host(runMacro: (i: number) => Promise<number> = async () => 0): ShellHost {
    return {
      vars: this.vars,
      cwd: this.cwd,
      runMacro,
      runBash: async (script) => {
        const r = await this.world.prober.bash(script, this.cwd, this.vars);
        return { status: r.status, stdout: r.stdout };
      },
    };
  }

  /** Macros that expand to text rather than run: m4_pushdef names, SPKG_NAME, file descriptors… */
  textMacro(n: M4Node & { kind: 'macro' }): string | null {
    const stack = this.pushdefs.get(n.name);
    if (stack && stack.length > 0) return this.expandDefinition(stack[stack.length - 1]!);
    switch (n.name) {
      case 'SPKG_NAME':
        return this.name;
      case 'SPKG_INSTALL':
        return `sage_spkg_install_${this.name}`;
      case 'SPKG_REQUIRE':
        return `sage_require_${this.name}`;
      case 'SPKG_USE_SYSTEM':
        return `sage_use_system_${this.name}`;
      case 'AS_MESSAGE_LOG_FD':
      case 'AS_MESSAGE_FD':
        return '2';
      case 'AS_DIRNAME':
        return `dirname -- ${this.text(n.args?.[0])}`;
      case 'm4_include':
        return this.include(n.args?.[0]);
      case 'm4_normalize':
        return this.text(n.args?.[0]).replace(/\s+/g, ' ').trim();
      case 'm4_toupper':
        return this.text(n.args?.[0]).toUpperCase();
      case 'm4_tolower':
        return this.text(n.args?.[0]).toLowerCase();
      case 'AC_LANG_PROGRAM':
        return `${this.confdefText()}${this.text(n.args?.[0])}\nint\nmain (void)\n{\n${this.text(n.args?.[1])}\n  ;\n  return 0;\n}\n`;
      case 'AC_LANG_SOURCE':
        return `${this.confdefText()}${this.text(n.args?.[0])}\n`;
      case 'AC_LANG_CALL':
        return `${this.confdefText()}${this.text(n.args?.[0])}\n${externC(this.text(n.args?.[1]), this.lang)}int main (void) { return ${this.text(n.args?.[1])} (); }\n`;
      default:
        return null;
    }
  }

  private depth = 0;

  /** A definition's value is rescanned, as m4 does (MODULES → m4_include(...) → the file's text). */
  private expandDefinition(value: string): string {
    if (this.depth > 20) throw new Unevaluable(`m4 definitions nest too deeply (${this.where()})`);
    this.depth++;
    try {
      return this.render(this.parse(value, this.line));
    } finally {
      this.depth--;
    }
  }

  /** m4_include: a file of the Sage tree (paths are relative to SAGE_ROOT, as configure runs there). */
  private include(arg: M4Arg | undefined): string {
    const rel = this.text(arg).trim();
    if (!this.world.root) throw new Unevaluable(`m4_include(${rel}) without a Sage tree root (${this.where()})`);
    try {
      // Synchronous: m4 text expansion is synchronous here, and these files are a few bytes.
      return readFileSync(path.join(this.world.root, rel), 'utf8');
    } catch {
      throw new Unevaluable(`m4_include(${rel}): no such file (${this.where()})`);
    }
  }

  confdefText(): string {
    return this.confdefs.map((d) => `${d}\n`).join('');
  }

  async runMacro(n: M4Node & { kind: 'macro' }): Promise<number> {
    const saved = this.line;
    this.line = n.line;
    try {
      const handler = this.handlers.get(n.name);
      if (handler) return await handler(this, n.args ?? [], n);
      const user = this.world.userMacros.get(n.name);
      if (user) {
        const body = substituteParams(user.body, (n.args ?? []).map((a) => argSource(a.raw)));
        return await this.runText(body, user.line);
      }
      throw new Unevaluable(`${n.name} (${this.where()})`);
    } finally {
      this.line = saved;
    }
  }

  // ---- m4 definitions ---------------------------------------------------------------

  pushdef(name: string, value: string): void {
    const stack = this.pushdefs.get(name) ?? [];
    stack.push(value);
    this.pushdefs.set(name, stack);
  }

  popdef(name: string): void {
    this.pushdefs.get(name)?.pop();
  }

  /** AC_REQUIRE runs a macro at most once per package (autoconf runs it once per configure). */
  firstRequire(name: string): boolean {
    if (this.required.has(name)) return false;
    this.required.add(name);
    return true;
  }
}

function externC(fn: string, lang: Lang): string {
  return lang === 'C++' ? `extern "C" char ${fn} ();\n` : `char ${fn} (void);\n`;
}

// ---- handlers: control flow, variables, messages, m4 -----------------------------------

const h = new Map<string, Handler>();

h.set('AS_IF', async (ev, a) => {
  for (let i = 0; i + 1 < a.length; i += 2) {
    if ((await ev.code(a[i])) === 0) return ev.code(a[i + 1]);
  }
  return a.length % 2 === 1 ? ev.code(a[a.length - 1]) : 0;
});

h.set('AS_CASE', async (ev, a) => {
  const word = await ev.word(a[0]);
  for (let i = 1; i + 1 < a.length; i += 2) {
    if (casePattern(ev.text(a[i]).trim()).test(word)) return ev.code(a[i + 1]);
  }
  return a.length % 2 === 0 ? ev.code(a[a.length - 1]) : 0;
});

h.set('AS_VAR_SET', async (ev, a) => {
  ev.vars.set(ev.text(a[0]).trim(), await ev.word(a[1]));
  return 0;
});
h.set('AS_VAR_APPEND', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  ev.vars.set(name, (ev.vars.get(name) ?? '') + (await ev.word(a[1])));
  return 0;
});
h.set('AS_VAR_COPY', async (ev, a) => {
  ev.vars.set(ev.text(a[0]).trim(), ev.vars.get(ev.text(a[1]).trim()) ?? '');
  return 0;
});
h.set('AS_VAR_IF', async (ev, a) =>
  (ev.vars.get(ev.text(a[0]).trim()) ?? '') === (await ev.word(a[1])) ? ev.code(a[2]) : ev.code(a[3]),
);
h.set('AS_VAR_SET_IF', async (ev, a) => (ev.vars.has(ev.text(a[0]).trim()) ? ev.code(a[1]) : ev.code(a[2])));

h.set('AC_SUBST', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  if (a.length > 1) ev.vars.set(name, await ev.word(a[1]));
  ev.exports.add(name);
  return 0;
});
h.set('AC_DEFINE', async (ev, a) => {
  ev.confdefs.push(`#define ${ev.text(a[0]).trim()} ${a.length > 1 ? ev.text(a[1]) : '1'}`);
  return 0;
});
h.set('AC_DEFINE_UNQUOTED', h.get('AC_DEFINE')!);

h.set('AC_MSG_CHECKING', async (ev, a) => {
  ev.checking = ev.text(a[0]).trim();
  ev.failedSinceChecking = false;
  return 0;
});
h.set('AC_MSG_RESULT', async (ev, a) => {
  const result = (await ev.word(a[0]).catch(() => ev.text(a[0]))).trim();
  if (ev.checking && /^no\b/.test(result) && !ev.failedSinceChecking) ev.fail(`${ev.checking}: ${result}`);
  if (ev.checking) ev.lastResult = `${ev.checking}: ${result}`;
  if (ev.checking && !/^no\b/.test(result)) ev.results.push(ev.lastResult!);
  ev.checking = null;
  return 0;
});
for (const quiet of ['AC_MSG_NOTICE', 'AC_MSG_WARN', 'AS_BOX', 'AC_CONFIG_COMMANDS', 'AC_ARG_VAR', 'AS_ECHO']) {
  h.set(quiet, async () => 0);
}
h.set('AC_MSG_ERROR', async (ev, a) => {
  throw new ConfigureError(`AC_MSG_ERROR: ${ev.text(a[0]).replace(/\s+/g, ' ').trim()} (${ev.where()})`);
});
h.set('AC_MSG_FAILURE', h.get('AC_MSG_ERROR')!);

h.set('m4_pushdef', async (ev, a) => {
  ev.pushdef(ev.text(a[0]).trim(), argSource(a[1]?.raw ?? ''));
  return 0;
});
h.set('m4_define', h.get('m4_pushdef')!);
h.set('m4_popdef', async (ev, a) => {
  ev.popdef(ev.text(a[0]).trim());
  return 0;
});
h.set('m4_ifval', async (ev, a) => (ev.text(a[0]).trim() ? ev.code(a[1]) : ev.code(a[2])));
h.set('m4_ifvaln', h.get('m4_ifval')!);

/** m4_foreach / m4_foreach_w: the body once per item with the loop name substituted (m4 expansion). */
async function foreach(ev: PackageEval, a: M4Arg[], items: string[]): Promise<number> {
  const name = ev.text(a[0]).trim();
  const body = argSource(a[2]?.raw ?? '');
  let status = 0;
  try {
    for (const item of items) status = await ev.runText(substituteWord(body, name, item), a[2]?.line ?? ev.line);
  } catch (err) {
    // A `break` in an m4 loop body ends it (free_fonts stops at the first font found).
    if (!(err instanceof BreakSignal)) throw err;
  }
  return status;
}
h.set('m4_foreach', async (ev, a) => foreach(ev, a, splitCommaList(argValue(a[1]?.raw ?? ''))));
h.set('m4_foreach_w', async (ev, a) => foreach(ev, a, ev.text(a[1]).split(/\s+/).filter(Boolean)));

h.set('AC_DEFUN', async (ev, a) => {
  const name = ev.text(a[0]).trim();
  if (!ev.handlers.has(name)) ev.world.userMacros.set(name, { body: argSource(a[1]?.raw ?? ''), file: ev.file, line: a[1]?.line ?? ev.line });
  return 0;
});
h.set('AC_DEFUN_ONCE', h.get('AC_DEFUN')!);

h.set('AC_LANG_PUSH', async (ev, a) => {
  ev.langs.push(langOf(ev.text(a[0])));
  return 0;
});
h.set('AC_LANG_POP', async (ev) => {
  if (ev.langs.length > 1) ev.langs.pop();
  return 0;
});
h.set('AC_LANG', async (ev, a) => {
  ev.langs[ev.langs.length - 1] = langOf(ev.text(a[0]));
  return 0;
});

function langOf(s: string): Lang {
  const l = s.trim();
  if (l === 'C' || l === '') return 'C';
  if (l === 'C++') return 'C++';
  throw new Unevaluable(`AC_LANG ${l}`);
}

h.set('AC_CACHE_CHECK', async (ev, a) => {
  ev.checking = ev.text(a[0]).trim();
  const cache = ev.text(a[1]).trim();
  if (!ev.vars.get(cache)) await ev.code(a[2]);
  ev.checking = null;
  return 0;
});
h.set('AC_CACHE_VAL', async (ev, a) => {
  if (!ev.vars.get(ev.text(a[0]).trim())) await ev.code(a[1]);
  return 0;
});

export const coreHandlers = h;
