// Fixtures for Python tests: the shipped pip/setuptools/wheel recipes (pip kind, from the
// machine's configured package index), in-tree source packages and hand-made wheels.
import { cpSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, type Rig, type Tree } from './rig.ts';

export const TOOLCHAIN_CONFIG = 'variables:\n  PYTHON_TOOLCHAIN: [setuptools, pip, wheel]\n';

export function copyToolchain(rig: Rig): void {
  for (const p of ['pip', 'setuptools', 'wheel', 'packaging']) cpSync(path.join(ROOT, 'pkgs', p), rig.path('pkgs', p), { recursive: true });
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

/** Interpreters with pip (different real paths), found on PATH, in the usual folders and pyenv's. */
export function interpreters(): { path: string; version: string }[] {
  const names = ['python3', ...Array.from({ length: 8 }, (_, i) => `python3.${i + 8}`)];
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv'), 'versions');
  let pyenvs: string[] = [];
  try {
    pyenvs = readdirSync(pyenv).map((v) => path.join(pyenv, v, 'bin', 'python3'));
  } catch {
    // no pyenv
  }
  const candidates = [...names, ...names.map((n) => `/usr/bin/${n}`), ...names.map((n) => `/usr/local/bin/${n}`), ...pyenvs];
  const found = new Map<string, { path: string; version: string }>();
  for (const c of candidates) {
    try {
      const out = execFileSync(c, ['-c', 'import sys, os, pip; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const [version = '', real = ''] = out.trim().split('\n');
      if (!found.has(real)) found.set(real, { path: c.startsWith('/') ? c : real, version });
    } catch {
      // not there, or no pip
    }
  }
  return [...found.values()];
}

/** Two interpreters (different real paths) with pip; null when this machine has only one. */
export function twoInterpreters(): [{ path: string; version: string }, { path: string; version: string }] | null {
  const list = interpreters();
  return list.length >= 2 ? [list[0]!, list[1]!] : null;
}
