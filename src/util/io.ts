// Where a command's output goes and where it runs: the real process's streams and folder in the
// CLI (cli.ts), captured ones when tests call main() in-process. Only reporters and commands print.

/** Anything text can be written to: a process stream, or a test's capture. */
export interface Writer {
  write(text: string): unknown;
}

export interface Io {
  stdout: Writer;
  stderr: Writer;
  /** The folder relative paths on the command line (and ./build.config.yaml) are resolved in. */
  cwd: string;
  /** stdout is a terminal: a live status line instead of streamed recipe output (default: no). */
  isTTY?: boolean;
  /** The terminal's width, read at each redraw (a getter follows resizes); unknown: 80. */
  columns?: number;
}

/** Writes lines, each ending in a newline. */
export function writeLines(w: Writer, lines: string[]): void {
  if (lines.length) w.write(lines.map((l) => l + '\n').join(''));
}
