// Starting a recipe's program with libc's posix_spawn (through koffi, libc.ts) instead of
// node:child_process. Node forks its whole address space for every child (libuv has no vfork
// path): 1.5-2 ms of this thread's CPU per start at sagebuild's size, and the main thread blocked
// meanwhile. glibc's posix_spawn starts the child with CLONE_VFORK, whatever the parent's size.
// The child gets what spawn.ts's runLogged asked of node: its own session (POSIX_SPAWN_SETSID),
// every signal at its default and none blocked (node ignores SIGPIPE; libuv resets them too;
// glibc leaves its two internal signals, 32 and 33, ignored), stdin from /dev/null, stdout and
// stderr on pipes read here as sockets, extra fds as 3, 4, ... posix_spawn is called on koffi's
// pool thread, so this thread does not wait for each child's execve (about a millisecond, 0.6 s
// in a 437-package build). Meanwhile the program may already run: the watchdog finds it by its
// mark if sagebuild dies before hearing back (watchdog.ts), and a lock released meanwhile is
// unlocked, not only closed, so the child's copy of its descriptor does not keep it (flock.ts).
// Exits are reaped here (waitpid on SIGCHLD), since libuv reaps only its own children.
// Linux with glibc >= 2.29 (addchdir_np) only; nativeSpawn() returns null elsewhere, or with
// SAGEBUILD_SPAWN=node, and spawn.ts uses node:child_process.
import { closeSync, constants as fsConstants, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { accessible } from '../util/paths.js';
import { libc } from './libc.js';

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80; // glibc >= 2.26
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;

type F = (...a: unknown[]) => number;
interface Calls {
  spawn: F & { async(...a: unknown[]): void };
  faInit: F;
  faDestroy: F;
  faDup2: F;
  faOpen: F;
  faChdir: F;
  pipe2: F;
  waitpid: F;
  /** The attributes every child gets (flags, signal sets), made once. */
  attr: Buffer;
}

let calls: Calls | null | undefined;

function load(): Calls | null {
  if (calls !== undefined) return calls;
  calls = null;
  if (process.platform !== 'linux' || process.env.SAGEBUILD_SPAWN === 'node') return calls;
  const c = libc();
  if (!c || c.name !== 'libc.so.6') return calls; // the flag values above are glibc's
  try {
    const f = (sig: string) => c.lib.func(sig);
    const attrInit = f('int posix_spawnattr_init(void *attr)');
    const setFlags = f('int posix_spawnattr_setflags(void *attr, short flags)');
    const setSigDefault = f('int posix_spawnattr_setsigdefault(void *attr, void *set)');
    const setSigMask = f('int posix_spawnattr_setsigmask(void *attr, void *set)');
    const fill = f('int sigfillset(void *set)');
    const empty = f('int sigemptyset(void *set)');
    // The opaque structs are smaller than these buffers on every glibc (336 and 80 bytes on x86-64).
    const attr = Buffer.alloc(1024);
    const all = Buffer.alloc(256);
    const none = Buffer.alloc(256);
    const ok =
      attrInit(attr) === 0 &&
      fill(all) === 0 &&
      empty(none) === 0 &&
      setSigDefault(attr, all) === 0 &&
      setSigMask(attr, none) === 0 &&
      setFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) === 0;
    if (!ok) return calls;
    calls = {
      spawn: f('int posix_spawn(void *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
      faInit: f('int posix_spawn_file_actions_init(void *actions)'),
      faDestroy: f('int posix_spawn_file_actions_destroy(void *actions)'),
      faDup2: f('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
      faOpen: f('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, int mode)'),
      faChdir: f('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
      pipe2: f('int pipe2(void *fds, int flags)'),
      waitpid: f('int waitpid(int pid, void *status, int options)'),
      attr,
    };
  } catch {
    calls = null; // an older glibc without addchdir_np, say
  }
  return calls;
}

export interface NativeChild {
  pid: number;
  stdout: Socket;
  stderr: Socket;
  /** Resolves when the child has ended (reaped here): its exit code, or the signal that ended it. */
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * Starts `file` (searched on `env.PATH` as execvp would) in its own session, in `cwd`, with
 * exactly `env` and the `extra` variables (`NAME=value`); `fds` become its 3, 4, ... null when
 * posix_spawn cannot be used here (the caller starts it with node:child_process); else a promise
 * of the child, rejected, as node's spawn reports it, with an Error with `code` (ENOENT, EACCES,
 * ...) when it cannot start.
 */
export function nativeSpawn(file: string, args: string[], cwd: string, env: Record<string, string>, fds: number[], extra: string[] = []): Promise<NativeChild> | null {
  const n = load();
  // A source fd among the targets would be overwritten before it is copied: never seen (node's
  // own fds take the low numbers), but then node's spawn does it right.
  if (!n || fds.some((fd) => fd <= 2 + fds.length)) return null;
  const program = findProgram(file, env.PATH ?? process.env.PATH ?? '/usr/bin:/bin');
  const out = new Int32Array(2);
  const err = new Int32Array(2);
  if (n.pipe2(out, O_CLOEXEC) !== 0) return null;
  if (n.pipe2(err, O_CLOEXEC) !== 0) {
    closeSync(out[0]!);
    closeSync(out[1]!);
    return null;
  }
  const actions = Buffer.alloc(256);
  const pid = new Int32Array(1);
  n.faInit(actions);
  n.faOpen(actions, 0, '/dev/null', fsConstants.O_RDONLY, 0);
  n.faDup2(actions, out[1], 1);
  n.faDup2(actions, err[1], 2);
  fds.forEach((fd, i) => n.faDup2(actions, fd, 3 + i));
  n.faChdir(actions, cwd);
  const envp: (string | null)[] = [];
  for (const k in env) envp.push(`${k}=${env[k]}`);
  envp.push(...extra, null);
  if (!listening) process.on('SIGCHLD', () => reapEnded(n));
  listening = true;
  const spawned = new Promise<number>((resolve) => {
    if (!program) return resolve(osConstants.errno.ENOENT);
    try {
      n.spawn.async(pid, program, actions, n.attr, [file, ...args, null], envp, (e: unknown, rc: number) => resolve(e ? osConstants.errno.EAGAIN : rc));
    } catch {
      resolve(osConstants.errno.EAGAIN); // koffi's queue of calls is full
    }
  });
  return spawned.then((rc) => {
    n.faDestroy(actions);
    closeSync(out[1]!);
    closeSync(err[1]!);
    if (rc !== 0) {
      closeSync(out[0]!);
      closeSync(err[0]!);
      const code = Object.entries(osConstants.errno).find(([, v]) => v === rc)?.[0] ?? `errno ${rc}`;
      throw Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: -rc, path: file });
    }
    const child = pid[0]!;
    const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => reaping(n, child, resolve));
    const stdout = new Socket({ fd: out[0]!, readable: true, writable: false });
    const stderr = new Socket({ fd: err[0]!, readable: true, writable: false });
    return { pid: child, stdout, stderr, exit };
  });
}

