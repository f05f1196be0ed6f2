// `npm test`: every test/*.test.ts through node's test runner, the longest files first, a few at a
// time. node:test's `run({ files })` keeps the order given; `node --test <files>` (Node 20) sorts
// them by name, which started the long Python files (pipindex, python, venv-tree ...) last, to
// run on alone while the other slots sat idle. Files not in LONGEST (new ones) follow in name order.
//
// Arguments (`npm test -- ...`): test file names or stems to run only those (`npm test -- python
// pipindex`), `--test-name-pattern=<regexp>` (repeatable), `--test-reporter=spec|dot|tap|junit`.
// SAGEBUILD_TEST_CONCURRENCY: files at once (default 3). Children inherit this process's
// --import tsx (run() passes on execArgv).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import * as reporters from 'node:test/reporters';

/** Measured here, longest first (each file's own wall time with three files at once). */
const LONGEST = [
  'python', 'pipindex', 'sage-real-tree', 'venv-tree', 'journal-python', 'piplock', 'shipped', 'faults',
  'bench', 'pyhelpers', 'recipecache', 'journal', 'download', 'trace', 'sage-uninstall', 'robustness', 'system',
];

const dir = path.dirname(fileURLToPath(import.meta.url));
const stem = (f: string) => path.basename(f).replace(/\.test\.ts$/, '');
const all = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();

const patterns: string[] = [];
let reporterName = 'spec';
const chosen: string[] = [];
for (const a of process.argv.slice(2)) {
  const [opt, value] = a.startsWith('--') ? [a.slice(0, a.includes('=') ? a.indexOf('=') : undefined), a.slice(a.indexOf('=') + 1)] : [null, a];
  if (opt === '--test-name-pattern' && a.includes('=')) patterns.push(value);
  else if (opt === '--test-reporter' && a.includes('=') && value in reporters) reporterName = value;
  else if (opt === null && all.some((f) => stem(f) === stem(value))) chosen.push(stem(value));
  else {
    process.stderr.write(`test/all.ts: unknown argument ${JSON.stringify(a)}; give test file names, --test-name-pattern=<regexp> or --test-reporter=${Object.keys(reporters).filter((k) => k !== 'default').join('|')}\n`);
    process.exit(2);
  }
}

const rank = (f: string) => {
  const i = LONGEST.indexOf(stem(f));
  return i < 0 ? LONGEST.length : i;
};
const files = all
  .filter((f) => !chosen.length || chosen.includes(stem(f)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  .map((f) => path.join(dir, f));

const stream = run({
  files,
  concurrency: Number(process.env.SAGEBUILD_TEST_CONCURRENCY ?? 3),
  ...(patterns.length ? { testNamePatterns: patterns } : {}),
});
stream.on('test:fail', () => {
  process.exitCode = 1;
});
const reporter = reporters[reporterName as keyof typeof reporters];
// spec and lcov are stream classes; dot, tap and junit async generator functions.
const isStreamClass = (r: unknown): r is new () => NodeJS.ReadWriteStream => typeof r === 'function' && typeof (r.prototype as { pipe?: unknown } | undefined)?.pipe === 'function';
stream.compose(isStreamClass(reporter) ? new reporter() : reporter).pipe(process.stdout);
