// `npm run bench -- --quick` as a real process, so the benchmark cannot rot: it must finish, print
// every row of every table with a value in each cell, write its results file and remove its temp
// folders. No timing is asserted: performance is measured by the benchmark, never by a test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { ROOT } from './rig.ts';

function runQuick(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'run.ts'), '--quick', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, PIP_RETRIES: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The first cell of every row the quick mode prints (its sizes: 1 s of work, 20 and 60 packages).
const ROWS = [
  '1 s of work',
  'first build (no recorded durations), 1 s of work',
  'second build (durations.json kept), 1 s of work',
  'wall',
  'CPU per package (user+sys, whole tree)',
  'programs started per package',
  'peak RSS (largest process)',
  'output on the terminal (status line, ✔ lines)',
  'output piped (prefixed lines)',
  'node -e 0 (floor)',
  'GNU make, no-op (peer)',
  'sagebuild all, no-op',
  'sagebuild all, no-op, hash cache deleted',
  'sagebuild all, no-op, every dependencies file touched',
  '20 packages',
  '60 packages',
];

// A measured value: a time, a size, a ratio, or n/a where a tool is absent.
const CELL = /^(\d+(\.\d+)? (s|ms|MB)( \(cp \d+\.\d+, work\/8 \d+\.\d+\))?|\d+\.\d+|n\/a)$/;

it('npm run bench -- --quick: every table row, a value in every cell, results written, temp folders removed', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sagebuild-bench-test-'));
  try {
    const out = path.join(dir, 'results.md');
    const r = await runQuick(out);
    const all = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.code, 0, all);
    assert.doesNotMatch(r.stdout, /NaN|undefined|Infinity/, all);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| ') && !/^\| -/.test(l)).map((l) => l.slice(2, -2).split(' | ').map((c) => c.trim()));
    for (const label of ROWS) {
      const row = rows.find((cells) => cells[0] === label);
      assert.ok(row, `no row "${label}"\n${all}`);
      for (const cell of row.slice(1)) assert.match(cell, CELL, `row "${label}": cell "${cell}"\n${all}`);
    }
    const md = readFileSync(out, 'utf8');
    for (const label of ROWS) assert.ok(md.includes(`| ${label} `), `results file lacks "${label}"\n${md}`);
    assert.match(md, /^- date: /m);
    assert.match(md, /^- machine: \d+ cores/m);
    assert.match(md, /^- node v\d+/m);
    const tmp = /, in (\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(tmp && !existsSync(tmp), `the bench's temp folder ${tmp} was not removed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