/** execvp's search: the first executable regular file named `file` on `PATH` ('' is the folder). */
function findProgram(file: string, PATH: string): string | null {
  if (file.includes('/')) return file;
  for (const dir of PATH.split(':')) {
    const candidate = path.join(dir || '.', file);
    // Most folders of a PATH do not have it: that stat throws nothing (an exception costs more
    // than the stat). A folder this user cannot search, or a file in PATH, is passed, as execvp does.
    let st;
    try {
      st = statSync(candidate, { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (st?.isFile() && st.mode & 0o111 && accessible(candidate, fsConstants.X_OK)) return candidate;
  }
  return null;
}

/** Children started here and not yet reaped; SIGCHLD (or, in case one is missed, a slow poll) reaps them. */
const running = new Map<number, (r: [number | null, NodeJS.Signals | null]) => void>();
let poll: NodeJS.Timeout | undefined;
let listening = false;
const signalNames = new Map(Object.entries(osConstants.signals).map(([name, num]) => [num as number, name as NodeJS.Signals]));

function reaping(n: Calls, pid: number, resolve: (r: [number | null, NodeJS.Signals | null]) => void): void {
  running.set(pid, resolve);
  // Signal listeners do not keep node running; this timer does while a child runs.
  poll ??= setInterval(() => reapEnded(n), 1000);
  // Its SIGCHLD may have come and gone while posix_spawn's completion waited its turn.
  reapEnded(n);
}

function reapEnded(n: Calls): void {
  const status = new Int32Array(1);
  for (const [pid, resolve] of running) {
    const r = n.waitpid(pid, status, WNOHANG);
    if (r === 0) continue;
    running.delete(pid);
    if (r !== pid) {
      resolve([null, null]); // ECHILD: reaped elsewhere, how it ended is lost
      continue;
    }
    const s = status[0]!;
    const sig = s & 0x7f;
    resolve(sig === 0 ? [(s >> 8) & 0xff, null] : [null, signalNames.get(sig) ?? 'SIGKILL']);
  }
  if (running.size === 0 && poll) {
    clearInterval(poll);
    poll = undefined;
  }
}
