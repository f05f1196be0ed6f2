// Execution emits these events and nothing else prints; reporters (console, log files, traces)
// subscribe. Keeping the union in one place makes reporters exhaustive.
import { EventEmitter } from 'node:events';
import type { Reason } from './reasons.js';

export type BuildStep = 'prepare' | 'fetch' | 'unpack' | 'patch' | 'spkg-preinst' | 'spkg-build' | 'spkg-install' | 'spkg-postinst' | 'merge' | 'pip-uninstall' | 'pip-install' | 'spkg-check' | 'spkg-prerm' | 'spkg-piprm' | 'spkg-postrm' | 'spkg-legacy-uninstall';

/** The phases of a package's build that --trace times (report/trace.ts): each a begin and an end event. */
export type Phase = 'download' | 'unpack' | 'build' | 'pip-lock-wait' | 'pip-install' | 'pip-uninstall' | 'merge';

export type PlanAction = 'build' | 'up-to-date' | 'dummy' | 'system';

export interface PlanItem {
  name: string;
  version: string;
  action: PlanAction;
  /** Why it builds (empty unless action is 'build'); report/reasons.ts words them. */
  reasons: Reason[];
  fingerprint?: string;
  /** With action 'system': how configure found it (e.g. `gmp 6.2.1 via gmp.h + -lgmp`). */
  evidence?: string;
  /** Recipe problems that make the package impossible to build (reported when it must build). */
  problems?: string[];
}

export type SagebuildEvent =
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string }
  | { type: 'plan'; items: PlanItem[]; dryRun: boolean }
  /** A build run starts: what it will build, with each package's expected duration (ms; null: no build was ever timed here). */
  | { type: 'run-start'; jobs: number; packages: { id: string; name: string; expectedMs: number | null }[] }
  | { type: 'pkg-start'; id: string; name: string; logFile: string; reasons: Reason[] }
  | { type: 'step'; id: string; step: BuildStep; detail?: string }
  | { type: 'output'; id: string; line: string }
  /** A phase of a package's build begins or ends (`detail`: which script, which file). */
  | { type: 'phase'; id: string; phase: Phase; edge: 'begin' | 'end'; detail?: string }
  | { type: 'pkg-done'; id: string; name: string; ok: true; durationMs: number; /** a package that became a dummy: its old install was removed */ removed?: boolean }
  | { type: 'pkg-failed'; id: string; name: string; error: string; logFile: string; buildDir: string | null; canceled: boolean }
  | { type: 'pkg-skipped'; id: string; name: string; because: string }
  | { type: 'clean-done'; name: string; removed: number; wasInstalled: boolean }
  | { type: 'lock-wait'; id: string; lockFile: string; mode: 'shared' | 'exclusive'; holders: string }
  /** `stoppedEarly`: a failure (without -k) left packages unstarted that -k would have built. */
  | { type: 'summary'; built: string[]; upToDate: string[]; failed: { id: string; logFile: string }[]; interrupted: string[]; skipped: string[]; notStarted: string[]; stoppedEarly: boolean };

/** Runs `fn` as one phase of package `id`: a begin event, then an end event however it ends. */
export async function inPhase<T>(bus: EventBus, id: string, phase: Phase, detail: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  bus.emit({ type: 'phase', id, phase, edge: 'begin', ...(detail !== undefined ? { detail } : {}) });
  try {
    return await fn();
  } finally {
    bus.emit({ type: 'phase', id, phase, edge: 'end', ...(detail !== undefined ? { detail } : {}) });
  }
}

type Listener = (e: SagebuildEvent) => void;

export class EventBus {
  readonly #emitter = new EventEmitter();
  emit(e: SagebuildEvent): void {
    this.#emitter.emit('event', e);
  }
  /** Returns a function that removes the listener. */
  on(l: Listener): () => void {
    this.#emitter.on('event', l);
    return () => this.#emitter.off('event', l);
  }
}
