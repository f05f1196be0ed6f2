// What every command gets from the command line, and how it prints its result.
import { type BuildRunOptions } from '../buildrun.js';
import { type Override } from '../systempkgs.js';

export interface CommandOptions extends Omit<BuildRunOptions, 'state' | 'assumeRemoved'> {
  /** `list --installed` */
  installed: boolean;
  /** --with-system-<pkg> / --without-system-<pkg> */
  systemOverrides: Map<string, Override>;
}

/** Writes a command's output lines to stdout (the commands' only printing: their result, not progress). */
export const out = (lines: string[]): boolean => process.stdout.write(lines.map((l) => l + '\n').join(''));
