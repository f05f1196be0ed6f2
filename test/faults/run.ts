// Issue 9: seeded random kill -9 of a parallel build, each followed by a rerun and the invariant
// check (test/txn.ts): the rerun succeeds, the journal and backups are empty, every manifest's
// files exist, no file is unowned, one wheel per installed Python distribution, the venv's
// distributions are the manifests' and `pip check` passes, and the prefix (the venv's
// site-packages included) is what clean builds of the chosen versions give.
//
// The tree: C packages (fp<i>: a small shared library compiled with $CC, and `files` data files)
// and pure-Python packages (pyf<j>: in-tree src/ built by `sdh_pip_install .`, `files` modules in
// one package folder; pyf<2k+1> requires pyf<2k>, which requires the toolchain's packaging),
// each at version 1.0 or 1.1, the trials switching about a third of them. The Python toolchain (pip, setuptools, wheel) is built once and copied
// in (test/pyfixtures.ts's withToolchain).
//
//   npm run test:faults [-- --trials N --pkgs N --python N --files N --jobs N --seed S]   (SAGEBUILD_FAULTS_SEED too)
//
// Prints `faults: N trials, N converged, 0 corrupt`; exit 1 if any trial did not converge.
import { execa } from 'execa';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, Rig, processGone, waitFor, type Tree } from '../rig.ts';
import { withToolchain } from '../pyfixtures.ts';
import { rng } from '../fixtures/rng.ts';
import { problems, snapshot, venvProblems } from '../txn.ts';

export interface FaultOptions {
  seed: number;
  trials: number;
  /** Packages in all, of which `python` are Python packages. */
  pkgs: number;
  python: number;
  files: number;
  jobs: number;
  log?: (line: string) => void;
}

export interface FaultResult {
  trials: number;
  converged: number;
  corrupt: number;
  /** Kills that left an install's journal record (an install in progress)... */
  killedMidInstall: number;
  /** ... of which a Python package's ... */
  killedMidPython: number;
  /** ... with a pip step (uninstall of the old dists, install of the new) begun. */
  killedMidPip: number;
  failures: string[];
  seconds: number;
}


/** The packages: C ones first (fp<i>), then the Python ones (pyf<j>). */
function names(o: Pick<FaultOptions, 'pkgs' | 'python'>): string[] {
  const c = o.pkgs - o.python;
  return Array.from({ length: o.pkgs }, (_, i) => (i < c ? `fp${i}` : `pyf${i - c}`));
}

/** C package i at version v: a shared library, `files` files in 10 folders (shell builtins: fast), one file only v has, a hook. */
function cRecipe(i: number, v: string, files: number): Tree {
  const name = `fp${i}`;
  const deps = i === 0 ? '' : `fp${Math.floor((i - 1) / 2)}`;
  const body = [
    `D="$SAGE_DESTDIR_LOCAL/share/${name}"`,
    'mkdir -p "$D"/d0 "$D"/d1 "$D"/d2 "$D"/d3 "$D"/d4 "$D"/d5 "$D"/d6 "$D"/d7 "$D"/d8 "$D"/d9 "$SAGE_DESTDIR_LOCAL/lib/' + name + '"',
    `printf 'const char *${name}_version(void) { return "${v}"; }\\n' > ${name}.c`,
    `\${CC:-gcc} -shared -fPIC -O1 -o "$SAGE_DESTDIR_LOCAL/lib/${name}/lib${name}.so" ${name}.c || sdh_die "compile failed"`,
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

/**
 * Python package j at version v (in-tree src/, `sdh_pip_install .`): `files` modules in its package
 * folder, one module only v has. An odd j needs pyf<j-1>, as a build dependency and a requirement;
 * an even one requires the toolchain's packaging (so that `pip check` has something to check). In
 * pairs, and no C dependency: pip's runs are the slow part, and every change of fp0 rebuilds all
 * the C packages (they form a tree).
 */
function pyRecipe(j: number, v: string, files: number): Tree {
  const name = `pyf${j}`;
  const needs = j % 2 ? `pyf${j - 1}` : '';
  const requires = `, install_requires=["${needs || 'packaging'}"]`;
  const t: Tree = {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${v}\n`,
    [`pkgs/${name}/version_requirements.txt`]: `${name} ==${v}\n`,
    [`pkgs/${name}/dependencies`]: `${needs ? `${needs} ` : ''}$(PYTHON) | $(PYTHON_TOOLCHAIN)\n`,
    [`pkgs/${name}/spkg-install.in`]: 'cd src\nsdh_pip_install .\n',
    [`pkgs/${name}/spkg-postrm.in`]: `echo "${name} ${v} removed" >/dev/null\n`,
    [`pkgs/${name}/src/setup.py`]: `from setuptools import setup\nsetup(name="${name}", version="${v}", packages=["${name}"]${requires})\n`,
    [`pkgs/${name}/src/${name}/__init__.py`]: `VERSION = "${v}"\n`,
    [`pkgs/${name}/src/${name}/only_${v.replace('.', '_')}.py`]: `ONLY = "${v}"\n`,
  };
  for (let i = 0; i < files; i++) t[`pkgs/${name}/src/${name}/m${i}.py`] = `# ${name} ${v}\nNAME, VERSION, I = "${name}", "${v}", ${i}\n`;
  return t;
}

/** The package a prefix path (or a manifest's path) belongs to (fp<i>, pyf<j>), or null for shared ones. */
function ownerOfPath(rel: string): string | null {
  const m =
    /^(?:share|lib|var\/lib\/sage\/scripts)\/(fp\d+|pyf\d+)(?:\/|$)/.exec(rel) ??
    /^lib\/python[\d.]+\/site-packages\/(pyf\d+)(?:\/|$|-[^/]*\.dist-info(?:\/|$))/.exec(rel) ??
    /^var\/lib\/sage\/(?:wheels|installed|sagebuild\/pip-installed)\/(fp\d+|pyf\d+)-/.exec(rel);
  return m ? m[1]! : null;
}

type Snap = ReturnType<typeof snapshot>;

/**
 * What a prefix with these versions holds, from the clean builds of all-1.0 and all-1.1: each
 * package's paths from the build of its version, the shared ones (folders, the toolchain) from
 * either (the same in both: checked).
 */
function expected(refs: Record<string, Snap>, version: Map<string, string>): Snap {
  const pick = <T>(get: (s: Snap) => Record<string, T>): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const k of new Set([...Object.keys(get(refs['1.0']!)), ...Object.keys(get(refs['1.1']!))])) {
      const owner = ownerOfPath(k);
      const x = get(refs[owner ? version.get(owner)! : '1.0']!)[k];
      if (x !== undefined) out[k] = x;
    }
    return out;
  };
  return { content: pick((s) => s.content), manifests: pick((s) => s.manifests) };
}

function compare(actual: Snap, want: Snap): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(actual.content), ...Object.keys(want.content)])) if (actual.content[k] !== want.content[k]) out.push(`${k}: ${actual.content[k] ?? 'absent'}, expected ${want.content[k] ?? 'absent'}`);
  for (const k of new Set([...Object.keys(actual.manifests), ...Object.keys(want.manifests)])) {
    if (JSON.stringify(actual.manifests[k]) !== JSON.stringify(want.manifests[k])) out.push(`manifest ${k}: ${actual.manifests[k] ? 'differs' : 'absent'}${want.manifests[k] ? '' : ' (unexpected)'}`);
  }
  return out;
}

