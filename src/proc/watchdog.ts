// Recipes run in their own sessions (so that Ctrl-C reaches sagebuild, which stops them in
// order), which also means they outlive a sagebuild killed with SIGKILL, even with its whole
// process group. One watchdog per run closes that gap: a small bash, in a session of its own,
// told on a pipe which process groups are running; when the pipe closes without a goodbye
// (sagebuild died, however), it stops the groups still listed: SIGTERM, then SIGKILL.
// One process per run, started with the first recipe; a run that starts nothing starts none.
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = `
declare -A groups
while IFS= read -r line; do
  case $line in
    +*) groups[\${line#+}]=1 ;;
    -*) unset "groups[\${line#-}]" ;;
  esac
done
[ \${#groups[@]} -eq 0 ] && exit 0
for g in "\${!groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
sleep 0.5
for g in "\${!groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
`;

let dog: ChildProcess | null = null;
let unavailable = false;

function watchdog(): ChildProcess | null {
  if (dog || unavailable) return dog;
  // --norc: with a socket for stdin, bash would take itself for a remote shell and read ~/.bashrc.
  const child = spawn('bash', ['--norc', '--noprofile', '-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.once('error', () => {
    unavailable = true; // no bash: recipes could not run either; nothing more to guard
    dog = null;
  });
  child.stdin!.on('error', () => undefined); // it died: writes fail quietly, recipes still run
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  dog = child;
  return dog;
}

/**
 * Starts the watchdog (if it is not running) before a recipe is started: starting a process
 * blocks this thread, and a recipe started first could act, and sagebuild be killed, before
 * its group is made known.
 */
export function armWatchdog(): void {
  watchdog();
}

/** `pgid` (a recipe's process group, just started) is running: stop it if sagebuild dies. */
export function guardGroup(pgid: number): void {
  watchdog()?.stdin!.write(`+${pgid}\n`);
}

/** `pgid` has ended (or been stopped by sagebuild itself). */
export function releaseGroup(pgid: number): void {
  dog?.stdin!.write(`-${pgid}\n`);
}
