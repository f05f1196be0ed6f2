// Runs one recipe command in its own process group, streaming each output line as an event.
// A process group lets Ctrl-C stop the whole tree (configure, make, compilers), not just bash.
// execa is loaded on first use: a no-op run never spawns, and importing it costs ~100 ms.
const loadExeca = () => import('execa').then((m) => m.execa);
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { EventBus } from '../events.js';

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
}

export async function runLogged(file: string, args: string[], o: SpawnOptions): Promise<RunResult> {
  if (o.signal.aborted) return { exitCode: undefined, signal: undefined, canceled: true };
  const execa = await loadExeca();
  const sub = execa(file, args, {
    cwd: o.cwd,
    env: o.env,
    extendEnv: false,
    // An fd number in stdio[3] hands that open file (the jobserver FIFO) to the child as fd 3 (a
    // Node spawn feature execa passes through; its types only list fds 3-9).
    stdio: (o.jobserverFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', o.jobserverFd]) as ['ignore', 'pipe', 'pipe'],
    all: true,
    buffer: false,
    reject: false,
    detached: true,
    stripFinalNewline: false,
  });
  const pid = sub.pid;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), o.killAfterMs ?? 5000);
    killTimer.unref();
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  const lines = sub.all ? createInterface({ input: sub.all, crlfDelay: Infinity }) : null;
  lines?.on('line', (line) => o.bus.emit({ type: 'output', id: o.id, line }));
  const closed = lines ? once(lines, 'close') : Promise.resolve();
  // Wait for the command itself, not for its output to end: a child it left running in the
  // background may hold the pipe open forever. Then end the whole group, which also stops
  // such leftovers from writing into a build dir we are about to remove.
  let exit: [number | null, NodeJS.Signals | null] = [null, null];
  try {
    exit = (await once(sub, 'exit')) as [number | null, NodeJS.Signals | null];
  } catch {
    // could not start (e.g. ENOENT): the result below says so
  }
  if (pid !== undefined) killGroup(pid, 'SIGKILL');
  // A process that left the group (setsid, a daemon) may still hold the pipe: after a short
  // grace period stop reading, rather than wait for it (forever, for a daemon).
  let late: NodeJS.Timeout | undefined;
  const drained = Promise.all([sub, closed]).then(() => true);
  const gave = await Promise.race([drained, new Promise<boolean>((resolve) => (late = setTimeout(() => resolve(false), 2000)))]);
  clearTimeout(late);
  if (!gave) {
    o.bus.emit({ type: 'output', id: o.id, line: 'sagebuild: a process the command started outside its process group (setsid? a daemon?) still holds its output; no longer reading it' });
    for (const stream of [sub.stdout, sub.stderr, sub.all]) stream?.destroy();
    lines?.close();
  }
  const r = await sub;
  await closed;
  o.signal.removeEventListener('abort', onAbort);
  if (killTimer) clearTimeout(killTimer);
  if (r.failed && exit[0] === null && exit[1] === null) o.bus.emit({ type: 'output', id: o.id, line: `sagebuild: ${r.shortMessage}` });
  return { exitCode: exit[0] ?? r.exitCode ?? undefined, signal: exit[1] ?? r.signal ?? undefined, canceled: o.signal.aborted };
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}
