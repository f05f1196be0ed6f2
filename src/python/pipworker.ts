// pip install/uninstall without starting pip each time. A pip process spends about 0.5 s of CPU
// importing pip before it does anything (a small wheel's install is 0.2 s of the 0.7 s); a build
// of Sage installs some 200 wheels. A worker is one Python process per venv (and per
// startup-relevant environment) for one build run: it imports pip once, then forks a child per
// request, which runs pip's main() from that clean, imported state (so nothing one install did is
// seen by the next) with the request's folder and environment, and holds its own flock on the pip
// lock while it runs, as a pip process holds the inherited one: shared (an install) beside
// sagebuild's, or exclusive (an uninstall), which the child waits for until sagebuild, told the
// child has started, hands its own over. The worker relays each child's output lines, tagged with
// the request, and its exit status. Whatever a worker cannot serve (it could not import pip, pip
// changed on disk since it started, it died before the child started) is answered `null`, and the
// caller starts pip as a process as before. The worker runs in its own process group, guarded by
// the run's watchdog like a recipe: if sagebuild dies, it and its children are stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { EventBus } from '../events.js';
import type { RunResult } from '../proc/spawn.js';
import { armWatchdog, guardGroup, releaseGroup } from '../proc/watchdog.js';

const SCRIPT = String.raw`
import os, sys, json, fcntl, selectors, importlib, tempfile, traceback
if sys.path and sys.path[0] in ('', os.getcwd()):
    del sys.path[0]  # as -I would: nothing in the current folder shadows pip's modules
def send(line):
    os.write(1, (line + '\n').encode('utf-8', 'surrogateescape'))
try:
    import pip
    from pip._internal.cli.main import main as pip_main
    from pip._internal.commands import create_command
    create_command('install')
    create_command('uninstall')
    # pkg_resources builds its view of the installed distributions when imported: a child forked
    # later would see the venv as it was then.
    if 'pip._vendor.pkg_resources' in sys.modules or 'pkg_resources' in sys.modules:
        raise ImportError('importing pip loads pkg_resources')
    def stamp():
        st = os.stat(pip.__file__)
        return (st.st_ino, st.st_mtime_ns, st.st_size)
    MARK = stamp()
except BaseException as e:
    send('X ' + (str(e) or type(e).__name__).replace('\n', ' '))
    sys.exit(0)
# pip's user agent starts lsb_release (its vendored distro) and, where rustc is on PATH, rustc
# --version: some 0.1 s of CPU. Worded here, before any fork, the children inherit it instead of
# each starting both (as one pip process would, once): pip 26 caches it per process (lru_cache);
# an older pip (23.2) only distro's answer, so its children still start rustc.
try:
    from pip._internal.network import session as pip_session
    pip_session.user_agent()
except Exception:
    pass
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ, None)
stdin_open, pending, children = True, b'', {}

def start(req):
    rid = req['id']
    try:
        fresh = stamp() == MARK
    except OSError:
        fresh = False
    if not fresh:
        send('R %d' % rid)
        return
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            os.close(w)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            # Read-only, as sagebuild and flock(1) open it. Shared: beside sagebuild's, at once;
            # exclusive: once sagebuild, told of this child, has handed its lock over.
            lock = os.open(req['lock'], os.O_RDONLY)
            fcntl.flock(lock, fcntl.LOCK_EX if req['mode'] == 'exclusive' else fcntl.LOCK_SH | fcntl.LOCK_NB)
            os.chdir(req['cwd'])
            os.environ.clear()
            os.environ.update(req['env'])
            tempfile.tempdir = None  # pip's temp folders: this request's TMPDIR, not a cached one
            importlib.invalidate_caches()
            sys.argv = ['pip'] + req['args']
            code = pip_main(req['args'])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code or 0)
    os.close(w)
    children[r] = [rid, pid, b'']
    sel.register(r, selectors.EVENT_READ, None)
    send('S %d' % rid)

def relay(rid, data):
    for line in data.split(b'\n'):
        send('O %d %s' % (rid, line.decode('utf-8', 'surrogateescape')))

send('READY')
while stdin_open or children:
    for key, _ in sel.select():
        fd = key.fd
        data = os.read(fd, 65536)
        if fd == 0:
            if not data:
                sel.unregister(0)
                stdin_open = False
                continue
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                start(json.loads(line))
            continue
        c = children[fd]
        if data:
            c[2] += data
            if b'\n' in c[2]:
                done, c[2] = c[2].rsplit(b'\n', 1)
                relay(c[0], done)
            continue
        sel.unregister(fd)
        os.close(fd)
        del children[fd]
        if c[2]:
            relay(c[0], c[2])
        _, status = os.waitpid(c[1], 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        send('D %d %d' % (c[0], code))
`;

/** Environment variables read when Python starts (paths, flags, encodings): a worker serves only requests that agree on them. */
const STARTUP = /^(PYTHON|LC_|LANG$)/;

export interface WorkerRequest {
  cwd: string;
  env: Record<string, string>;
  id: string;
  bus: EventBus;
  lockFile: string;
  /** The lock the child takes: shared beside the caller's, or exclusive after `onStarted`. */
  mode: 'shared' | 'exclusive';
  /** The child exists (and, for an exclusive lock, waits for it): the caller hands its lock over. */
  onStarted?: () => void;
}

