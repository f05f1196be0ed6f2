// What every command gets from the command line, and how it prints its result.
import { type BuildRunOptions } from '../buildrun.js';
import { type Override } from '../systempkgs.js';
import { writeLines, type Io, type Writer } from '../util/io.js';

export interface CommandOptions extends Omit<BuildRunOptions, 'state' | 'assumeRemoved'> {
  /** `list --installed` */
  installed: boolean;
  /** --with-system-<pkg> / --without-system-<pkg> */
  systemOverrides: Map<string, Override>;
  /** Where the command prints its result (stdout) and its errors (stderr). */
  io: Io;
  /** --json: where the command's one JSON document goes (the real stdout; `io.stdout` is then stderr). */
  json: Writer | null;
}

/** Writes a command's output lines to its stdout (the commands' only printing: their result, not progress). */
export const out = (o: { io: Io }, lines: string[]): void => writeLines(o.io.stdout, lines);

/** Writes a command's error lines to its stderr. */
export const err = (o: { io: Io }, lines: string[]): void => writeLines(o.io.stderr, lines);
