// How the benchmark runs a build and what it reads off it: wall time (always), CPU of the whole
// process tree and peak RSS (GNU time when present; else bash's `times`, and no RSS), programs
// started (strace when present). Only public tools: node, bash, GNU make, /usr/bin/time, strace.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The environment every measured command gets: no make jobserver from outside, no pip retries. */
export const ENV: NodeJS.ProcessEnv = (() => {
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_RETRIES: '0' };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKE_TERMOUT', 'MAKE_TERMERR']) delete env[k];
  return env;
})();

function probe(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: ENV });
  return r.error ? null : `${r.stdout}${r.stderr}`;
}

/**
 * GNU time (for %M, peak RSS), strace (for execve counts): null when absent, or when named in
 * BENCH_WITHOUT (comma-separated: `time`, `strace`), which shows what a machine without them prints.
 */
const without = new Set((process.env.BENCH_WITHOUT ?? '').split(','));
export const TOOLS = {
  gnuTime: !without.has('time') && /GNU/.test(probe('/usr/bin/time', ['--version']) ?? '') ? '/usr/bin/time' : null,
  strace: !without.has('strace') && probe('strace', ['-V']) !== null ? 'strace' : null,
  make: (probe('make', ['--version']) ?? 'make: absent').split('\n')[0]!,
  /** util-linux script(1): a pseudo-terminal, for the live status line's cost. */
  script: /util-linux/.test(probe('script', ['--version']) ?? '') ? 'script' : null,
};

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * argv run on a pseudo-terminal (script -qec), its output there (`tty`) or through a pipe
 * inside it (`pipe`): the same wrapper both ways, so only the output mode differs.
 */
export function onTerminal(argv: string[], mode: 'tty' | 'pipe'): string[] {
  if (!TOOLS.script) throw new Error('script(1) is absent');
  return [TOOLS.script, '-qec', `stty cols 100 rows 30 2>/dev/null; ${argv.map(shq).join(' ')}${mode === 'pipe' ? ' | cat' : ''}`, '/dev/null'];
}

function run(argv: string[], cwd: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
}

/** Wall milliseconds of one run (which must succeed). */
export function wall(argv: string[], cwd: string): number {
  const t0 = process.hrtime.bigint();
  run(argv, cwd);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export interface Usage {
  wallMs: number;
  /** user + sys of the command and every descendant it waited for. */
  cpuMs: number;
  /** Peak RSS of the largest process of the tree (node, for sagebuild), in kB; null without GNU time. */
  maxRssKb: number | null;
}

/** One run with its resource usage: under GNU time, else under bash with `times`. */
export function usage(argv: string[], cwd: string, scratch: string): Usage {
  const out = path.join(scratch, `usage-${process.pid}.txt`);
  rmSync(out, { force: true });
  let wallMs: number;
  if (TOOLS.gnuTime) {
    wallMs = wall([TOOLS.gnuTime, '-o', out, '-f', '%U %S %M', ...argv], cwd);
    const [u, s, m] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
    rmSync(out, { force: true });
    return { wallMs, cpuMs: (u! + s!) * 1000, maxRssKb: m! };
  }
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.567s".
  wallMs = wall(['bash', '-c', '"${@:2}"; s=$?; times > "$1"; exit $s', 'bash', out, ...argv], cwd);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  rmSync(out, { force: true });
  const secs = (t: string): number => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    if (!m) throw new Error(`cannot read bash times: ${t}`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const [u, s] = lines[1]!.trim().split(/\s+/);
  return { wallMs, cpuMs: (secs(u!) + secs(s!)) * 1000, maxRssKb: null };
}

/**
 * Programs started by one run (successful execve calls of the whole tree, the command itself
 * excluded) and the most frequent ones; without strace the command still runs (what follows
 * expects what it builds), and the answer is null.
 */
export function programs(argv: string[], cwd: string, scratch: string): { count: number; top: [string, number][] } | null {
  if (!TOOLS.strace) {
    run(argv, cwd);
    return null;
  }
  const out = path.join(scratch, `strace-${process.pid}.txt`);
  rmSync(out, { force: true });
  run([TOOLS.strace, '-f', '-qq', '-s', '256', '-e', 'trace=execve', '-o', out, ...argv], cwd);
  const text = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  // A call split by another process's line ends as "<... execve resumed>...) = 0"; its program
  // is on the "<unfinished ...>" line of the same pid.
  const pending = new Map<string, string>();
  const byProgram = new Map<string, number>();
  let count = -1; // the first is the command itself
  for (const line of text.split('\n')) {
    const pid = line.split(/\s/, 1)[0]!;
    const call = /execve\("([^"]*)"/.exec(line);
    if (call && line.endsWith('<unfinished ...>')) {
      pending.set(pid, call[1]!);
      continue;
    }
    if (!/execve.*\)\s+= 0$/.test(line)) continue;
    const prog = call ? call[1]! : pending.get(pid) ?? '?';
    pending.delete(pid);
    if (count++ < 0) continue;
    byProgram.set(path.basename(prog), (byProgram.get(path.basename(prog)) ?? 0) + 1);
  }
  const top = [...byProgram].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return { count, top };
}
