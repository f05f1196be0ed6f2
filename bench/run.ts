// No-op build benchmark on the shape of Sage's real distribution (437 recipes from
// test/fixtures/sage-graph-10.10.json): after one full build, how long does `sagebuild all` take
// when nothing changed? Measured against `node -e 0` (the floor for any Node CLI) and GNU make
// on an equivalent Makefile of stamp files, in the same run. Run with `npm run bench`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSageGraph, writeSageTree } from '../test/fixtures/sage-tree.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function time(cmd: string, args: string[], cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_RETRIES: '0' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return ms;
}

function median(cmd: string, args: string[], cwd: string, before?: () => void): { median: number; min: number } {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    before?.();
    xs.push(time(cmd, args, cwd));
  }
  xs.sort((a, b) => a - b);
  return { median: xs[Math.floor(xs.length / 2)]!, min: xs[0]! };
}

const dir = mkdtempSync(path.join(tmpdir(), 'sagebuild-bench-'));
try {
  const graph = loadSageGraph(path.join(ROOT, 'test', 'fixtures', 'sage-graph-10.10.json'));
  // FORCE (sagelib, sagemath_objects) would rebuild two packages every time: not a no-op.
  writeSageTree(graph, dir, { allScripts: true, noForce: true });
  for (const p of graph.packages) {
    for (const f of p.file_deps) {
      const file = path.join(dir, f.replace('$(SAGE_SRC)', 'src'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, '', { flag: 'a' });
    }
  }
  const optional = graph.packages.filter((p) => p.type !== 'standard' && p.type !== 'base' && p.kind !== 'none').map((p) => p.name);
  // Build everything (optional and experimental packages too) so the no-op covers the whole graph.
  writeFileSync(path.join(dir, 'build.config.yaml'), `optional: [${optional.join(', ')}]\njobs: 4\n`);
  process.stdout.write(`Building ${graph.packages.length} packages once in ${dir} ...\n`);
  const full = time('node', [CLI, '-q', 'all'], dir);
  process.stdout.write(`  full build: ${(full / 1000).toFixed(1)} s\n`);

  // GNU make peer: one stamp file per package, prerequisites = normal + order-only dependencies.
  const mk: string[] = ['STAMPS := stamps', 'all: ' + graph.packages.map((p) => `$(STAMPS)/${p.name}`).join(' '), ''];
  for (const p of graph.packages) {
    const normal = p.deps.filter((d) => d !== 'python3_venv').map((d) => `$(STAMPS)/${d}`);
    const oo = p.order_only_deps.filter((d) => d !== 'python3_venv' && !(p.name === 'sphinx' && d === 'sphinxcontrib_websupport')).map((d) => `$(STAMPS)/${d}`);
    mk.push(`$(STAMPS)/${p.name}: ${normal.join(' ')}${oo.length ? ` | ${oo.join(' ')}` : ''}`, '\t@mkdir -p $(STAMPS) && touch $@', '');
  }
  writeFileSync(path.join(dir, 'Makefile'), mk.join('\n'));
  time('make', ['-s', 'all'], dir);

  const floor = median('node', ['-e', '0'], dir);
  const make = median('make', ['-s', 'all'], dir);
  const warm = median('node', [CLI, '-q', 'all'], dir);
  const cachePath = path.join(dir, 'local/var/lib/sage/sagebuild/hashcache.json');
  const cold = median('node', [CLI, '-q', 'all'], dir, () => rmSync(cachePath, { force: true }));
  // Touch every recipe file: the stat cache misses, contents are re-hashed, nothing rebuilds.
  const touched = median('node', [CLI, '-q', 'all'], dir, () => {
    const t = new Date();
    for (const p of graph.packages) {
      try {
        utimesSync(path.join(dir, 'pkgs', p.name, 'dependencies'), t, t);
      } catch {
        // dummy packages still have the file; ignore any that do not
      }
    }
  });
  const rows: [string, { median: number; min: number }][] = [
    ['node -e 0 (floor)', floor],
    ['GNU make, no-op (peer)', make],
    ['sagebuild all, no-op', warm],
    ['sagebuild all, no-op, hash cache deleted', cold],
    ['sagebuild all, no-op, every dependencies file touched', touched],
  ];
  process.stdout.write(`\nNo-op on ${graph.packages.length} packages (median of ${RUNS} runs):\n`);
  for (const [name, t] of rows) process.stdout.write(`  ${name.padEnd(56)} ${t.median.toFixed(0).padStart(6)} ms  (min ${t.min.toFixed(0)})\n`);
  process.stdout.write(`\nRatios: sagebuild no-op / node floor = ${(warm.median / floor.median).toFixed(2)}x; sagebuild no-op / GNU make = ${(warm.median / make.median).toFixed(2)}x; sagebuild overhead above the floor = ${(warm.median - floor.median).toFixed(0)} ms\n`);
  if (warm.median > 1000) process.stdout.write('WARNING: the no-op build took more than a second\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
