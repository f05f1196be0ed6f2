// The sagebuild program: main.ts's command with this process's streams and folder; its exit status.
import { main } from './main.js';

// A reader that stops early (`sagebuild --help | head`) is not an error: what it did not read
// is dropped, quietly, and the command ends with its own status.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  isTTY: process.stdout.isTTY === true,
  get columns() {
    return process.stdout.columns;
  },
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sagebuild: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
