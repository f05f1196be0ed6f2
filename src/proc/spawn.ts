// The one way sagebuild starts a program (node:child_process, never a shell unless asked):
// - runLogged: a recipe command in its own process group, each output line an event. A process
//   group lets Ctrl-C stop the whole tree (configure, make, compilers), not just bash. Started
//   by posix_spawn (nativespawn.ts) where it can be: one per package, where a fork costs most.
// - capture / captureSync: a short query (python, date, unzip -Z1, mkfifo), output collected.
// - readFrom: a program whose stdout is read as a stream (a decompressor).
// node:child_process rather than execa: it is loaded with Node itself, where importing execa
// costs 150-230 ms on this kind of machine, and per-process overhead counts at Sage's scale.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import type { EventBus } from '../events.js';
import { processEnv } from '../util/env.js';
import { nativeSpawn } from './nativespawn.js';
import { armWatchdog, guardGroup, releaseGroup, type Mark } from './watchdog.js';

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  canceled: boolean;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  id: string;
  bus: EventBus;
  signal: AbortSignal;
  /** Grace period between SIGTERM and SIGKILL on abort. */
  killAfterMs?: number;
  /** The jobserver FIFO, handed to the command as its fd 3. */
  jobserverFd?: number;
  /** A locked file (flock.ts) the command holds too, as its next fd: the lock lasts until it ends, even if sagebuild dies first. */
  lockFd?: number;
}

export async function runLogged(file: string, args: string[], o: SpawnOptions): Promise<RunResult> {
  if (o.signal.aborted) return { exitCode: undefined, signal: undefined, canceled: true };
  const mark = armWatchdog();
  const sub = await start(file, args, o.cwd, o.env, [o.jobserverFd, o.lockFd].filter((fd) => fd !== undefined), mark);
  const pid = sub.pid;
  guardGroup(pid, mark);
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), o.killAfterMs ?? 5000);
    killTimer.unref();
  };
  if (o.signal.aborted) onAbort(); // while it was being started
  else o.signal.addEventListener('abort', onAbort, { once: true });
  // stdout and stderr interleave line by line, as they reach us.
  const readers = [sub.stdout, sub.stderr].map((s) => {
    const lines = createInterface({ input: s, crlfDelay: Infinity });
    lines.on('line', (line) => o.bus.emit({ type: 'output', id: o.id, line }));
    return { lines, closed: once(lines, 'close') };
  });
  // Wait for the command itself, not for its output to end: a child it left running in the
  // background may hold the pipe open forever. Then end the whole group, which also stops
  // such leftovers from writing into a build dir we are about to remove.
  const [code, sig, error] = await sub.exit;
  if (pid !== undefined) {
    killGroup(pid, 'SIGKILL');
    releaseGroup(pid);
  }
  // A process that left the group (setsid, a daemon) may still hold the pipe: after a short
  // grace period stop reading, rather than wait for it (forever, for a daemon).
  let late: NodeJS.Timeout | undefined;
  const drained = Promise.all(readers.map((r) => r.closed)).then(() => true);
  const gave = await Promise.race([drained, new Promise<boolean>((resolve) => (late = setTimeout(() => resolve(false), 2000)))]);
  clearTimeout(late);
  if (!gave) {
    o.bus.emit({ type: 'output', id: o.id, line: 'sagebuild: a process the command started outside its process group (setsid? a daemon?) still holds its output; no longer reading it' });
    for (const s of [sub.stdout, sub.stderr]) s?.destroy();
    for (const r of readers) r.lines.close();
  }
  o.signal.removeEventListener('abort', onAbort);
  if (killTimer) clearTimeout(killTimer);
  if (error) o.bus.emit({ type: 'output', id: o.id, line: `sagebuild: cannot run ${file}: ${error.message}` });
  return { exitCode: code ?? undefined, signal: sig ?? undefined, canceled: o.signal.aborted };
}