/** The records a killed run left (installs it was in the middle of): how many, Python ones, pip steps begun. */
function leftRecords(dir: string): { n: number; python: number; pip: number } {
  let files: string[];
  try {
    files = readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    files = [];
  }
  const out = { n: files.length, python: 0, pip: 0 };
  for (const f of files) {
    try {
      const [first = '', ...steps] = readFileSync(path.join(dir, f), 'utf8').split('\n');
      if ((JSON.parse(first) as { pip: unknown }).pip) out.python++;
      if (steps.some((s) => s === 'pip-install' || s === 'pip-uninstall')) out.pip++;
    } catch {
      // a record being written: counted, not classified
    }
  }
  return out;
}

export async function runFaults(o: FaultOptions): Promise<FaultResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const random = rng(o.seed);
  const pkgs = names(o);
  const c = o.pkgs - o.python;
  const tree = (rig: Rig, versions: string[]): void => {
    // Each write is the whole recipe; a Python package's src/ is written afresh (one module per version).
    for (let j = 0; j < o.python; j++) rmSync(rig.path('pkgs', `pyf${j}`, 'src'), { recursive: true, force: true });
    rig.write(Object.assign({}, ...versions.map((v, i) => (i < c ? cRecipe(i, v, o.files) : pyRecipe(i - c, v, o.files)))));
  };
  const python = o.python > 0;
  // Reproducible wheels (zip timestamps), so that a rebuilt wheel equals the clean build's.
  const env = { PIP_RETRIES: '0', SOURCE_DATE_EPOCH: '1700000000' };
  const jobs = ['-j', String(o.jobs)];
  const rigs: Rig[] = [];
  const newRig = async (name: string): Promise<Rig> => {
    const rig = new Rig(name);
    rigs.push(rig);
    if (python) await withToolchain(rig, 'jobs: 2\n');
    else rig.write({ 'build.config.yaml': 'prefix: local\n' });
    return rig;
  };
  const snap = (rig: Rig) => snapshot(rig.path('local'), { venv: python, site: python });
  const check = async (rig: Rig): Promise<string[]> => [...problems(rig.path('local'), { venv: python }), ...(python ? await venvProblems(rig.path('local')) : [])];
  const result: FaultResult = { trials: 0, converged: 0, corrupt: 0, killedMidInstall: 0, killedMidPython: 0, killedMidPip: 0, failures: [], seconds: 0 };
  try {
    // The references: clean builds at all-1.0 and all-1.1, each in a rig of its own.
    const refs: Record<string, Snap> = {};
    for (const v of ['1.0', '1.1']) {
      const ref = await newRig(`sagebuild-faults-ref${v}`);
      tree(ref, Array(o.pkgs).fill(v));
      const r = await ref.runEnv(env, ...jobs, 'all');
      if (r.exitCode !== 0) throw new Error(`the clean build at ${v} failed:\n${r.all}`);
      const bad = await check(ref);
      if (bad.length) throw new Error(`the clean build at ${v} breaks the invariants: ${bad.join('; ')}`);
      refs[v] = snap(ref);
    }
    const shared = compare(expected(refs, new Map(pkgs.map((p) => [p, '1.0']))), refs['1.0']!).concat(compare(expected(refs, new Map(pkgs.map((p) => [p, '1.1']))), refs['1.1']!));
    if (shared.length) throw new Error(`the clean builds differ outside their packages (not reproducible?): ${shared.slice(0, 10).join('; ')}`);
    const rig = await newRig('sagebuild-faults');
    let versions: string[] = Array(o.pkgs).fill('1.0');
    tree(rig, versions);
    let started = Date.now();
    const first = await rig.runEnv(env, ...jobs, 'all');
    if (first.exitCode !== 0) throw new Error(`the first build failed:\n${first.all}`);
    let lastRunMs = Date.now() - started;
    for (let t = 1; t <= o.trials; t++) {
      result.trials++;
      // About a third of the packages change version (and their dependents rebuild).
      versions = versions.map((v) => (random() < 0.35 ? (v === '1.0' ? '1.1' : '1.0') : v));
      tree(rig, versions);
      const delay = Math.floor(random() * lastRunMs * 1.1);
      const run = execa('node', [CLI, ...jobs, 'all'], { cwd: rig.dir, reject: false, all: true, env });
      const timer = setTimeout(() => run.kill('SIGKILL'), delay);
      const killed = await run;
      clearTimeout(timer);
      await waitFor('the killed run to be gone', () => processGone(run.pid!), 30_000);
      const left = leftRecords(rig.path('local/var/lib/sage/sagebuild/journal'));
      if (left.n) result.killedMidInstall++;
      if (left.python) result.killedMidPython++;
      if (left.pip) result.killedMidPip++;
      started = Date.now();
      const re = await rig.runEnv(env, ...jobs, 'all');
      lastRunMs = Math.max(500, Date.now() - started);
      const bad: string[] = [];
      if (re.exitCode !== 0) bad.push(`the rerun exited ${re.exitCode}:\n${re.all}`);
      bad.push(...(await check(rig)));
      bad.push(...compare(snap(rig), expected(refs, new Map(pkgs.map((p, i) => [p, versions[i]!])))));
      const progress = left.n ? ` (${left.n} install(s) in progress${left.python ? `, ${left.python} Python${left.pip ? `, ${left.pip} past a pip step` : ''}` : ''})` : '';
      const what = killed.signal === 'SIGKILL' ? `killed after ${delay} ms${progress}` : `finished before the kill (${delay} ms)`;
      if (bad.length) {
        result.corrupt++;
        result.failures.push(`trial ${t} (${what}): ${bad.slice(0, 10).join('; ')}`);
        log(`trial ${t}: ${what}: CORRUPT: ${bad.slice(0, 5).join('; ')}`);
        // Start the next trial from a clean prefix, so that one failure is counted once.
        await rig.runEnv(env, '-k', ...pkgs.map((p) => `${p}-clean`));
        await rig.runEnv(env, ...jobs, 'all');
      } else {
        result.converged++;
        const n = (re.stderr.match(/recovered an interrupted install/g) ?? []).length;
        log(`trial ${t}: ${what}: converged${n ? ` (${n} recovered)` : ''}`);
      }
    }
  } finally {
    result.seconds = Math.round((Date.now() - t0) / 1000);
    for (const r of rigs) r.cleanup();
  }
  return result;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined ? fallback : Number(v);
}

