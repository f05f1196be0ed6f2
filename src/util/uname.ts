import os from 'node:os';

/** What `uname -a` would print, without spawning it. */
export function uname(): string {
  return `${os.type()} ${os.hostname()} ${os.release()} ${os.version()} ${os.machine()}`;
}
