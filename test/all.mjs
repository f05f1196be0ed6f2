// `npm test`: every test/*.test.ts through node's test runner, the longest files first, a few at a
// time. node:test's `run({ files })` keeps the order given; `node --test <files>` (Node 20) sorts
// them by name, which started the long Python files (pipindex, python, venv-tree ...) last, to
// run on alone while the other slots sat idle. Files not in LONGEST (new ones) follow in name order.
//
// Arguments (`npm test -- ...`): test file names or stems to run only those (`npm test -- python
// pipindex`), `--test-name-pattern=<regexp>` (repeatable), `--test-reporter=spec|dot|tap|junit`.
// SAGEBUILD_TEST_CONCURRENCY: files at once (default 3).
//
// Each test file runs bundled: esbuild puts it and the src/ modules it imports into one file in
// .testbuild/<pid>/test/ (npm packages stay imports; source maps point back to test/ and src/), which
// node loads in about a third of the CPU that tsx takes to load the same modules one by one
// (about 0.6 s less per test file, ~50 files). This file is plain JavaScript so that the test
// processes do not inherit tsx (run() passes on execArgv: here --enable-source-maps).
// `--no-bundle` runs test/*.ts as they are, for `node --import tsx test/all.mjs --no-bundle`
// (npm run coverage: c8 counts src/ modules loaded one by one; through bundles' source maps it
// counts code never run as covered).
//
// The tests' temp folders (rigs, the toolchain fixture, pip's temp files) go to a folder of
// their own in RAM (/dev/shm, when it is a tmpfs with 4 GiB free), else to os.tmpdir(): the
// suite creates and removes some hundred thousand files, and on a disk each creation can cost
// a millisecond of system time (extracting Sage's tree: 6.3 s on this machine's ext4 /tmp,
// 0.15 s on tmpfs). SAGEBUILD_TEST_TMPDIR=<folder> chooses the base folder instead. The folder
// is removed at the end.
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
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
const stem = (f) => path.basename(f).replace(/\.test\.ts$/, '');
const all = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();

/** @type {string[]} */
const patterns = [];
let reporterName = 'spec';
let bundle = true;
/** @type {string[]} */
const chosen = [];
for (const a of process.argv.slice(2)) {
  const [opt, value] = a.startsWith('--') ? [a.slice(0, a.includes('=') ? a.indexOf('=') : undefined), a.slice(a.indexOf('=') + 1)] : [null, a];
  if (opt === '--test-name-pattern' && a.includes('=')) patterns.push(value);
  else if (opt === '--test-reporter' && a.includes('=') && value in reporters) reporterName = value;
  else if (a === '--no-bundle') bundle = false;
  else if (opt === null && all.some((f) => stem(f) === stem(value))) chosen.push(stem(value));
  else {
    process.stderr.write(`test/all.mjs: unknown argument ${JSON.stringify(a)}; give test file names, --no-bundle, --test-name-pattern=<regexp> or --test-reporter=${Object.keys(reporters).filter((k) => k !== 'default').join('|')}\n`);
    process.exit(2);
  }
}

const rank = (f) => {
  const i = LONGEST.indexOf(stem(f));
  return i < 0 ? LONGEST.length : i;
};
const selected = all.filter((f) => !chosen.length || chosen.includes(stem(f))).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
// One folder per run (two runs in one checkout must not remove each other's bundles); what runs
// that were killed left is removed here, this run's at its exit.
const builds = path.join(path.dirname(dir), '.testbuild');
for (const d of existsSync(builds) ? readdirSync(builds) : []) {
  if (!/^\d+$/.test(d) || !alive(Number(d))) rmSync(path.join(builds, d), { recursive: true, force: true });
}
const out = path.join(builds, String(process.pid), 'test');
process.on('exit', () => rmSync(path.dirname(out), { recursive: true, force: true }));
if (bundle) {
  await build({
    entryPoints: selected.map((f) => path.join(dir, f)),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // The CommonJS-style require() some modules use (createRequire for koffi is their own).
    banner: { js: "import { createRequire as __testRequire } from 'node:module'; const require = __testRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}
const files = bundle ? selected.map((f) => path.join(out, f.replace(/\.ts$/, '.mjs'))) : selected.map((f) => path.join(dir, f));

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

const TMPFS_MAGIC = 0x01021994;
function tempBase() {
  if (process.env.SAGEBUILD_TEST_TMPDIR) return process.env.SAGEBUILD_TEST_TMPDIR;
  try {
    const s = statfsSync('/dev/shm');
    if (s.type === TMPFS_MAGIC && s.bavail * s.bsize >= 4 * 2 ** 30) return '/dev/shm';
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
}
const temp = mkdtempSync(path.join(tempBase(), 'sagebuild-tests-'));
chmodSync(temp, 0o1777); // as /tmp: tests run some steps as another user (errors.test.ts)
process.env.TMPDIR = temp;
process.on('exit', () => rmSync(temp, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const stream = run({
  files,
  concurrency: Number(process.env.SAGEBUILD_TEST_CONCURRENCY ?? 3),
  ...(patterns.length ? { testNamePatterns: patterns } : {}),
});
stream.on('test:fail', () => {
  process.exitCode = 1;
});
const reporter = reporters[reporterName];
// spec and lcov are stream classes; dot, tap and junit async generator functions.
const isStreamClass = (r) => typeof r === 'function' && typeof r.prototype?.pipe === 'function';
stream.compose(isStreamClass(reporter) ? new reporter() : reporter).pipe(process.stdout);
