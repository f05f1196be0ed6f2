// The configured interpreter: who it is (version, real path), asked once per command.
import { capture, captureSync, failureLine, ranOk, type Captured } from '../proc/spawn.js';

export interface PythonInfo {
  executable: string;
  /** major.minor */
  version: string;
  /** The full sys.version line. */
  full: string;
}

const pyCache = new Map<string, PythonInfo | Error>();
const pending = new Map<string, Promise<PythonInfo | Error>>();
const PY_QUERY = 'import sys, os; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable)); print(sys.version.splitlines()[0])';

function parseInfo(out: string): PythonInfo {
  const [version = '', executable = '', full = ''] = out.trim().split('\n');
  return { version, executable, full };
}

function answer(python: string, r: Captured): PythonInfo | Error {
  if (!ranOk(r)) return new Error(`cannot run the configured Python '${python}': ${failureLine(r).split('\n')[0]}`);
  try {
    return parseInfo(r.stdout);
  } catch (e) {
    return new Error(`cannot run the configured Python '${python}': ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Asks the interpreter who it is, in the background (memoised with pythonInfo's answer): starting
 * Python (through a pyenv shim, say) can take 100 ms, which then overlaps with reading the recipe
 * tree. A failure is the answer, not a rejection.
 */
export function askPython(python: string): Promise<PythonInfo | Error> {
  let p = pending.get(python);
  if (!p) {
    const known = pyCache.get(python);
    p = known
      ? Promise.resolve(known)
      : capture(python, ['-S', '-c', PY_QUERY]).then((r) => {
          if (!pyCache.has(python)) pyCache.set(python, answer(python, r));
          return pyCache.get(python)!;
        });
    pending.set(python, p);
  }
  return p;
}

/** Asks the configured interpreter who it is (memoised per command; spawns once). */
export function pythonInfo(python: string): PythonInfo {
  let info = pyCache.get(python);
  if (!info) {
    info = answer(python, captureSync(python, ['-S', '-c', PY_QUERY]));
    pyCache.set(python, info);
  }
  if (info instanceof Error) throw info;
  return info;
}

