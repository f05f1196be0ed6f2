// `npm run bench`: what orchestration costs, sagebuild against GNU make on the same graphs, in one
// run (issue 10's benchmark). On the shape of Sage 10.10's real distribution
// (test/fixtures/sage-graph-10.10.json, plus python3_venv as a recipe):
//   1. full builds at 30 s and 300 s of seeded heavy-tailed `sleep` work, -j 8, the two tools
//      alternating, against the lower bound max(critical path, work / 8);
//   2. the all-`sleep 0` build: wall, CPU per package (the whole process tree), programs started
//      per package (strace), peak RSS;
//   3. a no-op `all` against `node -e 0` and make;
//   4. a scale series on seeded random DAGs (500, 2,000, 10,000 packages, sleep 0): CPU per
//      package, no-op, peak RSS;
//   5. at both sizes, a second build with the first build's durations.json kept.
// Writes bench/results.md. `--quick`: the same steps at small sizes, one run each, results to a
// temp file (or `--out FILE`); what test/bench.test.ts runs. Performance is measured here, never
// asserted.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { durationsFile } from '../src/state/layout.ts';
import { loadSageGraph, type SageGraph } from '../test/fixtures/sage-tree.ts';
import { median, SIGMA } from './stats.ts';
import { onTerminal, programs, TOOLS, usage, wall, type Usage } from './measure.ts';
import { durations, hasRecipe, lowerBound, MARKERS, randomGraph, sageBenchGraph, STAMPS, writeBenchTree } from './trees.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SEED = 10010;
const JOBS = 8;

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outAt = argv.indexOf('--out');
const env = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
/** The only difference between the modes: sizes and repetitions. */
const SIZES = quick
  ? { sageMax: 15, work: [1], pairs: 1, cpuRuns: 1, noopRuns: 1, scale: [20, 60], scaleNoopRuns: 1 }
  : { sageMax: Infinity, work: [30, 300], pairs: env('BENCH_PAIRS', 3), cpuRuns: env('BENCH_CPU_RUNS', 3), noopRuns: env('BENCH_RUNS', 7), scale: [500, 2000, 10000], scaleNoopRuns: env('BENCH_SCALE_RUNS', 5) };
const OUT = outAt >= 0 ? path.resolve(argv[outAt + 1] ?? '') : quick ? path.join(os.tmpdir(), `sagebuild-bench-quick-${process.pid}.md`) : path.join(ROOT, 'bench', 'results.md');

const SB = ['node', CLI, '-q', 'all'];
const MK = ['make', '-s', `-j${JOBS}`, 'all'];

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}`;
const mb = (kb: number | null): string => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const NA = 'n/a';

/** A markdown table: printed as it is and written to results.md. */
interface Table {
  title: string;
  head: string[];
  rows: string[][];
  notes: string[];
}
const tables: Table[] = [];
function table(t: Table): void {
  tables.push(t);
  log(`\n${render(t)}`);
}
function render(t: Table): string {
  const all = [t.head, ...t.rows];
  const w = t.head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  const rule = `| ${w.map((n, i) => (i ? '-'.repeat(n - 1) + ':' : '-'.repeat(n))).join(' | ')} |`;
  return [`### ${t.title}`, '', line(t.head), rule, ...t.rows.map(line), ...(t.notes.length ? ['', ...t.notes] : [])].join('\n');
}

/** A prefix (and make's stamps) as if nothing had ever been built. */
function fresh(dir: string): void {
  for (const d of ['local', 'logs', STAMPS]) rmSync(path.join(dir, d), { recursive: true, force: true });
}

/** A build that did not build everything is not a measurement. */
function checkBuilt(dir: string, g: SageGraph, tool: 'sagebuild' | 'make'): void {
  const [where, want] = tool === 'make' ? [STAMPS, g.packages.length] : [MARKERS, g.packages.filter(hasRecipe).length];
  const got = existsSync(path.join(dir, where)) ? readdirSync(path.join(dir, where)).length : 0;
  if (got !== want) throw new Error(`${tool} in ${dir}: ${got} of ${want} packages built`);
}

function sbBuild(dir: string, g: SageGraph, measure: (argv: string[], cwd: string) => number = wall): number {
  const t = measure(SB, dir);
  checkBuilt(dir, g, 'sagebuild');
  return t;
}
function mkBuild(dir: string, g: SageGraph, measure: (argv: string[], cwd: string) => number = wall): number {
  const t = measure(MK, dir);
  checkBuilt(dir, g, 'make');
  return t;
}

