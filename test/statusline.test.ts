// The live status line and the progress lines, in-process: formatting (width, truncation, eta,
// colours), the terminal writer, the reporters driven by events (a fake clock, mocked timers),
// and main() with a fake terminal Io.
import assert from 'node:assert/strict';
import { after, describe, it, mock } from 'node:test';
import { EventBus, type SagebuildEvent } from '../src/events.ts';
import { LiveStatus, LiveTerminal } from '../src/report/live.ts';
import { ProgressLines } from '../src/report/progress.ts';
import { estimateEta, formatStatusLine, type LineState } from '../src/report/statusline.ts';
import { colorOn, formatDuration, formatEta, paint } from '../src/report/style.ts';
import { Rig, scriptPkg } from './rig.ts';

const plain = paint(false);
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const strip = (s: string) => s.replace(ANSI, '');

const example: LineState = {
  done: 212,
  total: 437,
  running: [
    { name: 'gmp', elapsedMs: 72_000 },
    { name: 'numpy', elapsedMs: 40_000 },
    { name: 'pari', elapsedMs: 5_000 },
  ],
  failed: 2,
  etaMs: 14 * 60_000,
};

describe('the status line', () => {
  it('says what runs, for how long, what failed and the eta', () => {
    assert.equal(formatStatusLine(example, 200, plain), '[212/437] 3 running: gmp 1m12s · numpy 40s · pari 5s | 2 failed | eta 14m');
    assert.equal(formatStatusLine({ done: 0, total: 4, running: [], failed: 0, etaMs: null }, 79, plain), '[0/4]');
  });

  it('fits every width and never exceeds it; running packages go first, marked with …', () => {
    const full = formatStatusLine(example, 200, plain);
    for (let w = 1; w <= full.length + 5; w++) {
      const line = formatStatusLine(example, w, plain);
      assert.ok(line.length <= w, `width ${w}: ${JSON.stringify(line)}`);
      assert.ok(line.length > 0);
    }
    assert.equal(formatStatusLine(example, 60, plain), '[212/437] 3 running: gmp 1m12s · … | 2 failed | eta 14m');
    assert.equal(formatStatusLine(example, 45, plain), '[212/437] 3 running: … | 2 failed | eta 14m');
    assert.equal(formatStatusLine(example, 20, plain), '[212/437] 3 running…', 'too narrow for the counts: cut, with …');
    assert.equal(formatStatusLine(example, 0, plain), '');
  });

  it('colours: the failures red, the count bold; the same text without them; none when off', () => {
    const on = formatStatusLine(example, 79, paint(true));
    assert.match(on, /\x1b\[31m2 failed\x1b\[39m/);
    assert.equal(strip(on), formatStatusLine(example, 79, plain));
    assert.equal(strip(formatStatusLine(example, 50, paint(true))).length <= 50, true, 'colour codes do not count as width');
    assert.doesNotMatch(formatStatusLine(example, 79, plain), /\x1b/);
  });

  it('durations and eta as a person reads them', () => {
    assert.deepEqual([0, 5_400, 59_999, 60_000, 94_000, 3_600_000, 3_720_000].map(formatDuration), ['0s', '5s', '59s', '1m00s', '1m34s', '1h00m', '1h02m']);
    assert.deepEqual([400, 40_000, 61_000, 14 * 60_000, 65 * 60_000].map(formatEta), ['1s', '40s', '2m', '14m', '1h05m']);
  });

  it('eta: remaining work over the job slots, at least the longest running package; none without recorded times', () => {
    assert.equal(estimateEta([null, null], [{ expectedMs: null, elapsedMs: 5 }], 2), null);
    // 2 waiting of 60 s, one running with 30 s left, 2 slots: (120 + 30) / 2.
    assert.equal(estimateEta([60_000, 60_000], [{ expectedMs: 40_000, elapsedMs: 10_000 }], 2), 75_000);
    // One long package running on 4 slots: its own time left.
    assert.equal(estimateEta([], [{ expectedMs: 600_000, elapsedMs: 0 }], 4), 600_000);
    // Running longer than expected: nothing left is assumed, never negative.
    assert.equal(estimateEta([], [{ expectedMs: 1_000, elapsedMs: 5_000 }], 1), 0);
  });

  it('NO_COLOR and --color', () => {
    assert.equal(colorOn('auto', true, {}), true);
    assert.equal(colorOn('auto', true, { NO_COLOR: '1' }), false);
    assert.equal(colorOn('auto', true, { NO_COLOR: '' }), true, 'an empty NO_COLOR is not set');
    assert.equal(colorOn('auto', false, {}), false);
    assert.equal(colorOn('always', false, { NO_COLOR: '1' }), true);
    assert.equal(colorOn('never', true, {}), false);
  });
});

/** The screen a terminal's writes leave, line by line: what follows a line's last \r or erase, without colours. */
export const screenLines = (text: string): string[] => text.split('\n').map((l) => strip(l.replace(/\r$/, '').split(/\r|\x1b\[K/).at(-1)!));

class Screen {
  text = '';
  readonly w = { write: (s: string) => void (this.text += s) };
  lines(): string[] {
    return screenLines(this.text);
  }
}

describe('the live reporter', () => {
  it('prints above the line, redraws it on events, erases it at the end', () => {
    const screen = new Screen();
    const bus = new EventBus();
    let now = 1_000_000;
    const terminal = new LiveTerminal(screen.w, screen.w);
    const live = new LiveStatus(bus, terminal, { paint: plain, columns: () => 40, now: () => now });
    const ev = (e: SagebuildEvent) => bus.emit(e);
    ev({ type: 'run-start', jobs: 2, packages: [{ id: 'gmp-6.3.0', name: 'gmp', expectedMs: 100_000 }, { id: 'numpy-2.0', name: 'numpy', expectedMs: 50_000 }, { id: 'pari-2.15', name: 'pari', expectedMs: null }] });
    ev({ type: 'pkg-start', id: 'gmp-6.3.0', name: 'gmp', logFile: '/l', reasons: [] });
    now += 2_000;
    ev({ type: 'pkg-start', id: 'numpy-2.0', name: 'numpy', logFile: '/l', reasons: [] });
    now += 10_000;
    live.redraw();
    // 39 columns: the second running package does not fit. eta: gmp's 88 s left.
    assert.equal(screen.lines().at(-1), '[0/3] 2 running: gmp 12s · … | eta 2m');
    terminal.stdout.write('✔ something\n');
    assert.deepEqual(screen.lines().slice(-2), ['✔ something', '[0/3] 2 running: gmp 12s · … | eta 2m'], 'printed above, the line drawn again below');
    ev({ type: 'pkg-failed', id: 'numpy-2.0', name: 'numpy', error: 'x', logFile: '/l', buildDir: null, canceled: false });
    assert.equal(screen.lines().at(-1), '[1/3] 1 running: … | 1 failed | eta 2m');
    ev({ type: 'summary', built: [], upToDate: [], failed: [], interrupted: [], skipped: [], notStarted: [], stoppedEarly: false });
    assert.equal(screen.lines().at(-1), '', 'erased');
    assert.ok(screen.lines().every((l) => l.length <= 40));
  });

  it('the eta of the line', () => {
    const screen = new Screen();
    const bus = new EventBus();
    const live = new LiveStatus(bus, new LiveTerminal(screen.w, screen.w), { paint: plain, columns: () => 80, now: () => 0 });
    bus.emit({ type: 'run-start', jobs: 1, packages: [{ id: 'a-1', name: 'a', expectedMs: 120_000 }, { id: 'b-1', name: 'b', expectedMs: 600_000 }] });
    live.redraw();
    assert.equal(screen.lines().at(-1), '[0/2] | eta 12m');
    live.stop();
  });
});

describe('progress lines (not a terminal)', () => {
  it('every 25 packages finished and every 30 s, plain text', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let text = '';
      const bus = new EventBus();
      const p = new ProgressLines(bus, { write: (s: string) => void (text += s) });
      bus.emit({ type: 'run-start', jobs: 3, packages: Array.from({ length: 87 }, (_, i) => ({ id: `p${i}-1`, name: `p${i}`, expectedMs: null })) });
      for (let i = 0; i < 26; i++) {
        bus.emit({ type: 'pkg-start', id: `p${i}-1`, name: `p${i}`, logFile: '/l', reasons: [] });
        if (i === 3) bus.emit({ type: 'pkg-failed', id: `p${i}-1`, name: `p${i}`, error: 'x', logFile: '/l', buildDir: null, canceled: false });
        else if (i < 25) bus.emit({ type: 'pkg-done', id: `p${i}-1`, name: `p${i}`, ok: true, durationMs: 1 });
      }
      assert.equal(text, 'sagebuild: [25/87] done, 0 running, 1 failed\n');
      mock.timers.tick(29_999);
      assert.equal(text.split('\n').length, 2, 'not yet');
      mock.timers.tick(1);
      assert.equal(text.split('\n').at(-2), 'sagebuild: [25/87] done, 1 running, 1 failed');
      bus.emit({ type: 'summary', built: [], upToDate: [], failed: [], interrupted: [], skipped: [], notStarted: [], stoppedEarly: false });
      mock.timers.tick(60_000);
      assert.equal(text.split('\n').length, 3, 'the timer ends with the run');
      assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f]/, 'no control characters');
      p.stop();
    } finally {
      mock.timers.reset();
    }
  });
});

