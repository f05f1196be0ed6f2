// Fixtures for Python tests: the shipped pip/setuptools/wheel recipes (pip kind, from the
// machine's configured package index), a prefix with them built (once per test run), in-tree
// source packages and hand-made wheels.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { processAlive, processStart } from '../src/util/proc.ts';
import { interpreterBinary } from '../src/python/interpreter.ts';
import { ROOT, runInProcess, waitFor, type Rig, type Tree } from './rig.ts';

export const TOOLCHAIN_CONFIG = 'variables:\n  PYTHON_TOOLCHAIN: [setuptools, pip, wheel]\n';
const TOOLCHAIN = ['pip', 'setuptools', 'wheel', 'packaging'];

export function copyToolchain(rig: Rig): void {
  for (const p of TOOLCHAIN) cpSync(path.join(ROOT, 'pkgs', p), rig.path('pkgs', p), { recursive: true });
}

/** sha256 of every file below `dir` (names and contents), in name order. */
function hashTree(dir: string, h = createHash('sha256')): ReturnType<typeof createHash> {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (lstatSync(p).isDirectory()) hashTree(p, h.update(`${name}/`));
    else h.update(`${name}\0`).update(readFileSync(p));
  }
  return h;
}

/**
 * Copies the tree `from` to `to`, writing `to` wherever a file or symlink says `from`, as conda
 * relocates a prefix: the copy is what building at `to` leaves. Compiled bytecode (__pycache__) is
 * copied as it is: it names `from` only in its code objects' file names (tracebacks), and Python
 * checks it against the source's mtime and size, both kept. Without it every pip run of a test
 * compiles pip again in memory (under PYTHONDONTWRITEBYTECODE nothing is written back): 2.3x the
 * CPU of a pip run with it.
 */
function copyRelocated(from: string, to: string, rel = ''): void {
  mkdirSync(path.join(to, rel), { recursive: true });
  const relocate = (text: string) => text.split(from).join(to);
  for (const name of readdirSync(path.join(from, rel))) {
    const r = path.join(rel, name);
    const src = path.join(from, r);
    const dest = path.join(to, r);
    if (name === '__pycache__') {
      cpSync(src, dest, { recursive: true, preserveTimestamps: true });
      continue;
    }
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(relocate(readlinkSync(src)), dest);
    else if (st.isDirectory()) copyRelocated(from, to, r);
    else {
      const data = readFileSync(src);
      if (data.includes(from)) {
        if (data.includes(0)) throw new Error(`cannot relocate ${src}: a binary file naming ${from}`);
        writeFileSync(dest, relocate(data.toString('utf8')), { mode: st.mode });
      } else copyFileSync(src, dest);
      utimesSync(dest, st.atime, st.mtime);
    }
  }
}

/**
 * `<tmpdir>/<prefix><runner pid>-<its start>`: a name for what one test run shares between its
 * files (the test runner is each file's parent process). What runs that ended left under
 * `prefix` (outside test/all.mjs, in the system's temp folder) is removed first.
 */
function perRun(prefix: string): string {
  const run = `${process.ppid}-${processStart(process.ppid) ?? 0}`;
  for (const d of readdirSync(tmpdir()).filter((x) => x.startsWith(prefix))) {
    const [pid, start] = d.slice(prefix.length).split(/[-.]/);
    if (`${pid}-${start}` !== run && (!processAlive(Number(pid)) || String(processStart(Number(pid)) ?? 0) !== start)) rmSync(path.join(tmpdir(), d), { recursive: true, force: true });
  }
  return path.join(tmpdir(), `${prefix}${run}`);
}

/**
 * Gives the rig the Python toolchain (pip, setuptools, wheel, packaging, in the prefix's venv),
 * as `sagebuild all` with TOOLCHAIN_CONFIG + `extraConfig` leaves it: built by a real sagebuild
 * run once per test run (per config and sagebuild source; the first test file that needs it
 * builds it, the others wait) and copied in relocated. Checked to be up to date where it lands.
 * Call it before writing the rig's own files.
 */