function gitHead(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : NA;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sagebuild-bench-'));
const started = new Date();
const loadBefore = os.loadavg();
try {
  const sage = sageBenchGraph(loadSageGraph(path.join(ROOT, 'test', 'fixtures', 'sage-graph-10.10.json')), SIZES.sageMax);
  const n = sage.packages.length;
  log(`sagebuild benchmark (${quick ? 'quick' : 'full'}): ${n} packages of Sage 10.10's graph, -j ${JOBS}, seed ${SEED}, in ${tmp}`);
  log(`tools: node ${process.version}; ${TOOLS.make}; GNU time ${TOOLS.gnuTime ?? NA}; strace ${TOOLS.strace ?? NA}`);

  // 1 and 5: full builds of seeded heavy-tailed work, each followed by a second build that ranks
  // by the durations the first recorded.
  const fullRows: string[][] = [];
  const secondRows: string[][] = [];
  for (const total of SIZES.work) {
    const dir = path.join(tmp, `work-${total}s`);
    const d = durations(sage, total, SEED);
    writeBenchTree(dir, sage, d, JOBS);
    const lb = lowerBound(sage, d, JOBS);
    const sb: number[] = [];
    const mk: number[] = [];
    const second: number[] = [];
    const kept = path.join(tmp, 'durations.json');
    for (let i = 0; i < SIZES.pairs; i++) {
      for (const tool of i % 2 ? (['make', 'sagebuild'] as const) : (['sagebuild', 'make'] as const)) {
        fresh(dir);
        if (tool === 'make') {
          mk.push(mkBuild(dir, sage));
          log(`  ${total} s of work, run ${i + 1}: GNU make ${sec(mk.at(-1)!)}`);
          continue;
        }
        sb.push(sbBuild(dir, sage));
        log(`  ${total} s of work, run ${i + 1}: sagebuild ${sec(sb.at(-1)!)}`);
        // 5: the installed state goes, the recorded build times stay.
        copyFileSync(durationsFile(path.join(dir, 'local')), kept);
        fresh(dir);
        mkdirSync(path.dirname(durationsFile(path.join(dir, 'local'))), { recursive: true });
        copyFileSync(kept, durationsFile(path.join(dir, 'local')));
        second.push(sbBuild(dir, sage));
        log(`  ${total} s of work, run ${i + 1}: sagebuild with recorded durations ${sec(second.at(-1)!)}`);
      }
    }
    const [s, m, b] = [median(sb) / 1000, median(mk) / 1000, lb.bound];
    fullRows.push([`${total} s of work`, `${b.toFixed(2)} s (cp ${lb.cp.toFixed(2)}, work/${JOBS} ${(lb.work / JOBS).toFixed(2)})`, `${s.toFixed(2)} s`, `${m.toFixed(2)} s`, ratio(s, b), ratio(m, b), ratio(s, m)]);
    const s2 = median(second) / 1000;
    secondRows.push(
      [`first build (no recorded durations), ${total} s of work`, `${s.toFixed(2)} s`, ratio(s, b), ratio(s, m)],
      [`second build (durations.json kept), ${total} s of work`, `${s2.toFixed(2)} s`, ratio(s2, b), ratio(s2, m)],
    );
    rmSync(dir, { recursive: true, force: true });
  }
  table({
    title: `Full builds, ${n} packages, -j ${JOBS}, fresh prefix each (median of ${SIZES.pairs} runs per tool, alternating)`,
    head: ['work', 'lower bound', 'sagebuild', 'GNU make', 'sagebuild/bound', 'make/bound', 'sagebuild/make'],
    rows: fullRows,
    notes: ['Lower bound: max(critical path of the durations over normal and order-only edges, total work / jobs). Makespans are whole-process wall times (start, analysis and exit included).'],
  });
  table({
    title: `Second build with recorded durations (durations.json kept, installed state removed; median of ${SIZES.pairs} runs)`,
    head: ['', 'sagebuild', 'sagebuild/bound', 'sagebuild/make'],
    rows: secondRows,
    notes: [],
  });

  // 2: every recipe sleep 0: what is left is the tools' own cost.
  const zero = path.join(tmp, 'sleep0');
  writeBenchTree(zero, sage, durations(sage, 0, SEED), JOBS);
  const cpuOf = (argv: string[], measure: () => Usage): Usage => {
    fresh(zero);
    const u = measure();
    checkBuilt(zero, sage, argv === SB ? 'sagebuild' : 'make');
    return u;
  };
  const sbU: Usage[] = [];
  const mkU: Usage[] = [];
  for (let i = 0; i < SIZES.cpuRuns; i++) {
    for (const tool of i % 2 ? [MK, SB] : [SB, MK]) (tool === SB ? sbU : mkU).push(cpuOf(tool, () => usage(tool, zero, tmp)));
  }
  log(`  sleep 0: sagebuild ${sec(median(sbU.map((u) => u.wallMs)))}, GNU make ${sec(median(mkU.map((u) => u.wallMs)))}`);
  fresh(zero);
  const sbP = programs(SB, zero, tmp);
  checkBuilt(zero, sage, 'sagebuild');
  const mkP = programs(MK, zero, tmp);
  checkBuilt(zero, sage, 'make');
  const med = (us: Usage[], f: (u: Usage) => number | null): number | null => (us.some((u) => f(u) === null) ? null : median(us.map((u) => f(u)!)));
  const sbCpu = med(sbU, (u) => u.cpuMs)! / n;
  const mkCpu = med(mkU, (u) => u.cpuMs)! / n;
  const perPkg = (p: typeof sbP): string => (p ? (p.count / n).toFixed(2) : NA);
  const top = (p: typeof sbP): string => (p ? p.top.map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ') : NA);
  table({
    title: `Every recipe \`sleep 0\`, ${n} packages, -j ${JOBS} (median of ${SIZES.cpuRuns} runs per tool)`,
    head: ['', 'sagebuild', 'GNU make', 'sagebuild/make'],
    rows: [
      ['wall', sec(median(sbU.map((u) => u.wallMs))), sec(median(mkU.map((u) => u.wallMs))), ratio(median(sbU.map((u) => u.wallMs)), median(mkU.map((u) => u.wallMs)))],
      ['CPU per package (user+sys, whole tree)', ms(sbCpu), ms(mkCpu), ratio(sbCpu, mkCpu)],
      ['programs started per package', perPkg(sbP), perPkg(mkP), sbP && mkP ? ratio(sbP.count, mkP.count) : NA],
      ['peak RSS (largest process)', mb(med(sbU, (u) => u.maxRssKb)), mb(med(mkU, (u) => u.maxRssKb)), NA],
    ],
    notes: [
      `CPU: ${TOOLS.gnuTime ? 'GNU time' : "bash's `times`"}, user+sys of the tool and every process it waited for. Programs: successful execve calls under \`strace -f\` (one run each; the tool's own start not counted). Peak RSS: GNU time's %M.`,
      `Programs per package, most frequent: sagebuild: ${top(sbP)}; make: ${top(mkP)}.`,
    ],
  });

  // 2b: what the live status line costs: the same build on a pseudo-terminal, its output on the
  // terminal (status line, ✔ lines) or piped (prefixed lines), alternating.
  const SBV = ['node', CLI, 'all'];
  const ttyRuns: number[] = [];
  const pipeRuns: number[] = [];
  if (TOOLS.script) {
    for (let i = 0; i < SIZES.cpuRuns; i++) {
      for (const mode of i % 2 ? (['pipe', 'tty'] as const) : (['tty', 'pipe'] as const)) {
        fresh(zero);
        (mode === 'tty' ? ttyRuns : pipeRuns).push(wall(onTerminal(SBV, mode), zero));
        checkBuilt(zero, sage, 'sagebuild');
      }
    }
  }
  const tty = ttyRuns.length ? median(ttyRuns) : null;
  const piped = pipeRuns.length ? median(pipeRuns) : null;
  table({
    title: `The live status line's cost: every recipe \`sleep 0\`, ${n} packages, -j ${JOBS}, on a pseudo-terminal (median of ${SIZES.cpuRuns} runs each)`,
    head: ['', 'wall', 'vs piped'],
    rows: [
      ['output on the terminal (status line, ✔ lines)', tty === null ? NA : sec(tty), tty === null || piped === null ? NA : ratio(tty, piped)],
      ['output piped (prefixed lines)', piped === null ? NA : sec(piped), piped === null ? NA : '1.00'],
    ],
    notes: [TOOLS.script ? 'script -qec, a 100x30 terminal; the same wrapper both ways.' : 'n/a: util-linux script(1) is absent.'],
  });

  // 3: the no-op on the tree both tools just built.
  wall(SB, zero);
  wall(MK, zero);
  const times = (argv: string[], runs: number, cwd: string, before?: () => void): number[] =>
    Array.from({ length: runs }, () => {
      before?.();
      return wall(argv, cwd);
    });
  const row = (label: string, xs: number[]): string[] => [label, ms(median(xs)), ms(Math.min(...xs))];
  const floor = times(['node', '-e', '0'], SIZES.noopRuns, zero);
  const mkNoop = times(MK, SIZES.noopRuns, zero);
  const warm = times(SB, SIZES.noopRuns, zero);
  const cachePath = path.join(zero, 'local/var/lib/sage/sagebuild/hashcache.json');
  const cold = times(SB, SIZES.noopRuns, zero, () => rmSync(cachePath, { force: true }));
  const touched = times(SB, SIZES.noopRuns, zero, () => {
    // The stat cache misses, contents are re-hashed, nothing rebuilds.
    const t = new Date();
    for (const p of sage.packages) utimesSync(path.join(zero, 'pkgs', p.name, 'dependencies'), t, t);
  });
  const noopRss = usage(SB, zero, tmp).maxRssKb;
  const w = median(warm);
  const f = median(floor);
  table({
    title: `No-op \`all\`, ${n} packages (median of ${SIZES.noopRuns} runs)`,
    head: ['', 'median', 'min'],
    rows: [
      row('node -e 0 (floor)', floor),
      row('GNU make, no-op (peer)', mkNoop),
      row('sagebuild all, no-op', warm),
      row('sagebuild all, no-op, hash cache deleted', cold),
      row('sagebuild all, no-op, every dependencies file touched', touched),
    ],
    notes: [`Ratios: sagebuild no-op / node floor = ${ratio(w, f)}x; sagebuild no-op / GNU make = ${ratio(w, median(mkNoop))}x; sagebuild above the floor = ${ms(w - f)}. Peak RSS of a sagebuild no-op (one run): ${mb(noopRss)}.`],
  });
  rmSync(zero, { recursive: true, force: true });

  // 4: scale series on random DAGs, sleep 0.
  const scaleRows: string[][] = [];
  for (const size of SIZES.scale) {
    const dir = path.join(tmp, `scale-${size}`);
    const g = randomGraph(size, SEED);
    writeBenchTree(dir, g, durations(g, 0, SEED), JOBS);
    fresh(dir);
    const sbB = usage(SB, dir, tmp);
    checkBuilt(dir, g, 'sagebuild');
    const mkB = usage(MK, dir, tmp);
    checkBuilt(dir, g, 'make');
    wall(SB, dir);
    const noop = times(SB, SIZES.scaleNoopRuns, dir);
    const noopU = usage(SB, dir, tmp);
    const mkNo = times(MK, SIZES.scaleNoopRuns, dir);
    log(`  ${size} packages: sagebuild build ${sec(sbB.wallMs)}, no-op ${ms(median(noop))}`);
    scaleRows.push([`${size} packages`, sec(sbB.wallMs), ms(sbB.cpuMs / size), ms(mkB.cpuMs / size), ms(median(noop)), ms(median(mkNo)), mb(sbB.maxRssKb), mb(noopU.maxRssKb)]);
    rmSync(dir, { recursive: true, force: true });
  }
  table({
    title: `Scale: random DAGs (each package depends on up to 3 random earlier ones, seed ${SEED}), every recipe \`sleep 0\`, -j ${JOBS}`,
    head: ['', 'sagebuild build', 'sagebuild CPU/pkg', 'make CPU/pkg', 'sagebuild no-op', 'make no-op', 'sagebuild peak RSS, build', 'peak RSS, no-op'],
    rows: scaleRows,
    notes: [`One build per size; no-op: median of ${SIZES.scaleNoopRuns} runs. CPU: the whole process tree. Peak RSS: GNU time's %M (the largest process, node).`],
  });


  const header = [
    `# sagebuild benchmark${quick ? ' (quick mode: small sizes, one run each; not comparable with the full figures)' : ''}`,
    '',
    `- date: ${started.toISOString()} (took ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`,
    `- machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? NA}), load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`,
    `- node ${process.version}; ${TOOLS.make}; GNU time: ${TOOLS.gnuTime ?? NA}; strace: ${TOOLS.strace ?? NA}; sagebuild ${gitHead()}`,
    `- Sage-shaped graph: ${n} packages (Sage 10.10's ${quick ? `first ${n} by dependency closure` : 'whole graph'}, python3_venv a sleep recipe like the others); -j ${JOBS}; seed ${SEED}; durations lognormal (sigma ${SIGMA}) scaled to the total`,
    `- sagebuild: \`node dist/cli.js ${SB.slice(2).join(' ')}\` with build.config.yaml \`jobs: ${JOBS}\` and every optional package listed; make: \`${MK.join(' ')}\`; PIP_RETRIES=0`,
    `- reproduce: \`npm run bench${quick ? ' -- --quick' : ''}\``,
  ];
  writeFileSync(OUT, [header.join('\n'), ...tables.map(render)].join('\n\n') + '\n');
  log(`\nresults written to ${OUT}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
