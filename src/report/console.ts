// Console presentation: Sage-style `[pkg-version] ` prefixed lines, failure excerpts, summary.
import { reasonsText } from './reasons.js';
import type { EventBus, SagebuildEvent } from '../events.js';
import type { Writer } from '../util/io.js';

const TAIL_LINES = 30;

export interface ConsoleOptions {
  /** Print every output line of the recipes (prefixed), as Sage's logger does. */
  verbose: boolean;
  out: Writer;
  err: Writer;
}

export class ConsoleReporter {
  readonly #tails = new Map<string, string[]>();
  readonly #out: Writer;
  readonly #err: Writer;

  constructor(bus: EventBus, private readonly o: ConsoleOptions) {
    this.#out = o.out;
    this.#err = o.err;
    bus.on((e) => this.#handle(e));
  }

  #say(s: string): void {
    this.#out.write(s + '\n');
  }

  #handle(e: SagebuildEvent): void {
    switch (e.type) {
      case 'warning':
        this.#err.write(`sagebuild: warning: ${e.message}\n`);
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
        } else {
          this.#say(`sagebuild: ${build.length} package(s) to build: ${build.map((i) => i.name).join(' ')}`);
        }
        break;
      }
      case 'pkg-start':
        this.#tails.set(e.id, []);
        this.#say(`[${e.id}] building (${reasonsText(e.reasons) || 'requested'}). Log file: ${e.logFile}`);
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
      case 'pkg-done':
        this.#tails.delete(e.id);
        this.#say(`[${e.id}] ${e.removed ? 'old install removed (now a dummy package)' : 'successfully installed'} (${(e.durationMs / 1000).toFixed(1)} s)`);
        break;
      case 'pkg-failed': {
        const tail = this.#tails.get(e.id) ?? [];
        this.#tails.delete(e.id);
        if (e.canceled) {
          this.#err.write(`[${e.id}] interrupted: nothing of it was installed\n`);
          break;
        }
        const lines = [`[${e.id}] Error: ${e.error}`];
        if (tail.length) {
          lines.push(`[${e.id}] last ${tail.length} lines of the log:`);
          for (const l of tail) lines.push(`[${e.id}]   ${l}`);
        }
        lines.push(`[${e.id}] log file: ${e.logFile}`);
        if (e.buildDir) lines.push(`[${e.id}] build directory kept: ${e.buildDir}`);
        this.#err.write(lines.join('\n') + '\n');
        break;
      }
      case 'pkg-skipped':
        this.#err.write(`[${e.id}] skipped: ${e.because}\n`);
        break;
      case 'clean-done':
        this.#say(e.wasInstalled ? `sagebuild: ${e.name}: removed ${e.removed} file(s) and its manifest` : `sagebuild: ${e.name} is not installed; nothing to clean`);
        break;
      case 'lock-wait':
        this.#say(`[${e.id}] waiting for ${e.mode} lock ${e.lockFile}${e.holders ? ` (held by ${e.holders})` : ''}`);
        break;
      case 'summary': {
        const parts = [
          `built: ${e.built.length}`,
          `up to date: ${e.upToDate.length}`,
          `failed: ${e.failed.length}`,
          `skipped (dependency failed): ${e.skipped.length}`,
        ];
        if (e.interrupted.length) parts.push(`interrupted: ${e.interrupted.length}`);
        if (e.notStarted.length) parts.push(`not started: ${e.notStarted.length}`);
        const lines = [`sagebuild: summary: ${parts.join(', ')}`];
        if (e.built.length) lines.push(`  built: ${e.built.join(' ')}`);
        for (const f of e.failed) lines.push(`  failed: ${f.id} (log: ${f.logFile})`);
        if (e.interrupted.length) lines.push(`  interrupted (nothing of them installed): ${e.interrupted.join(' ')}`);
        if (e.skipped.length) lines.push(`  skipped: ${e.skipped.join(' ')}`);
        if (e.notStarted.length) lines.push(`  not started: ${e.notStarted.join(' ')}`);
        this.#say(lines.join('\n'));
        break;
      }
    }
  }
}