/** Runs a program to its end, its output read and dropped (started as a recipe's is: cheap here). Never rejects. */
export async function runQuietly(file: string, args: string[], cwd: string): Promise<boolean> {
  const sub = await start(file, args, cwd, processEnv(), []);
  sub.stdout.resume();
  sub.stderr.resume();
  const [code, , error] = await sub.exit;
  return error === null && code === 0;
}

interface Started {
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<[number | null, NodeJS.Signals | null, Error | null]>;
}

/**
 * A command in its own session, stdin /dev/null, stdout and stderr piped, `fds` as its 3, 4, ...:
 * posix_spawn where it can be used (nativespawn.ts: no copy of this process's memory), else node's spawn.
 */
async function start(file: string, args: string[], cwd: string, env: Record<string, string>, fds: number[], mark?: Mark): Promise<Started> {
  try {
    // The mark goes with the environment without a copy of it (a recipe's has some 130 variables).
    const native = nativeSpawn(file, args, cwd, env, fds, mark ? [`${mark.name}=${mark.value}`] : []);
    if (native) {
      const c = await native;
      return { ...c, exit: c.exit.then(([code, sig]) => [code, sig, null]) };
    }
  } catch (e) {
    const none = () => new PassThrough().end();
    return { pid: undefined, stdout: none(), stderr: none(), exit: Promise.resolve([null, null, e as Error]) };
  }
  // An fd number in stdio[3] hands that open file (the jobserver FIFO) to the child as fd 3.
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...fds];
  const sub = spawn(file, args, { cwd, env: mark ? { ...env, [mark.name]: mark.value } : env, stdio, detached: true });
  return { pid: sub.pid, stdout: sub.stdout!, stderr: sub.stderr!, exit: exited(sub) };
}

/** How a child ended: its exit code or signal, or the error that kept it from starting. */
function exited(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null, Error | null]> {
  return new Promise((resolve) => {
    child.once('error', (e) => resolve([null, null, e]));
    child.once('exit', (code, sig) => resolve([code, sig, null]));
  });
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

export interface CaptureOptions {
  cwd?: string;
  /** The whole environment (default: sagebuild's own). */
  env?: NodeJS.ProcessEnv;
  /** Aborting kills the program; the result then has an AbortError as `error`. */
  signal?: AbortSignal;
  /** Killed (SIGTERM) after this long. */
  timeoutMs?: number;
}

export interface Captured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not start (ENOENT, ...) or was aborted. */
  error: Error | null;
}

export const ranOk = (c: Captured): boolean => c.error === null && c.code === 0;

/** The last non-empty line of a failed query's stderr (or why it did not run), for a message. */
export function failureLine(c: Captured): string {
  const last = c.stderr.trim().split('\n').pop();
  return c.error?.message ?? (last || (c.signal ? `killed by ${c.signal}` : `exit code ${c.code}`));
}

/** Runs a program to its end, collecting its output. Never rejects. */
export function capture(file: string, args: string[], o: CaptureOptions = {}): Promise<Captured> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: o.cwd, env: o.env, signal: o.signal, timeout: o.timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error: Error | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => {
      error = e;
      if (child.pid === undefined) resolve({ code: null, signal: null, stdout, stderr, error });
    });
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, error }));
  });
}

/** capture, blocking: for the few queries analysis needs before anything is asynchronous. */
export function captureSync(file: string, args: string[], o: Omit<CaptureOptions, 'signal'> = {}): Captured {
  const r = spawnSync(file, args, { cwd: o.cwd, env: o.env, timeout: o.timeoutMs, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error ?? null };
}

/** A program whose stdout is read as a stream; `done` says how it ended (stderr is dropped). */
export function readFrom(file: string, args: string[]): { stream: Readable; done: Promise<Omit<Captured, 'stdout' | 'stderr'>> } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const done = exited(child).then(([code, signal, error]) => ({ code, signal, error }));
  return { stream: child.stdout!, done };
}