interface Request {
  id: string;
  bus: EventBus;
  started: boolean;
  onStarted?: () => void;
  resolve: (r: RunResult | null) => void;
}

class Worker {
  private readonly child: ChildProcess;
  private readonly requests = new Map<number, Request>();
  private next = 1;
  /** False once it cannot take requests (it failed to start, found pip changed, or ended). */
  usable = true;
  /** It could not import pip (or not start): no worker is tried again for its venv in this run. */
  broken = false;

  constructor(readonly python: string, cwd: string, env: Record<string, string>) {
    const mark = armWatchdog();
    this.child = spawn(python, ['-c', SCRIPT], { cwd, env: { ...env, [mark.name]: mark.value }, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const pid = this.child.pid;
    guardGroup(pid, mark);
    this.child.stdin!.on('error', () => undefined); // it ended: its 'exit' settles what was asked
    this.child.once('error', () => {
      this.broken = true;
      this.ended();
    });
    this.child.once('exit', () => {
      if (pid !== undefined) releaseGroup(pid);
      this.ended();
    });
    this.hold(false);
    createInterface({ input: this.child.stdout!, crlfDelay: Infinity }).on('line', (line) => this.line(line));
  }

  /** An idle worker does not keep node running (its stdin closing at exit ends it); a busy one does. */
  private hold(busy: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout] as unknown as { ref?: () => void; unref?: () => void }[]) (busy ? h.ref : h.unref)?.call(h);
  }

  run(args: string[], o: WorkerRequest): Promise<RunResult | null> {
    const n = this.next++;
    if (!this.requests.size) this.hold(true);
    return new Promise((resolve) => {
      this.requests.set(n, {
        id: o.id,
        bus: o.bus,
        started: false,
        onStarted: o.onStarted,
        resolve: (r) => {
          if (!this.requests.size) this.hold(false);
          resolve(r);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id: n, args, cwd: o.cwd, env: o.env, lock: o.lockFile, mode: o.mode })}\n`);
    });
  }

  private line(line: string): void {
    const m = /^([A-Z]+)(?: (\d+))?(?: ([^]*))?$/.exec(line);
    if (!m) return;
    const [, tag, num, rest] = m;
    if (tag === 'X') {
      this.usable = false; // cannot import pip this way: every request goes to a process
      this.broken = true;
      return;
    }
    const req = this.requests.get(Number(num));
    if (!req) return;
    if (tag === 'O') req.bus.emit({ type: 'output', id: req.id, line: rest ?? '' });
    else if (tag === 'S') {
      req.started = true;
      req.onStarted?.();
    }
    else if (tag === 'R' || tag === 'D') {
      this.requests.delete(Number(num));
      if (tag === 'R') {
        this.usable = false; // pip changed on disk since the worker imported it
        req.resolve(null);
      } else {
        const code = Number(rest);
        req.resolve({ exitCode: code >= 0 ? code : undefined, signal: code < 0 ? `signal ${-code}` : undefined, canceled: false });
      }
    }
  }

  /** The worker is gone: a request it never started runs as a process; one it started has failed. */
  private ended(): void {
    this.usable = false;
    for (const [n, req] of this.requests) {
      this.requests.delete(n);
      if (req.started) req.bus.emit({ type: 'output', id: req.id, line: 'sagebuild: the pip worker ended during this install' });
      req.resolve(req.started ? { exitCode: undefined, signal: 'worker ended', canceled: false } : null);
    }
  }

  close(): void {
    this.usable = false;
    this.child.stdin!.end(); // it exits once its running children have
  }
}

/** The pip workers of one build run (one per venv and startup environment); `close()` at the run's end. */
export class PipWorkers {
  private readonly workers = new Map<string, Worker>();

  /**
   * `python -m pip <args>` under the pip lock the caller holds (`o.mode`), through the venv's
   * worker; null when no worker can serve it: the caller then starts pip itself.
   */
  run(python: string, args: string[], o: WorkerRequest): Promise<RunResult | null> {
    const startup = Object.entries(o.env).filter(([k]) => STARTUP.test(k)).sort(([a], [b]) => (a < b ? -1 : 1));
    const key = JSON.stringify([python, startup]);
    let w = this.workers.get(key);
    if (w?.broken) return Promise.resolve(null);
    if (w && !w.usable) {
      this.workers.delete(key);
      w.close();
      w = undefined;
    }
    if (!w) {
      // In the venv (bin/python3's grandparent), not in the first request's build folder, which goes before the worker does.
      w = new Worker(python, path.dirname(path.dirname(python)), o.env);
      this.workers.set(key, w);
    }
    return w.run(args, o);
  }

  /** Ends the workers of `python`'s venv (pip itself was just installed or removed there). */
  forget(python: string): void {
    for (const [key, w] of this.workers) {
      if (w.python === python) {
        this.workers.delete(key);
        w.close();
      }
    }
  }

  close(): void {
    for (const w of this.workers.values()) w.close();
    this.workers.clear();
  }
}
