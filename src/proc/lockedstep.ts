// Sage's pip lock (state/layout.ts: pipLockFile): an OS flock, shared for installs, exclusive for
// uninstalls, held by sagebuild (flock.ts) and by the step, which inherits the locked file, so
// that a sagebuild killed meanwhile leaves it held until the step ends. Where flock.ts cannot
// lock in-process, the step runs under flock(1). Waiting is reported with the holders' command lines.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EventBus } from '../events.js';
import { acquireFlock, nativeFlock, type LockMode } from './flock.js';
import { runLogged, type RunResult } from './spawn.js';

export type { LockMode };

/** Exit status flock(1) uses when -n finds the lock busy (chosen with -E). */
export const FLOCK_BUSY = 75;

export interface LockedRunOptions {
  cwd: string;
  env: Record<string, string>;
  id: string;
  bus: EventBus;
  signal: AbortSignal;
  /**
   * Called once the lock is taken, before the step starts: the end of the wait. Under flock(1)
   * processes (no in-process locks) the wait is not seen apart: called before the first attempt,
   * so a wait there counts as the step's time.
   */
  onLocked?: () => void;
  /**
   * Runs the step another way while the lock is held (python/pipworker.ts: pip from a worker,
   * whose child takes the lock on a file description of its own: a shared lock beside ours, an
   * exclusive one once we hand ours over, which `handOver` does); null: it could not, the step
   * is started as a process. Not used under flock(1) processes.
   */
  via?: (argv: string[], handOver: () => void) => Promise<RunResult | null>;
}

export class LockWaitCanceled extends Error {
  constructor(lockFile: string) {
    super(`interrupted while waiting for ${lockFile}`);
  }
}

/**
 * Runs argv while holding the lock (argv null: only waits until the lock could be taken); tries
 * without blocking first so that a wait can be announced.
 * The step itself always runs to its end, but the wait for the lock ends when `cancel` aborts
 * (LockWaitCanceled): until the step has started, nothing has changed.
 */
export async function runLocked(mode: LockMode, lockFile: string, argv: string[] | null, o: LockedRunOptions, cancel?: AbortSignal): Promise<RunResult> {
  if (nativeFlock()) {
    const lock = await acquireNative(mode, lockFile, o, cancel);
    o.onLocked?.();
    try {
      if (!argv) return { exitCode: 0, signal: undefined, canceled: false };
      return (await o.via?.(argv, () => lock.handOver())) ?? (await runLogged(argv[0]!, argv.slice(1), { ...o, lockFd: lock.fd }));
    } finally {
      lock.release();
    }
  }
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const flag = mode === 'shared' ? '-s' : '-x';
  let announced = false;
  for (;;) {
    if (!announced) o.onLocked?.(); // once: `announced` is set after the first busy attempt
    const r = await runLogged('flock', ['-n', '-E', String(FLOCK_BUSY), flag, lockFile, ...(argv ?? ['true'])], o);
    if (r.exitCode !== FLOCK_BUSY) return r;
    if (!announced) o.bus.emit({ type: 'lock-wait', id: o.id, lockFile, mode, holders: describeHolders(lockFile) });
    announced = true;
    await waitForLock(mode, lockFile, o, cancel);
  }
}

async function acquireNative(mode: LockMode, lockFile: string, o: LockedRunOptions, cancel?: AbortSignal) {
  const lock = await acquireFlock(lockFile, mode, cancel ?? o.signal, () => o.bus.emit({ type: 'lock-wait', id: o.id, lockFile, mode, holders: describeHolders(lockFile) }));
  if (!lock) throw new LockWaitCanceled(lockFile);
  return lock;
}

/** Returns once the lock could be taken (it is released again at once), or throws LockWaitCanceled. */
export async function waitForLock(mode: LockMode, lockFile: string, o: LockedRunOptions, cancel?: AbortSignal): Promise<void> {
  if (cancel?.aborted) throw new LockWaitCanceled(lockFile);
  if (nativeFlock()) return (await acquireNative(mode, lockFile, o, cancel)).release();
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const w = await runLogged('flock', [mode === 'shared' ? '-s' : '-x', lockFile, 'true'], { ...o, signal: cancel ?? o.signal });
  if (w.canceled || cancel?.aborted) throw new LockWaitCanceled(lockFile);
}

/** "PID 123 (flock -x ... pip uninstall six)" for each process holding a flock on the file (Linux /proc/locks). */
export function describeHolders(lockFile: string): string {
  let ino: number;
  let locks: string;
  try {
    ino = statSync(lockFile).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return '';
  }
  const out: string[] = [];
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
    const f = line.trim().split(/\s+/);
    if (f[1] !== 'FLOCK' || f.length < 6) continue;
    const inode = Number(f[5]!.split(':')[2]);
    if (inode !== ino) continue;
    const pid = f[4]!;
    let cmd = '?';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // exited meanwhile
    }
    out.push(`PID ${pid} (${f[3] === 'WRITE' ? 'exclusive' : 'shared'}: ${cmd})`);
  }
  return out.join(', ');
}
