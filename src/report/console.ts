// Console presentation. Lines (a pipe, a file, CI): Sage-style `[pkg-version] ` prefixed lines,
// failure excerpts, summary. On a terminal (`tty`, under report/live.ts's status line): one line
// per finished package (`✔ gmp-6.3.0 1m34s`, `✘ pari-2.15: ... log: ...`), recipe output only with -v.
// A failure is printed once: its error (red, with the log path relative to the current folder),
// then the log's last lines.
import path from 'node:path';
import { reasonsText } from './reasons.js';
import { formatDuration, paint as makePaint, type Paint } from './style.js';
import type { EventBus, SagebuildEvent } from '../events.js';
import type { Writer } from '../util/io.js';

const TAIL_LINES = 30;

export interface ConsoleOptions {
  /** Print every output line of the recipes (prefixed), as Sage's logger does. */
  verbose: boolean;
  out: Writer;
  err: Writer;
  /** Under a live status line: finished packages one line each, no start lines. */
  tty?: boolean;
  paint?: Paint;
  /** Paths are shown relative to this folder (the command's), when under it. */
  cwd?: string;
  /** With `tty`: the terminal's width (undefined: 80), to which lists of names are wrapped. */
  columns?: () => number | undefined;
}

/** `label` then `words`, wrapped at spaces to `width` columns, continued lines indented. */
export function wrapWords(label: string, words: string[], width: number, indent = '    '): string[] {
  const lines: string[] = [];
  let line = label;
  for (const w of words) {
    if (line.length + 1 + w.length > width && line.trim().length > 0 && line !== indent) {
      lines.push(line);
      line = indent + w;
    } else line += (line === indent || line === '' ? '' : ' ') + w;
  }
  lines.push(line);
  return lines;
}

export class ConsoleReporter {
  readonly #tails = new Map<string, string[]>();
  readonly #out: Writer;
  readonly #err: Writer;
  readonly #p: Paint;

  constructor(bus: EventBus, private readonly o: ConsoleOptions) {
    this.#out = o.out;
    this.#err = o.err;
    this.#p = o.paint ?? makePaint(false);
    bus.on((e) => this.#handle(e));
  }

  #say(s: string): void {
    this.#out.write(s + '\n');
  }