// Run as a program (npm run test:faults), not when faults.test.ts imports it; bundled into that
// test file (test/all.mjs), import.meta.url is the test process's own script, so the name decides.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self && path.basename(self) === 'run.ts') {
  const seed = arg('seed', Number(process.env.SAGEBUILD_FAULTS_SEED ?? Date.now() % 1_000_000));
  const o: FaultOptions = { seed, trials: arg('trials', 100), pkgs: arg('pkgs', 20), python: arg('python', 5), files: arg('files', 300), jobs: arg('jobs', 4), log: (l) => process.stdout.write(`${l}\n`) };
  process.stdout.write(`faults: seed ${o.seed}, ${o.trials} trials, ${o.pkgs} packages (${o.pkgs - o.python} C, ${o.python} Python) x ${o.files} files, -j ${o.jobs}\n`);
  const r = await runFaults(o);
  for (const f of r.failures) process.stdout.write(`${f}\n`);
  process.stdout.write(`faults: ${r.trials} trials, ${r.converged} converged, ${r.corrupt} corrupt (seed ${o.seed}; ${r.killedMidInstall} killed with an install in progress, ${r.killedMidPython} of them a Python package's, ${r.killedMidPip} past a pip step; ${r.seconds} s)\n`);
  process.exitCode = r.corrupt || r.trials < o.trials ? 1 : 0;
}
