// An exclusive flock held across awaits: per package for its whole build or clean (so that two
// sagebuild runs on one prefix never build one package in one build directory at once), and per
// tree while a package claims the files it is about to install (state/claims.ts). Taken
// in-process (flock.ts); where that is not possible, a small `flock ... cat` process holds it:
// closing its stdin releases the lock, and if sagebuild dies the pipe closes and the kernel
// releases it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { acquireFlock, nativeFlock } from './flock.js';
import { FLOCK_BUSY, describeHolders } from './lockedstep.js';

export interface HeldLock {
  release(): Promise<void>;
}

/** Starts a holder; `acquired` says whether it got the lock (false: busy, with -n). */
function startHolder(lockFile: string, wait: boolean): { child: ChildProcess; acquired: Promise<boolean> } {
  // `echo` tells us the lock is ours, then `cat` holds it until its stdin closes.
  // /bin/sh, not flock -c's $SHELL: bash with SHLVL unset and a socket for stdin (Node's pipes)
  // takes itself for a remote shell and sources ~/.bashrc, slowly, for every lock.
  const args = [...(wait ? [] : ['-n', '-E', String(FLOCK_BUSY)]), '-x', lockFile, '/bin/sh', '-c', 'echo locked; exec cat'];
  const child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const acquired = new Promise<boolean>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve(true);
    });
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      if (out.includes('locked')) return;
      if (code === FLOCK_BUSY) resolve(false);
      else reject(new Error(`flock ended (${sig ?? code}) before taking ${lockFile}`));
    });
  });
  return { child, acquired };
}

/**
 * Takes the lock, calling onWait (with the holders) if another process has it first. Returns
 * null if `signal` aborts the wait.
 */
export async function holdLock(lockFile: string, signal: AbortSignal, onWait: (holders: string) => void): Promise<HeldLock | null> {
  if (nativeFlock()) {
    const l = await acquireFlock(lockFile, 'exclusive', signal, () => onWait(describeHolders(lockFile)));
    return l && { release: async () => l.release() };
  }
  mkdirSync(path.dirname(lockFile), { recursive: true });
  let h = startHolder(lockFile, false);
  if (!(await h.acquired)) {
    onWait(describeHolders(lockFile));
    h = startHolder(lockFile, true);
    const kill = () => h.child.kill('SIGTERM');
    signal.addEventListener('abort', kill, { once: true });
    try {
      await h.acquired;
    } catch {
      return null; // killed by the abort
    } finally {
      signal.removeEventListener('abort', kill);
    }
    if (signal.aborted) {
      h.child.stdin!.end();
      return null;
    }
  }
  const held = h.child;
  return {
    async release() {
      if (held.exitCode !== null || held.signalCode !== null) return;
      const exited = once(held, 'exit');
      held.stdin!.end();
      await exited;
    },
  };
}