  /** `file` relative to the command's folder when it is under it (shorter to read, and to copy). */
  #rel(file: string): string {
    if (!this.o.cwd) return file;
    const r = path.relative(this.o.cwd, file);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : file;
  }

  #handle(e: SagebuildEvent): void {
    const p = this.#p;
    const tty = this.o.tty === true;
    switch (e.type) {
      case 'warning':
        this.#err.write(`sagebuild: ${p.yellow('warning')}: ${e.message}\n`);
        break;
      case 'info':
        this.#say(`sagebuild: ${e.message}`);
        break;
      case 'plan': {
        const build = e.items.filter((i) => i.action === 'build');
        if (e.dryRun) {
          if (!build.length) this.#say('Nothing to (re)build.');
          for (const i of build) this.#say(`${i.name}: ${reasonsText(i.reasons)}`);
        } else if (!build.length) {
          this.#say('Nothing to (re)build.');
        } else if (tty) {
          // Each package gets its line as it finishes; hundreds of names up front would fill the screen.
          this.#say(`sagebuild: ${build.length} package(s) to build (-n lists them and why)`);
        } else {
          this.#say(`sagebuild: ${build.length} package(s) to build: ${build.map((i) => i.name).join(' ')}`);
        }
        break;
      }
      case 'run-start':
        break;
      case 'pkg-start':
        this.#tails.set(e.id, []);
        if (!tty || this.o.verbose) this.#say(`[${e.id}] building (${reasonsText(e.reasons) || 'requested'}). Log file: ${e.logFile}`);
        break;
      case 'step':
        if (this.o.verbose) this.#say(`[${e.id}] ==> ${e.step}${e.detail ? ` ${e.detail}` : ''}`);
        break;
      case 'output': {
        const t = this.#tails.get(e.id);
        if (t) {
          t.push(e.line);
          if (t.length > TAIL_LINES) t.shift();
        }
        if (this.o.verbose) this.#say(`[${e.id}] ${e.line}`);
        break;
      }
      case 'pkg-done': {
        this.#tails.delete(e.id);
        if (tty) this.#say(`${p.green('✔')} ${e.id} ${e.removed ? 'old install removed (now a dummy package) ' : ''}${p.dim(formatDuration(e.durationMs))}`);
        else this.#say(`[${e.id}] ${p.green(e.removed ? 'old install removed (now a dummy package)' : 'successfully installed')} (${(e.durationMs / 1000).toFixed(1)} s)`);
        break;
      }
      case 'pkg-failed': {
        const tail = this.#tails.get(e.id) ?? [];
        this.#tails.delete(e.id);
        if (e.canceled) {
          this.#err.write(tty ? `${p.yellow('✘')} ${e.id} interrupted: nothing of it was installed\n` : `[${e.id}] interrupted: nothing of it was installed\n`);
          break;
        }
        const log = this.#rel(e.logFile);
        const lines: string[] = [];
        if (tty) {
          // The output was not on the screen (unless -v): its last lines, once, after the error.
          lines.push(p.red(`✘ ${e.id}: ${e.error}`), `  log: ${log}`);
          if (tail.length && !this.o.verbose) {
            lines.push(`  last ${tail.length} lines of the log:`);
            for (const l of tail) lines.push(p.dim(`  │ ${l}`));
          }
          if (e.buildDir) lines.push(`  build directory kept: ${this.#rel(e.buildDir)}`);
        } else {
          lines.push(p.red(`[${e.id}] Error: ${e.error}`));
          // Printed once: streamed output (the default here) is not repeated as a tail.
          if (tail.length && !this.o.verbose) {
            lines.push(`[${e.id}] last ${tail.length} lines of the log:`);
            for (const l of tail) lines.push(`[${e.id}]   ${l}`);
          } else if (tail.length) lines.push(`[${e.id}] its output is above, each line prefixed [${e.id}]`);
          lines.push(`[${e.id}] log file: ${log}`);
          if (e.buildDir) lines.push(`[${e.id}] build directory kept: ${e.buildDir}`);
        }
        this.#err.write(lines.join('\n') + '\n');
        break;
      }
      case 'pkg-skipped':
        this.#err.write(tty ? `${p.dim(`- ${e.id} skipped: ${e.because}`)}\n` : `[${e.id}] skipped: ${e.because}\n`);
        break;
      case 'clean-done':
        this.#say(e.wasInstalled ? `sagebuild: ${e.name}: removed ${e.removed} file(s) and its manifest` : `sagebuild: ${e.name} is not installed; nothing to clean`);
        break;
      case 'lock-wait':
        this.#say(`[${e.id}] waiting for ${e.mode} lock ${e.lockFile}${e.holders ? ` (held by ${e.holders})` : ''}`);
        break;
      case 'summary':
        this.#say((tty ? this.#ttySummary(e) : this.#summary(e)).join('\n'));
        if (e.stoppedEarly) this.#say(`sagebuild: stopped after a failure: ${e.notStarted.length} package(s) not started\n  (-k builds everything that does not depend on a failed package)`);
        break;
    }
  }

  #summary(e: Extract<SagebuildEvent, { type: 'summary' }>): string[] {
    const parts = [`built: ${e.built.length}`, `up to date: ${e.upToDate.length}`, `failed: ${e.failed.length}`, `skipped (dependency failed): ${e.skipped.length}`];
    if (e.interrupted.length) parts.push(`interrupted: ${e.interrupted.length}`);
    if (e.notStarted.length) parts.push(`not started: ${e.notStarted.length}`);
    const lines = [`sagebuild: summary: ${parts.join(', ')}`];
    if (e.built.length) lines.push(`  built: ${e.built.join(' ')}`);
    for (const f of e.failed) lines.push(`  failed: ${f.id} (log: ${this.#rel(f.logFile)})`);
    if (e.interrupted.length) lines.push(`  interrupted (nothing of them installed): ${e.interrupted.join(' ')}`);
    if (e.skipped.length) lines.push(`  skipped: ${e.skipped.join(' ')}`);
    if (e.notStarted.length) lines.push(`  not started: ${e.notStarted.join(' ')}`);
    return lines;
  }

  /** On a terminal each package had its line already: the counts, and the names not yet shown. */
  #ttySummary(e: Extract<SagebuildEvent, { type: 'summary' }>): string[] {
    const p = this.#p;
    const parts = [`${e.built.length} built`, `${e.upToDate.length} up to date`];
    if (e.failed.length) parts.push(p.red(`${e.failed.length} failed`));
    if (e.skipped.length) parts.push(`${e.skipped.length} skipped`);
    if (e.interrupted.length) parts.push(`${e.interrupted.length} interrupted`);
    if (e.notStarted.length) parts.push(`${e.notStarted.length} not started`);
    const lines = [`sagebuild: ${parts.join(', ')}`];
    const width = (this.o.columns?.() || 80) - 1;
    if (e.interrupted.length) lines.push(...wrapWords('  interrupted (nothing of them installed):', e.interrupted, width));
    if (e.notStarted.length) lines.push(...wrapWords('  not started:', e.notStarted, width));
    return lines;
  }
}
