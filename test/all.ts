// `npm test`: every test/*.test.ts through node's test runner, the longest files first. The runner
// starts files in the order given, a few at a time; started alphabetically, the long Python files
// (pipindex, python, venv-tree ...) came last and ran on alone while the other slots sat idle.
// Files not in LONGEST (new ones) follow in name order. Arguments are passed on to `node --test`
// (e.g. `npm test -- --test-name-pattern=lock`).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Measured here, longest first (each file's own wall time with three files at once). */
const LONGEST = [
  'pipindex', 'python', 'piplock', 'venv-tree', 'sage-real-tree', 'journal-python', 'bench', 'shipped',
  'faults', 'journal', 'trace', 'pyhelpers', 'download', 'sage-uninstall', 'system', 'robustness',
];

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();
const rank = (f: string) => {
  const i = LONGEST.indexOf(f.slice(0, -'.test.ts'.length));
  return i < 0 ? LONGEST.length : i;
};
const ordered = files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((f) => path.join('test', f));
const concurrency = process.env.SAGEBUILD_TEST_CONCURRENCY ?? '3';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...process.argv.slice(2), ...ordered], {
  cwd: path.dirname(dir),
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
