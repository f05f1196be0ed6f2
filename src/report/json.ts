// `--json` for builds: one summary document on the JSON writer (stdout) when the run ends; the
// shapes are documented in the README ("JSON output"). Everything else prints to stderr then.
import { reasonsJson } from './reasons.js';
import type { EventBus, PlanItem } from '../events.js';
import type { Reason } from '../reasons.js';
import type { Writer } from '../util/io.js';

export type PackageResult = 'built' | 'removed' | 'up-to-date' | 'failed' | 'interrupted' | 'skipped' | 'not-started' | 'dummy' | 'system' | 'would-build';

export interface PackageJson {
  name: string;
  id: string;
  version: string;
  result: PackageResult;
  /** Wall time of its build (ms), when it started building in this run. */
  durationMs: number | null;
  /** Its log file, when it started building in this run. */
  log: string | null;
  /** A failed build's kept build directory. */
  buildDir: string | null;
  /** Why it failed or was skipped. */
  error: string | null;
  reasons: (Reason & { text: string })[];
}

/** A JSON document, as every `--json` output is written: indented, one trailing newline. */
export function writeJson(w: Writer, doc: object): void {
  w.write(JSON.stringify(doc, null, 2) + '\n');
}

export class JsonBuildSummary {
  #plan: PlanItem[] = [];
  readonly #started = new Map<string, { at: number; log: string }>();
  readonly #end = new Map<string, Partial<PackageJson>>();

  constructor(bus: EventBus, out: Writer) {
    bus.on((e) => {
      switch (e.type) {
        case 'plan':
          this.#plan = e.items;
          // A dry run ends with its plan.
          if (e.dryRun) writeJson(out, this.#doc(true, new Map()));
          break;
        case 'pkg-start':
          this.#started.set(e.id, { at: performance.now(), log: e.logFile });
          break;
        case 'pkg-done':
          this.#end.set(e.id, { result: e.removed ? 'removed' : 'built', durationMs: Math.round(e.durationMs) });
          break;
        case 'pkg-failed': {
          const s = this.#started.get(e.id);
          this.#end.set(e.id, { result: e.canceled ? 'interrupted' : 'failed', error: e.error, log: e.logFile, buildDir: e.buildDir, durationMs: s ? Math.round(performance.now() - s.at) : null });
          break;
        }
        case 'pkg-skipped':
          this.#end.set(e.id, { result: 'skipped', error: e.because });
          break;
        case 'summary': {
          const results = new Map<string, PackageResult>();
          for (const id of e.upToDate) results.set(id, 'up-to-date');
          for (const id of e.notStarted) results.set(id, 'not-started');
          writeJson(out, this.#doc(false, results));
          break;
        }
      }
    });
  }

  #doc(dryRun: boolean, results: Map<string, PackageResult>): object {
    const packages = this.#plan.map((i): PackageJson => {
      const id = `${i.name}-${i.version}`;
      const end = this.#end.get(id) ?? {};
      const fallback: PackageResult = i.action === 'up-to-date' ? 'up-to-date' : i.action === 'dummy' || i.action === 'system' ? i.action : dryRun ? 'would-build' : 'not-started';
      return {
        name: i.name,
        id,
        version: i.version,
        result: end.result ?? results.get(id) ?? fallback,
        durationMs: end.durationMs ?? null,
        log: end.log ?? this.#started.get(id)?.log ?? null,
        buildDir: end.buildDir ?? null,
        error: end.error ?? null,
        reasons: reasonsJson(i.reasons),
      };
    });
    return { command: 'build', dryRun, packages };
  }
}