describe('main() on a terminal (in-process, a fake terminal Io)', () => {
  const rig = new Rig('live');
  rig.write({
    ...scriptPkg('a', { body: 'echo compiling a' }),
    ...scriptPkg('bad', { deps: 'a', body: 'echo something broke; exit 3' }),
    ...scriptPkg('c', { deps: 'a' }),
    'build.config.yaml': 'jobs: 1\n',
  });
  after(() => rig.cleanup());

  it('finished packages one line each, recipe output not streamed, the failure in red once with its relative log path and its log tail', async () => {
    const r = await rig.runIo({ isTTY: true, columns: 80 }, { NO_COLOR: '' }, '-k', 'all');
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.stdout, /^\r?(\x1b\[K)?.*\x1b\[32m✔\x1b\[39m a-1\.0 /m);
    assert.match(r.stderr, /\x1b\[31m✘ bad-1\.0: spkg-install failed \(exit code 3\)\x1b\[39m\n {2}log: local\/var\/log\/sagebuild\/pkgs\/bad-1\.0\.log\n/);
    assert.equal(r.all.match(/something broke/g)?.length, 1, 'the output once: in the tail');
    assert.doesNotMatch(r.all, /compiling a|\[a-1\.0\] building/, 'not streamed on a terminal');
    assert.match(r.stdout, /sagebuild: 2 built, 0 up to date, \x1b\[31m1 failed\x1b\[39m/);
  });

  it('-v streams recipe output prefixed; NO_COLOR takes the colours away, not the line', async () => {
    rig.write({ 'pkgs/a/package-version.txt': '1.1\n' });
    const r = await rig.runIo({ isTTY: true, columns: 80 }, { NO_COLOR: '1' }, '-v', '-k', 'all');
    assert.ok(screenLines(r.stdout).includes('[a-1.1] compiling a'), r.stdout);
    assert.doesNotMatch(r.all, /\x1b\[[0-9;]*m/, 'no colour');
    assert.match(r.stdout, /\r\x1b\[K/, 'the status line is still drawn');
  });

  it('--color=always colours the lines of a pipe; a bad --color is exit 2', async () => {
    rig.write({ 'pkgs/a/package-version.txt': '1.2\n' });
    const r = await rig.run('--color=always', '-k', 'all');
    assert.match(r.stderr, /\x1b\[31m\[bad-1\.0\] Error: spkg-install failed/);
    assert.doesNotMatch(r.all, /\r|\x1b\[K/, 'no status line on a pipe');
    const bad = await rig.run('--color=sometimes', 'all');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--color <when>.*'sometimes' is invalid\. expected auto, always or never/);
  });
});

describe('lists of names on a terminal', () => {
  it('wrap at spaces to the width', async () => {
    const { wrapWords } = await import('../src/report/console.ts');
    assert.deepEqual(wrapWords('  not started:', ['aaaa-1.0', 'bbbb-1.0', 'cccc-1.0'], 30), ['  not started: aaaa-1.0', '    bbbb-1.0 cccc-1.0']);
    assert.deepEqual(wrapWords('  x:', ['a'], 79), ['  x: a']);
    const long = 'n'.repeat(100);
    assert.deepEqual(wrapWords('  x:', [long, 'b'], 40), ['  x:', `    ${long}`, '    b'], 'a word longer than the line gets a line of its own');
  });
});
