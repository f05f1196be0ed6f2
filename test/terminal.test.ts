// The live status line end-to-end: the real binary on a pseudo-terminal (util-linux `script`),
// 80 columns. The screen is rebuilt from what was written (a line keeps what follows its last \r
// or erase) and checked: finished packages, the failure in red with its relative log path, the
// -k hint, and no line wider than the terminal. Then the same build on a pipe, whole.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { after, describe, it } from 'node:test';
import { CLI, Rig, scriptPkg, type Tree } from './rig.ts';

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const strip = (s: string) => s.replace(ANSI, '');
/** What a terminal shows of `text`, line by line. */
const screen = (text: string) => text.split('\n').map((l) => strip(l.replace(/\r$/, '').split(/\r|\x1b\[K/).at(-1)!));
const LONG = 'a_package_whose_name_is_long_enough_to_need_the_status_line_cut';

const tree: Tree = {
  ...scriptPkg('a', { body: 'echo compiling a' }),
  ...scriptPkg(LONG, { deps: 'a' }),
  ...scriptPkg('bad', { deps: 'a', body: 'echo "checking something... no"\necho "error: something broke" >&2\nexit 3' }),
  ...scriptPkg('needsbad', { deps: 'bad' }),
  ...scriptPkg('d', { deps: LONG }),
  'build.config.yaml': 'jobs: 1\n',
};

async function onTerminal(rig: Rig, args: string, env: Record<string, string> = {}) {
  // stty: `script`'s terminal has no size when its own output is not a terminal.
  const r = await execa('script', ['-q', '-e', '-c', `stty cols 80 rows 24; exec node ${CLI} ${args}`, '/dev/null'], { cwd: rig.dir, stdin: 'ignore', reject: false, env: { PIP_RETRIES: '0', NO_COLOR: '', COLUMNS: '80', ...env } });
  return { exitCode: r.exitCode, raw: String(r.stdout).replace(/\r\n/g, '\n') };
}

describe('on a terminal (a real pseudo-terminal)', () => {
  const rigs: Rig[] = [];
  const fresh = () => {
    const rig = new Rig('tty');
    rig.write(tree);
    rigs.push(rig);
    return rig;
  };
  after(() => rigs.forEach((r) => r.cleanup()));

  it('a status line in place, ✔ per package, the failure in red once with a relative log path, the -k hint; nothing wider than 80 columns', async () => {
    const { exitCode, raw } = await onTerminal(fresh(), 'all');
    assert.equal(exitCode, 1, raw);
    const lines = screen(raw);
    assert.ok(lines.includes('sagebuild: 5 package(s) to build (-n lists them and why)'), raw);
    assert.ok(lines.some((l) => /^✔ a-1\.0 \d+s$/.test(l)), lines.join('\n'));
    assert.match(raw, /\x1b\[32m✔\x1b\[39m a-1\.0/, 'the tick green');
    assert.match(raw, /\x1b\[31m✘ bad-1\.0: spkg-install failed \(exit code 3\)\x1b\[39m/, 'the failure red');
    const failure = lines.indexOf('✘ bad-1.0: spkg-install failed (exit code 3)');
    assert.deepEqual(lines.slice(failure + 1, failure + 5), ['  log: local/var/log/sagebuild/pkgs/bad-1.0.log', '  last 2 lines of the log:', '  │ checking something... no', '  │ error: something broke']);
    assert.equal(raw.match(/error: something broke/g)?.length, 1, 'the output once, in the tail: not streamed as well');
    assert.doesNotMatch(raw, /compiling a|\[a-1\.0\]/, 'recipe output is not streamed on a terminal');
    assert.match(lines.join('\n'), /sagebuild: stopped after a failure: \d package\(s\) not started\n {2}\(-k builds everything that does not depend on a failed package\)/);
    assert.match(strip(raw), /\r\[\d\/5\] 1 running: /, 'the status line was drawn');
    // Every line on the screen, and every frame of the status line drawn over it, fits 80 columns.
    for (const l of lines) assert.ok([...l].length <= 80, `${[...l].length} columns: ${l}`);
    for (const frame of raw.split(/\r|\x1b\[K|\n/)) assert.ok([...strip(frame)].length <= 80, `${[...strip(frame)].length} columns: ${strip(frame)}`);
    assert.doesNotMatch(lines.at(-1) ?? '', /^\[\d/, 'the status line is erased at the end');
  });

  it('with -k the rest builds: its ✔ lines, the summary; NO_COLOR: no colour at all', async () => {
    const { exitCode, raw } = await onTerminal(fresh(), '-k all', { NO_COLOR: '1' });
    assert.equal(exitCode, 1, raw);
    const lines = screen(raw);
    for (const id of ['a-1.0', `${LONG}-1.0`, 'd-1.0']) assert.ok(lines.some((l) => l.startsWith(`✔ ${id} `)), `${id}:\n${lines.join('\n')}`);
    assert.ok(lines.includes('sagebuild: 3 built, 0 up to date, 1 failed, 1 skipped'), lines.join('\n'));
    assert.ok(lines.includes('- needsbad-1.0 skipped: dependency bad-1.0 failed'), lines.join('\n'));
    assert.doesNotMatch(raw, /\x1b\[[0-9;]*m/, 'no colour');
    for (const l of lines) assert.ok([...l].length <= 80, `${[...l].length} columns: ${l}`);
    assert.doesNotMatch(raw, /not started|stopped after/);
  });
});

describe('not on a terminal (a pipe)', () => {
  it('today\'s prefixed lines, the failure once with its relative log path, the -k hint: the whole output (-j 1)', async () => {
    const rig = new Rig('pipe');
    rig.write(tree);
    const r = await rig.run('all');
    rig.cleanup();
    assert.equal(r.exitCode, 1, r.all);
    assert.doesNotMatch(r.all, /[\x00-\x09\x0b-\x1f]/, 'no control characters');
    const text = r.all.replaceAll(rig.dir, '<dir>').replace(/\(\d+\.\d s\)/g, '(N s)');
    assert.equal(
      text,
      `sagebuild: 5 package(s) to build: a bad needsbad ${LONG} d
[a-1.0] building (not installed). Log file: <dir>/local/var/log/sagebuild/pkgs/a-1.0.log
[a-1.0] ==> prepare
[a-1.0] ==> spkg-install
[a-1.0] compiling a
[a-1.0] ==> merge <dir>/local
[a-1.0] successfully installed (N s)
[bad-1.0] building (not installed). Log file: <dir>/local/var/log/sagebuild/pkgs/bad-1.0.log
[bad-1.0] ==> prepare
[bad-1.0] ==> spkg-install
[bad-1.0] checking something... no
[bad-1.0] error: something broke
[bad-1.0] Error: spkg-install failed (exit code 3)
[bad-1.0] its output is above, each line prefixed [bad-1.0]
[bad-1.0] log file: local/var/log/sagebuild/pkgs/bad-1.0.log
[bad-1.0] build directory kept: <dir>/local/var/tmp/sage/build/bad-1.0
[needsbad-1.0] skipped: dependency bad-1.0 failed
sagebuild: summary: built: 1, up to date: 0, failed: 1, skipped (dependency failed): 1, not started: 2
  built: a-1.0
  failed: bad-1.0 (log: local/var/log/sagebuild/pkgs/bad-1.0.log)
  skipped: needsbad-1.0
  not started: ${LONG}-1.0 d-1.0
sagebuild: stopped after a failure: 2 package(s) not started
  (-k builds everything that does not depend on a failed package)`,
    );
  });
});
