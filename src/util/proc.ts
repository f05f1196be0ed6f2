// Whether a process exists: claims and index folders of dead processes are stale.
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * When the process started (clock ticks since boot, from /proc/<pid>/stat), to tell a process
 * from a later one that reuses its PID; null where /proc cannot say.
 */
export function processStart(pid: number): string | null {
  // This process's own start never changes: read once (claims, temp names and intents ask often).
  if (pid === process.pid) return (ownStart ??= { value: readStart(pid) }).value;
  return readStart(pid);
}
let ownStart: { value: string | null } | undefined;

function readStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
