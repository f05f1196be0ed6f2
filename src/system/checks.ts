// Real-process probes behind the autoconf macros: compile/link/run a test program with the
// configured compiler (as autoconf does, same command-line shape), pkg-config queries,
// program lookup in PATH, and bash for genuine shell text. Every process goes through one
// p-limit so that hundreds of concurrent package checks stay bounded.

import { access, constants, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { capture } from '../proc/spawn.js';

export interface ProcResult {
  status: number;
  stdout: string;
  stderr: string;
}

export type Lang = 'C' | 'C++' | 'Fortran';
export type CompileMode = 'compile' | 'link' | 'run';

/** Flags of one test compilation, as words (configure never quotes inside these variables). */
export interface CompileFlags {
  cflags: string;
  cppflags: string;
  ldflags: string;
  libs: string;
}

const TIMEOUT_MS = 120_000;

export class Prober {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly opts: {
      cc: string;
      cxx: string;
      env: Record<string, string>;
      workDir: string;
      jobs: number;
      signal?: AbortSignal;
    },
  ) {
    this.limit = pLimit(Math.max(1, opts.jobs));
  }

  /** Start a process (bounded), collect output; a spawn failure is status 127 like a shell's. */
  run(cmd: string, args: string[], o: { cwd: string; env?: Record<string, string> }): Promise<ProcResult> {
    return this.limit(() => this.spawnOnce(cmd, args, o));
  }

  private async spawnOnce(cmd: string, args: string[], o: { cwd: string; env?: Record<string, string> }): Promise<ProcResult> {
    this.opts.signal?.throwIfAborted();
    const r = await capture(cmd, args, { cwd: o.cwd, env: o.env ?? this.opts.env, signal: this.opts.signal, timeoutMs: TIMEOUT_MS });
    if (r.error?.name === 'AbortError') throw r.error;
    if (r.error && r.code === null && r.signal === null) return { status: 127, stdout: r.stdout, stderr: r.stderr + r.error.message };
    return { status: r.code ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
  }

  /** Genuine shell text (pipelines, real commands), with the configure variables in its environment. */
  bash(script: string, cwd: string, vars: Map<string, string>): Promise<ProcResult> {
    const env: Record<string, string> = { ...this.opts.env };
    for (const [k, v] of vars) if (/^[A-Za-z_]\w*$/.test(k)) env[k] = v;
    return this.run('bash', ['-c', script], { cwd, env });
  }

  /** A fresh folder for one check, so concurrent checks never share conftest files. */
  async scratch(): Promise<string> {
    return mkdtemp(path.join(this.opts.workDir, 'conftest-'));
  }

  /**
   * Compile (`-c`), link, or link and run a test program, with the command lines autoconf uses:
   * `$CC -c $CFLAGS $CPPFLAGS conftest.c` and `$CC -o conftest $CFLAGS $CPPFLAGS $LDFLAGS conftest.c $LIBS`.
   */
  async compile(lang: Lang, source: string, flags: CompileFlags, mode: CompileMode, compiler?: string): Promise<ProcResult> {
    const dir = await this.scratch();
    try {
      const file = { C: 'conftest.c', 'C++': 'conftest.cpp', Fortran: 'conftest.f' }[lang];
      await writeFile(path.join(dir, file), source);
      const cc = words(compiler ?? (lang === 'C' ? this.opts.cc : lang === 'C++' ? this.opts.cxx : 'gfortran'));
      const [exe, ...pre] = cc;
      if (!exe) return { status: 127, stdout: '', stderr: 'no compiler configured' };
      const common = [...pre, ...words(flags.cflags), ...words(flags.cppflags)];
      const args =
        mode === 'compile'
          ? ['-c', ...common, file]
          : ['-o', 'conftest', ...common, ...words(flags.ldflags), file, ...words(flags.libs)];
      const built = await this.run(exe, args, { cwd: dir });
      if (built.status !== 0 || mode !== 'run') return built;
      return await this.run(path.join(dir, 'conftest'), [], { cwd: dir });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `pkg-config ARGS` with $PKG_CONFIG honoured, as pkg.m4 does. */
  pkgConfig(args: string[], vars: Map<string, string>): Promise<ProcResult> {
    const pc = vars.get('PKG_CONFIG') || 'pkg-config';
    const env: Record<string, string> = { ...this.opts.env };
    for (const k of ['PKG_CONFIG_PATH', 'PKG_CONFIG_LIBDIR', 'PKG_CONFIG_SYSROOT_DIR']) {
      const v = vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    return this.run(pc, args, { cwd: this.opts.workDir, env });
  }
}

/** Split a configure variable into words (these variables hold unquoted flag lists). */
export function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/** First executable `name` in the colon-separated `searchPath`, or null (autoconf's PATH walk). */
export async function findProgram(name: string, searchPath: string): Promise<string | null> {
  if (name.includes('/')) return (await isExecutable(name)) ? name : null;
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir || '.', name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

/** All executables named `name` along `searchPath`, in order (AC_PATH_PROGS_FEATURE_CHECK tries each). */
export async function findPrograms(name: string, searchPath: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir || '.', name);
    if (await isExecutable(candidate)) found.push(candidate);
  }
  return found;
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
