// Test rig: writes fixture trees into temp dirs and runs sagebuild on them: in-process through
// main() (run, runEnv: most tests) or as the real CLI process, dist/cli.js (cli, start: what only
// a process shows: its exit status and streams, signals, several sagebuild processes at once).
import { execa, type ResultPromise } from 'execa';
import { main } from '../src/main.ts';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder: the nearest package.json above this module (test/, or a bundle of the tests under .testbuild/). */
export const ROOT = (() => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('no package.json above the tests');
  }
})();
export const CLI = path.join(ROOT, 'dist', 'cli.js');
/** Where installation records live in a tree: Sage's, and sagebuild's own for pip packages (Sage keeps none for them). */
export const SAGE_RECORDS = 'var/lib/sage/installed';
export const PIP_RECORDS = 'var/lib/sage/sagebuild/pip-installed';

export type FileSpec = string | { symlink: string } | { content: string; mode: number };
export type Tree = Record<string, FileSpec>;

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  all: string;
}

export class Rig {
  readonly dir: string;
  constructor(name = 'sagebuild-test') {
    this.dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  }

  path(...p: string[]): string {
    return path.join(this.dir, ...p);
  }

  write(tree: Tree): void {
    for (const [rel, spec] of Object.entries(tree)) {
      const p = this.path(rel);
      mkdirSync(path.dirname(p), { recursive: true });
      rmSync(p, { force: true });
      if (typeof spec === 'string') writeFileSync(p, spec);
      else if ('symlink' in spec) symlinkSync(spec.symlink, p);
      else {
        writeFileSync(p, spec.content);
        chmodSync(p, spec.mode);
      }
    }
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  /** Installed manifests (file names) in the default prefix: Sage's records and sagebuild's records of pip packages. */
  manifests(prefix = 'local', dirs = [SAGE_RECORDS, PIP_RECORDS]): string[] {
    return dirs.flatMap((d) => {
      try {
        return readdirSync(this.path(prefix, d)).filter((f) => !f.startsWith('.'));
      } catch {
        return [];
      }
    }).sort();
  }

  manifest(id: string, prefix = 'local'): { files: string[]; test_result: string; package_version: string; [k: string]: unknown } {
    const dir = existsSync(this.path(prefix, PIP_RECORDS, id)) ? PIP_RECORDS : SAGE_RECORDS;
    return JSON.parse(this.read(path.join(prefix, dir, id)));
  }

  /** The real CLI as a process (end-to-end), not awaited: for signals and concurrent runs. */
  start(args: string[], env: Record<string, string> = {}): ResultPromise<{ all: true; reject: false }> {
    return execa('node', [CLI, ...args], { cwd: this.dir, all: true, reject: false, env: { PIP_RETRIES: '0', ...env } });
  }

  /** The real CLI as a process (end-to-end). */
  async cli(...args: string[]): Promise<RunResult> {
    const r = await this.start(args);
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
  }

  /** sagebuild in this process (main() with captured output, cwd = the rig): as the CLI, without starting Node. */
  run(...args: string[]): Promise<RunResult> {
    return runInProcess(args, this.dir);
  }

  /** As run, with environment variables set for the run's length. */
  runEnv(env: Record<string, string>, ...args: string[]): Promise<RunResult> {
    return runInProcess(args, this.dir, env);
  }

  /** As runEnv, with the Io's terminal facts set (`isTTY`, `columns`): the live status line in-process. */
  runIo(terminal: { isTTY?: boolean; columns?: number }, env: Record<string, string>, ...args: string[]): Promise<RunResult> {
    return runInProcess(args, this.dir, env, terminal);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs main() as cli.ts would (PIP_RETRIES=0 and `env` set in process.env, restored after),
 * capturing stdout and stderr (and both, interleaved, as `all`). In-process runs take turns:
 * they share process.env and the signal handlers main installs.
 */
export function runInProcess(args: string[], cwd: string, env: Record<string, string> = {}, terminal: { isTTY?: boolean; columns?: number } = {}): Promise<RunResult> {
  const turn = queue.then(async () => {
    const out: string[] = [];
    const err: string[] = [];
    const all: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) && all.push(s) },
      stderr: { write: (s: string) => err.push(s) && all.push(s) },
      cwd,
      ...terminal,
    };
    const vars = { PIP_RETRIES: '0', ...env };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    let exitCode: number;
    try {
      exitCode = await main(args, io);
    } catch (e) {
      // As cli.ts: a bug is exit 70 with its stack.
      io.stderr.write(`sagebuild: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      exitCode = 70;
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    // As execa gives a process's output: without its final newline.
    const text = (parts: string[]) => parts.join('').replace(/\n$/, '');
    return { exitCode, stdout: text(out), stderr: text(err), all: text(all) };
  });
  queue = turn.catch(() => undefined);
  return turn;
}

/** A script-kind recipe whose install writes `files` (relative to the prefix) into the stage. */
export function scriptPkg(name: string, o: { version?: string; deps?: string; type?: string; body?: string; files?: string[] } = {}): Tree {
  const files = o.files ?? [`share/${name}/${name}.txt`];
  const install = files.map((f) => `mkdir -p "$(dirname "$SAGE_DESTDIR_LOCAL/${f}")" && echo "${name}" > "$SAGE_DESTDIR_LOCAL/${f}"`).join('\n');
  const t: Tree = {
    [`pkgs/${name}/type`]: `${o.type ?? 'standard'}\n`,
    [`pkgs/${name}/package-version.txt`]: `${o.version ?? '1.0'}\n`,
    [`pkgs/${name}/spkg-install.in`]: `${o.body ?? ''}\n${install}\n`,
  };
  if (o.deps !== undefined) t[`pkgs/${name}/dependencies`] = `${o.deps}\n`;
  return t;
}

/** Polls `cond` until it holds; a generous deadline, not a timing assertion. */
export async function waitFor(what: string, cond: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The process has exited (a zombie awaiting its reaper counts as gone). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}
