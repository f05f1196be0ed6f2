// Recipes run in their own sessions (so that Ctrl-C reaches sagebuild, which stops them in
// order), which also means they outlive a sagebuild killed with SIGKILL, even with its whole
// process group. One watchdog per run closes that gap: a small bash, in a session of its own,
// told on a pipe which process groups are running; when the pipe closes without a goodbye
// (sagebuild died, however), it stops the groups still listed: SIGTERM, then SIGKILL.
// A program's group is known only once it has started, and a busy machine can run the program
// for milliseconds before this thread hears back: sagebuild may die in between. So each start
// is announced first (`?n`) and the program carries SAGEBUILD_GUARD=<pid>.<n> in its
// environment; a start never confirmed (`+group n`) is found, if sagebuild died, as the process
// with that mark that leads its own group.
// One process per run, started with the first recipe; a run that starts nothing starts none.
import { spawn, type ChildProcess } from 'node:child_process';

/** The variable that marks a guarded program (and what it starts) as this run's. */
export const GUARD_VAR = 'SAGEBUILD_GUARD';

/** The watchdog's program: `bash -c SCRIPT name <sagebuild's pid>`, told on stdin. Exported for its test. */
export const SCRIPT = `
run=$1
declare -A groups starting
while IFS= read -r line; do
  case $line in
    [?]*) starting[\${line#?}]=1 ;;
    +*) line=\${line#+}; groups[\${line% *}]=1; unset "starting[\${line#* }]" ;;
    -*) unset "groups[\${line#-}]" ;;
    !*) unset "starting[\${line#!}]" ;;
  esac
done
if [ \${#starting[@]} -gt 0 ]; then
  sleep 0.1 # a program between fork and exec shows its own environment once it has exec'd
  for n in "\${!starting[@]}"; do
    for f in $(grep -lzxF -e "${GUARD_VAR}=$run.$n" /proc/[0-9]*/environ 2>/dev/null); do
      p=\${f#/proc/}; p=\${p%/environ}
      read -r st < "/proc/$p/stat" 2>/dev/null || continue
      set -- \${st##*) }
      [ "$3" = "$p" ] && groups[$p]=1
    done
  done
fi
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
  const child = spawn('bash', ['--norc', '--noprofile', '-c', SCRIPT, 'sagebuild-watchdog', String(process.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.once('error', () => {
    unavailable = true; // no bash: recipes could not run either; nothing more to guard
    dog = null;
  });
  child.stdin!.on('error', () => undefined); // it died: writes fail quietly, recipes still run
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  // Ends still unsent go at exit: a pipe takes a short write at once, even there.
  process.once('exit', () => send(''));
  dog = child;
  return dog;
}

let starts = 0;
/**
 * Ends not written yet: they go with the next message, or within 100 ms (each write wakes the
 * watchdog, and costs this thread a tenth of a millisecond on a busy machine). Unsent, they cost
 * nothing if sagebuild dies: a group that has ended is not there to be stopped. Announcements and
 * confirmations are written at once: an unconfirmed start is stopped with every process that
 * carries its mark, a daemon it left included.
 */
let unsent = '';
let timer: NodeJS.Timeout | undefined;

/** Writes `line` now, with the ends not written yet. */
function send(line: string): void {
  clearTimeout(timer);
  timer = undefined;
  if (unsent || line) dog?.stdin!.write(unsent + line);
  unsent = '';
}

/** A started program's mark: `name=value` goes into its environment. */
export interface Mark {
  name: string;
  value: string;
  /** Its number in this run's announcements. */
  n: number;
}

/**
 * Before starting a program that must not outlive sagebuild: starts the watchdog (if it is not
 * running: starting a process blocks this thread, and a program started first could act, and
 * sagebuild be killed, before the watchdog existed) and announces the start, at once. Returns
 * the mark to put into the program's environment and to give guardGroup.
 */
export function armWatchdog(): Mark {
  const n = ++starts;
  watchdog();
  send(`?${n}\n`);
  return { name: GUARD_VAR, value: `${process.pid}.${n}`, n };
}

/** The program started with `mark` leads the process group `pgid` (undefined: it did not start). */
export function guardGroup(pgid: number | undefined, mark: Mark): void {
  send(pgid === undefined ? `!${mark.n}\n` : `+${pgid} ${mark.n}\n`);
}

/** `pgid` has ended (or been stopped by sagebuild itself). */
export function releaseGroup(pgid: number): void {
  if (!dog) return;
  unsent += `-${pgid}\n`;
  timer ??= setTimeout(() => send(''), 100).unref();
}
