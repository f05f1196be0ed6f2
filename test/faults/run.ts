// Issue 9: seeded random kill -9 of a parallel build, each followed by a rerun and the invariant
// check (test/txn.ts): the rerun succeeds, the journal and backups are empty, every manifest's
// files exist, no file is unowned, and the prefix is what clean builds of the chosen versions give.
//
//   npm run test:faults [-- --trials N --pkgs N --files N --jobs N --seed S]   (SAGEBUILD_FAULTS_SEED too)
//
// Prints `faults: N trials, N converged, 0 corrupt`; exit 1 if any trial did not converge.
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, Rig, processGone, waitFor, type Tree } from '../rig.ts';
import { problems, snapshot } from '../txn.ts';

export interface FaultOptions {
  seed: number;
  trials: number;
  pkgs: number;
  files: number;
  jobs: number;
  log?: (line: string) => void;
}

export interface FaultResult {
  trials: number;
  converged: number;
  corrupt: number;
  killedMidInstall: number;
  failures: string[];
  seconds: number;
}

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Package i at version v: `files` files in 10 folders (shell builtins only: fast), one file only v has, a hook. */
function recipe(i: number, v: string, files: number): Tree {
  const name = `fp${i}`;
  const deps = i === 0 ? '' : `fp${Math.floor((i - 1) / 2)}`;
  const body = [
    `D="$SAGE_DESTDIR_LOCAL/share/${name}"`,
    'mkdir -p "$D"/d0 "$D"/d1 "$D"/d2 "$D"/d3 "$D"/d4 "$D"/d5 "$D"/d6 "$D"/d7 "$D"/d8 "$D"/d9 "$SAGE_DESTDIR_LOCAL/lib/' + name + '"',
    `for i in $(seq 0 ${files - 1}); do echo "${name} ${v} $i" > "$D/d$((i % 10))/f$i.txt"; done`,
    `echo "${name} ${v}" > "$SAGE_DESTDIR_LOCAL/lib/${name}/only-${v}.txt"`,
    `ln -s d0/f0.txt "$D/link"`,
  ].join('\n');
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${v}\n`,
    [`pkgs/${name}/spkg-install.in`]: body + '\n',
    [`pkgs/${name}/spkg-postrm.in`]: `echo "${name} ${v} removed" >/dev/null\n`,
    ...(deps ? { [`pkgs/${name}/dependencies`]: `${deps}\n` } : {}),
  };
}

/** The package a prefix path belongs to (fp<i>), or null for shared folders. */
function ownerOfPath(rel: string): string | null {
  const m = /^(?:share|lib|var\/lib\/sage\/scripts)\/(fp\d+)(?:\/|$)/.exec(rel);
  return m ? m[1]! : null;
}

type Snap = ReturnType<typeof snapshot>;

/** What a prefix with these versions holds, from the clean builds of all-1.0 and all-1.1. */
function expected(refs: Record<string, Snap>, versions: string[]): Snap {
  const content: Record<string, string> = {};
  const manifests: Record<string, string[]> = {};
  versions.forEach((v, i) => {
    const ref = refs[v]!;
    for (const [k, x] of Object.entries(ref.content)) if (ownerOfPath(k) === `fp${i}`) content[k] = x;
    const key = `var/lib/sage/installed/fp${i}-${v}`;
    manifests[key] = ref.manifests[key]!;
  });
  return { content, manifests };
}

function compare(actual: Snap, want: Snap): string[] {
  const out: string[] = [];
  const own = Object.fromEntries(Object.entries(actual.content).filter(([k]) => ownerOfPath(k) !== null));
  for (const [k, x] of Object.entries(actual.content)) if (ownerOfPath(k) === null && x !== 'dir') out.push(`${k}: unexpected ${x}`);
  for (const k of new Set([...Object.keys(own), ...Object.keys(want.content)])) if (own[k] !== want.content[k]) out.push(`${k}: ${own[k] ?? 'absent'}, expected ${want.content[k] ?? 'absent'}`);
  for (const k of new Set([...Object.keys(actual.manifests), ...Object.keys(want.manifests)])) {
    if (JSON.stringify(actual.manifests[k]) !== JSON.stringify(want.manifests[k])) out.push(`manifest ${k}: ${actual.manifests[k] ? 'differs' : 'absent'}${want.manifests[k] ? '' : ' (unexpected)'}`);
  }
  return out;
}

export async function runFaults(o: FaultOptions): Promise<FaultResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const random = rng(o.seed);
  const rig = new Rig('sagebuild-faults');
  const tree = (versions: string[]): Tree => Object.assign({}, ...versions.map((v, i) => recipe(i, v, o.files)));
  const env = { PIP_RETRIES: '0' };
  const result: FaultResult = { trials: 0, converged: 0, corrupt: 0, killedMidInstall: 0, failures: [], seconds: 0 };
  try {
    rig.write({ 'build.config.yaml': `prefix: local\njobs: ${o.jobs}\n` });
    const refs: Record<string, Snap> = {};
    for (const v of ['1.0', '1.1']) {
      rig.write(tree(Array(o.pkgs).fill(v)));
      const r = await rig.run('--prefix', `ref-${v}`, 'all');
      if (r.exitCode !== 0) throw new Error(`the clean build at ${v} failed:\n${r.all}`);
      refs[v] = snapshot(rig.path(`ref-${v}`));
    }
    let versions: string[] = Array(o.pkgs).fill('1.0');
    rig.write(tree(versions));
    let started = Date.now();
    const first = await rig.run('all');
    if (first.exitCode !== 0) throw new Error(`the first build failed:\n${first.all}`);
    let lastRunMs = Date.now() - started;
    for (let t = 1; t <= o.trials; t++) {
      result.trials++;
      // About a third of the packages change version (and their dependents rebuild).
      versions = versions.map((v) => (random() < 0.35 ? (v === '1.0' ? '1.1' : '1.0') : v));
      rig.write(tree(versions));
      const delay = Math.floor(random() * lastRunMs * 1.1);
      const run = execa('node', [CLI, 'all'], { cwd: rig.dir, reject: false, all: true, env });
      const timer = setTimeout(() => run.kill('SIGKILL'), delay);
      const killed = await run;
      clearTimeout(timer);
      await waitFor('the killed run to be gone', () => processGone(run.pid!), 30_000);
      const journal = rig.path('local/var/lib/sage/sagebuild/journal');
      const left = snapshotJournal(journal);
      if (left) result.killedMidInstall++;
      started = Date.now();
      const re = await rig.run('all');
      lastRunMs = Math.max(500, Date.now() - started);
      const bad: string[] = [];
      if (re.exitCode !== 0) bad.push(`the rerun exited ${re.exitCode}:\n${re.all}`);
      bad.push(...problems(rig.path('local')));
      bad.push(...compare(snapshot(rig.path('local')), expected(refs, versions)));
      const what = killed.signal === 'SIGKILL' ? `killed after ${delay} ms${left ? ` (${left} install(s) in progress)` : ''}` : `finished before the kill (${delay} ms)`;
      if (bad.length) {
        result.corrupt++;
        result.failures.push(`trial ${t} (${what}): ${bad.slice(0, 10).join('; ')}`);
        log(`trial ${t}: ${what}: CORRUPT: ${bad.slice(0, 5).join('; ')}`);
        // Start the next trial from a clean prefix, so that one failure is counted once.
        await rig.run('-k', ...versions.map((_, i) => `fp${i}-clean`));
        await rig.run('all');
      } else {
        result.converged++;
        log(`trial ${t}: ${what}: converged${/recovered an interrupted install/.test(re.stderr) ? ` (${(re.stderr.match(/recovered an interrupted install/g) ?? []).length} recovered)` : ''}`);
      }
    }
  } finally {
    result.seconds = Math.round((Date.now() - t0) / 1000);
    rig.cleanup();
  }
  return result;
}

/** How many records a killed run left (installs it was in the middle of). */
function snapshotJournal(dir: string): number {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.')).length;
  } catch {
    return 0;
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined ? fallback : Number(v);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seed = arg('seed', Number(process.env.SAGEBUILD_FAULTS_SEED ?? Date.now() % 1_000_000));
  const o: FaultOptions = { seed, trials: arg('trials', 100), pkgs: arg('pkgs', 20), files: arg('files', 300), jobs: arg('jobs', 4), log: (l) => process.stdout.write(`${l}\n`) };
  process.stdout.write(`faults: seed ${o.seed}, ${o.trials} trials, ${o.pkgs} packages x ${o.files} files, -j ${o.jobs}\n`);
  const r = await runFaults(o);
  for (const f of r.failures) process.stdout.write(`${f}\n`);
  process.stdout.write(`faults: ${r.trials} trials, ${r.converged} converged, ${r.corrupt} corrupt (seed ${o.seed}; ${r.killedMidInstall} killed with an install in progress; ${r.seconds} s)\n`);
  process.exitCode = r.corrupt || r.trials < o.trials ? 1 : 0;
}