export async function withToolchain(rig: Rig, extraConfig = ''): Promise<void> {
  // Built once under TOOLCHAIN_CONFIG alone; the rig's extra settings (jobs: ...) are written
  // after the copy, and the check below says if one of them made the copy out of date.
  const config = TOOLCHAIN_CONFIG;
  const key = createHash('sha256').update(config);
  for (const p of TOOLCHAIN) hashTree(path.join(ROOT, 'pkgs', p), key.update(`pkgs/${p}/`));
  hashTree(path.join(ROOT, 'src'), key.update('src/'));
  const fixture = `${perRun('sagebuild-test-toolchain-')}-${key.digest('hex').slice(0, 16)}`;
  const tree = path.join(fixture, 'tree');
  const ready = path.join(fixture, 'ready');
  const lock = `${fixture}.lock`;
  while (!existsSync(ready)) {
    try {
      mkdirSync(lock, { recursive: false });
    } catch {
      // Another test file builds it: wait until it is ready, or its builder is gone.
      const owner = () => Number(readFileOr(path.join(lock, 'pid')) || 0);
      await waitFor('the toolchain fixture', () => existsSync(ready) || (owner() > 0 && !processAlive(owner())), 600_000);
      if (!existsSync(ready)) rmSync(lock, { recursive: true, force: true });
      continue;
    }
    writeFileSync(path.join(lock, 'pid'), String(process.pid));
    try {
      rmSync(fixture, { recursive: true, force: true });
      mkdirSync(tree, { recursive: true });
      for (const p of TOOLCHAIN) cpSync(path.join(ROOT, 'pkgs', p), path.join(tree, 'pkgs', p), { recursive: true });
      writeFileSync(path.join(tree, 'build.config.yaml'), config);
      const r = await runInProcess(['all'], tree);
      if (r.exitCode !== 0) throw new Error(`building the toolchain fixture failed:\n${r.all}`);
      writeFileSync(ready, '');
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  copyRelocated(tree, rig.dir);
  if (extraConfig) writeFileSync(rig.path('build.config.yaml'), TOOLCHAIN_CONFIG + extraConfig);
  const check = await runInProcess(['-n', 'all'], rig.dir);
  if (check.exitCode !== 0 || check.stdout !== 'Nothing to (re)build.') throw new Error(`the relocated toolchain is not up to date in ${rig.dir}:\n${check.all}`);
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** An in-tree pure-Python source package built with `sdh_pip_install .`. */
export function purePkg(name: string, version: string, o: { deps?: string; code?: string; setup?: string } = {}): Tree {
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${version}\n`,
    [`pkgs/${name}/version_requirements.txt`]: `${name} ==${version}\n`,
    [`pkgs/${name}/dependencies`]: `${o.deps ?? ''} $(PYTHON) | $(PYTHON_TOOLCHAIN)\n`,
    [`pkgs/${name}/spkg-install.in`]: 'cd src\nsdh_pip_install .\n',
    [`pkgs/${name}/src/setup.py`]: o.setup ?? `from setuptools import setup\nsetup(name=${JSON.stringify(name)}, version=${JSON.stringify(version)}, packages=[${JSON.stringify(name)}])\n`,
    [`pkgs/${name}/src/${name}/__init__.py`]: o.code ?? `VERSION = ${JSON.stringify(version)}\n`,
  };
}

/** Writes a minimal valid wheel (PEP 427) with python's zipfile; returns its file name. */
export async function makeWheel(dir: string, name: string, version: string, code: string, requires: string[] = []): Promise<string> {
  const script = `
import base64, hashlib, os, sys, zipfile
d, name, version, code = sys.argv[1:5]
requires = "".join(f"Requires-Dist: {r}\\n" for r in sys.argv[5:])
files = {f"{name}/__init__.py": code.encode(),
         f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n{requires}".encode(),
         f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
rec = f"{name}-{version}.dist-info/RECORD"
lines = []
for p, data in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    lines.append(f"{p},sha256={h},{len(data)}")
lines.append(f"{rec},,")
files[rec] = ("\\n".join(lines) + "\\n").encode()
out = os.path.join(d, f"{name}-{version}-py3-none-any.whl")
with zipfile.ZipFile(out, "w") as z:
    for p, data in files.items():
        z.writestr(zipfile.ZipInfo(p, (2024, 1, 1, 0, 0, 0)), data)
print(os.path.basename(out))
`;
  const r = await execa('python3', ['-c', script, dir, name, version, code, ...requires]);
  return r.stdout.trim();
}

export async function py(rig: Rig, code: string, venv = 'local'): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(rig.path(venv, 'bin', 'python3'), ['-c', code], { reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export async function pip(rig: Rig, args: string[], venv = 'local'): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(rig.path(venv, 'bin', 'python3'), ['-m', 'pip', '--disable-pip-version-check', ...args], { reject: false, env: { PIP_RETRIES: '0' } });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Interpreters with pip (different real paths), found on PATH, in the usual folders and pyenv's;
 * the first is `python3` on PATH. Besides that one, only binaries are asked (src's
 * `interpreterBinary`, by which sagebuild decides whose answer it may remember): a script (a pyenv
 * shim: some twenty processes and 0.3 s per start) names an interpreter that pyenv's own folder
 * lists. Asked once per test run (the answer is kept beside the toolchain fixture, per test
 * runner): three test files want it.
 */
export function interpreters(): { path: string; version: string }[] {
  const cache = `${perRun('sagebuild-test-interpreters-')}.json`;
  try {
    return JSON.parse(readFileSync(cache, 'utf8')) as { path: string; version: string }[];
  } catch {
    // not asked yet in this run
  }
  const found = new Map<string, { path: string; version: string }>();
  const ask = (c: string) => {
    try {
      const out = execFileSync(c, ['-c', 'import sys, os, pip; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const [version = '', real = ''] = out.trim().split('\n');
      if (!found.has(real)) found.set(real, { path: c.startsWith('/') ? c : real, version });
    } catch {
      // not there, or no pip
    }
  };
  ask('python3');
  const names = ['python3', ...Array.from({ length: 8 }, (_, i) => `python3.${i + 8}`)];
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv'), 'versions');
  let pyenvs: string[] = [];
  try {
    pyenvs = readdirSync(pyenv).map((v) => path.join(pyenv, v, 'bin', 'python3'));
  } catch {
    // no pyenv
  }
  const seen = new Set(found.keys());
  for (const c of [...names, ...names.map((n) => `/usr/bin/${n}`), ...names.map((n) => `/usr/local/bin/${n}`), ...pyenvs]) {
    const real = interpreterBinary(c);
    if (!real || seen.has(real)) continue;
    seen.add(real);
    ask(c.includes('/') ? c : real);
  }
  const list = [...found.values()];
  // Whole or not at all: another test file may read it meanwhile.
  writeFileSync(`${cache}.${process.pid}`, JSON.stringify(list));
  renameSync(`${cache}.${process.pid}`, cache);
  return list;
}

/** Two interpreters (different real paths) with pip; null when this machine has only one. */
export function twoInterpreters(): [{ path: string; version: string }, { path: string; version: string }] | null {
  const list = interpreters();
  return list.length >= 2 ? [list[0]!, list[1]!] : null;
}
