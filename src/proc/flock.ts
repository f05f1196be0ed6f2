// OS flocks (flock(2), the lock flock(1) and Sage's scripts take, so sagebuild stays compatible
// with them) taken in-process: libc's flock through koffi, loaded on the first lock. Each
// acquisition opens its own file description, so two holders in this process exclude each other
// exactly as two processes would, and the kernel releases everything if sagebuild dies. A wait
// for a holder in this process is woken by its release (microseconds); only a wait for another
// process starts a program (`flock ... true`, which returns when the lock could be taken).
// Without the native call (koffi missing on a platform, or SAGEBUILD_FLOCK=process) nativeFlock()
// is null and heldlock.ts/lockedstep.ts hold locks through flock(1) processes instead.
import { closeSync, mkdirSync, openSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { libc } from './libc.js';

export type LockMode = 'shared' | 'exclusive';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

interface Native {
  flock(fd: number, op: number): number;
  errno(): number;
}

let native: Native | null | undefined;

/** libc's flock, or null where it cannot be called in-process. */
export function nativeFlock(): Native | null {
  if (native !== undefined) return native;
  native = null;
  if (process.env.SAGEBUILD_FLOCK === 'process') return native;
  const c = libc();
  try {
    if (c) native = { flock: c.lib.func('int flock(int fd, int op)') as Native['flock'], errno: () => c.koffi.errno() };
  } catch {
    // no flock in this libc
  }
  return native;
}

/** Holders in this process, per lock file: a release wakes the waiters of that file. */
const local = new Map<string, { shared: number; exclusive: number; wake: Set<() => void> }>();

function localEntry(file: string) {
  let e = local.get(file);
  if (!e) local.set(file, (e = { shared: 0, exclusive: 0, wake: new Set() }));
  return e;
}

export interface OsLock {
  /** The locked file's descriptor: a child given it keeps the lock if sagebuild dies first. */
  readonly fd: number;
  /** Unlocks (for every copy of the descriptor) and closes. */
  release(): void;
  /**
   * Unlocks and closes the descriptor, so that the kernel lock goes to a child process waiting
   * for it on a file description of its own (python/pipworker.ts's exclusive installs), while the
   * lock still counts as held in this process (its other waiters wait here) until release().
   */
  handOver(): void;
}

/**
 * Takes the lock; `onWait` is called once if another process holds it (not for holders in this
 * process: those are this run's own steps). Returns null if `signal` ends the wait.
 */
export async function acquireFlock(file: string, mode: LockMode, signal: AbortSignal, onWait: () => void): Promise<OsLock | null> {
  const n = nativeFlock();
  if (!n) throw new Error('flock(2) is not available in-process');
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openLockFile(file);
  const op = (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB;
  let announced = false;
  try {
    for (;;) {
      if (signal.aborted) break;
      if (n.flock(fd, op) === 0) {
        const e = localEntry(file);
        e[mode]++;
        let released = false;
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          // Unlocked before it is closed: a child being started holds a copy of the descriptor
          // until its execve has closed it, after posix_spawn has returned here (glibc's vfork
          // resumes the parent when the child leaves this memory, before its close-on-exec
          // files are closed), and the lock would last as long as any copy.
          n.flock(fd, LOCK_UN);
          closeSync(fd);
        };
        return {
          fd,
          handOver: close,
          release() {
            if (released) return;
            released = true;
            close();
            e[mode]--;
            const wake = [...e.wake];
            e.wake.clear();
            if (!e.shared && !e.exclusive) local.delete(file);
            for (const w of wake) w();
          },
        };
      }
      const errno = n.errno();
      if (errno !== osConstants.errno.EWOULDBLOCK && errno !== osConstants.errno.EAGAIN && errno !== osConstants.errno.EINTR) {
        throw Object.assign(new Error(`flock ${file}: errno ${errno}`), { code: Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] });
      }
      const e = local.get(file);
      const heldHere = !!e && (e.exclusive > 0 || (mode === 'exclusive' && e.shared > 0));
      if (heldHere) {
        await new Promise<void>((resolve) => {
          const done = () => {
            e.wake.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          e.wake.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      } else {
        if (!announced) onWait();
        announced = true;
        await waitForOtherProcess(file, mode, signal);
      }
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  closeSync(fd);
  return null;
}

/** Read-only, as flock(1) opens it: a lock file on a read-only mount can still be locked. */
function openLockFile(file: string): number {
  try {
    return openSync(file, fsConstants.O_RDONLY | fsConstants.O_CREAT, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
    return openSync(file, fsConstants.O_RDONLY);
  }
}

/** Returns once another process's lock could be taken (flock(1) takes and drops it), or on abort. */
function waitForOtherProcess(file: string, mode: LockMode, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', [mode === 'shared' ? '-s' : '-x', file, 'true'], { stdio: 'ignore' });
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    child.once('exit', done);
    child.once('error', (err) => {
      signal.removeEventListener('abort', stop);
      reject(new Error(`cannot wait for ${file}, held by another process: flock(1): ${err.message}`));
    });
  });
}
