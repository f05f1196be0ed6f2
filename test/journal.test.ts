// Issue 9, the install transaction: a kill -9 at any point of an install, and a full disk while
// the manifest is written, leave a prefix that the next run brings back to exactly what a clean
// build gives (test/txn.ts's invariants).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLI, Rig, processGone, waitFor, type Tree } from './rig.ts';
import { diff, problems, snapshot } from './txn.ts';

/** A script package whose files depend on its version: shared names with new content, and one file only this version has. */
export function versioned(name: string, version: string, n = 12, o: { postinst?: string } = {}): Tree {
  const files = [...Array.from({ length: n }, (_, i) => `share/${name}/common/f${i}.txt`), `share/${name}/only-${version}.txt`, `lib/${name}/v${version}/deep/x.txt`];
  const install = files.map((f) => `mkdir -p "$(dirname "$SAGE_DESTDIR_LOCAL/${f}")" && echo "${name} ${version} ${f}" > "$SAGE_DESTDIR_LOCAL/${f}"`).join('\n');
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/package-version.txt`]: `${version}\n`,
    [`pkgs/${name}/spkg-install.in`]: `${install}\nln -sf common/f0.txt "$SAGE_DESTDIR_LOCAL/share/${name}/link"\n`,
    [`pkgs/${name}/spkg-postrm.in`]: `echo "postrm of ${name} ${version}" >/dev/null\n`,
    [`pkgs/${name}/spkg-postinst.in`]: o.postinst ?? 'true\n',
  };
}

const SCRIPT_POINTS = ['journal', 'backup', 'mid-merge', 'merge', 'postinst', 'manifest', 'unjournal'] as const;
const COMMITTED = new Set(['manifest', 'unjournal']);

describe('install journal: script package, kill -9 at each point', { timeout: 900_000 }, () => {
  const rig = new Rig('sagebuild-journal');
  after(() => rig.cleanup());
  const refs: Record<string, ReturnType<typeof snapshot>> = {};

  before(async () => {
    rig.write({ 'build.config.yaml': 'prefix: local\njobs: 1\n', ...versioned('p', '1.0') });
    // Clean builds of each version, the references.
    for (const v of ['1.0', '1.1']) {
      rig.write(versioned('p', v));
      const r = await rig.run('--prefix', `ref${v}`, 'p');
      assert.equal(r.exitCode, 0, r.all);
      refs[v] = snapshot(rig.path(`ref${v}`));
      assert.deepEqual(problems(rig.path(`ref${v}`)), []);
    }
  });

  const crash = async (version: string, point: string) => {
    rig.write(versioned('p', version));
    const r = await rig.start(['p'], { SAGEBUILD_TEST_CRASH_AT: `${point}@p` });
    assert.equal(r.signal, 'SIGKILL', `the run was to kill itself at ${point}: ${String(r.all)}`);
  };
  const rerun = async (version: string, expect: RegExp) => {
    rig.write(versioned('p', version));
    const r = await rig.run('p');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, expect);
    assert.deepEqual(problems(rig.path('local')), []);
    assert.deepEqual(diff(snapshot(rig.path('local')), refs[version]!), [], `the prefix is not a clean build of p-${version}`);
  };

  for (const point of SCRIPT_POINTS) {
    it(`fresh install killed at '${point}': the rerun recovers it and the prefix is a clean build's`, async () => {
      await crash('1.0', point);
      assert.equal(readdirSync(rig.path('local/var/lib/sage/sagebuild/journal')).length, 1, 'the record is left behind');
      await rerun('1.0', COMMITTED.has(point) ? /recovered an interrupted install of p-1\.0: completed/ : /recovered an interrupted install of p-1\.0: rolled back \(nothing of it is installed\)/);
      const c = await rig.run('p-clean');
      assert.equal(c.exitCode, 0, c.all);
    });
  }

  it('(upgrades start from p-1.0)', async () => {
    const r = await rig.run('p');
    assert.equal(r.exitCode, 0, r.all);
  });

  for (const point of SCRIPT_POINTS) {
    it(`upgrade 1.0 -> 1.1 killed at '${point}', version set back to 1.0: the rerun gives exactly p-1.0 again`, async () => {
      await crash('1.1', point);
      // Rolled back, 1.0 is installed: nothing to build; rolled forward, 1.1 is: 1.0 is built again.
      await rerun('1.0', COMMITTED.has(point) ? /recovered an interrupted install of p-1\.1: completed \(its manifest was written\); p-1\.0 removed/ : /recovered an interrupted install of p-1\.1: rolled back to p-1\.0/);
    });
  }

  it('upgrade killed by an outside kill -9 during a slow spkg-postinst (finding 1), then rerun at 1.1: a clean p-1.1', async () => {
    const flag = rig.path('postinst-running');
    rig.write(versioned('p', '1.1', 12, { postinst: `touch "${flag}"\nsleep 600\n` }));
    const run = execa('node', [CLI, 'p'], { cwd: rig.dir, reject: false, env: { PIP_RETRIES: '0' } });
    await waitFor('spkg-postinst to run', () => existsSync(flag));
    process.kill(run.pid!, 'SIGKILL');
    await run;
    await waitFor('sagebuild to be gone', () => processGone(run.pid!));
    // A status (it reads the prefix) recovers it too.
    const st = await rig.run('status');
    assert.match(st.stderr, /recovered an interrupted install of p-1\.1: rolled back to p-1\.0/);
    assert.deepEqual(diff(snapshot(rig.path('local')), refs['1.0']!), []);
    await rerun('1.1', /^(?![\s\S]*recovered)/);
  });

  it('a dry run only reports a leftover record; it changes nothing', async () => {
    await crash('1.0', 'merge');
    const before = snapshot(rig.path('local'));
    const r = await rig.run('-n', 'p');
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stderr, /an interrupted install of p-1\.0 is recorded in .*journal\/p-\d+\.json; the next command that may change the prefix recovers it/);
    assert.deepEqual(diff(snapshot(rig.path('local')), before), []);
    await rerun('1.0', /recovered an interrupted install of p-1\.0: rolled back to p-1\.1/);
  });
});

/** Whether this machine lets us mount a small tmpfs in a private mount namespace (a real full disk). */
function canMountTmpfs(): boolean {
  try {
    execFileSync('unshare', ['--mount', '--map-root-user', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=16k tmpfs "$d" && umount "$d" && rmdir "$d"'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk while the manifest is written (finding 2)', { timeout: 300_000 }, () => {
  const rig = new Rig('sagebuild-diskfull');
  after(() => rig.cleanup());

  it('the install fails (exit 1) naming the manifest and ENOSPC; the old version is restored, no temp file, no empty folders', async (t) => {
    if (!canMountTmpfs()) return t.skip('no unshare/tmpfs here');
    rig.write({ 'build.config.yaml': 'prefix: local\njobs: 1\n', ...versioned('p', '1.0', 2) });
    const ref = new Rig('sagebuild-diskfull-ref');
    try {
      ref.write({ 'build.config.yaml': 'prefix: local\njobs: 1\n', ...versioned('p', '1.0', 2) });
      assert.equal((await ref.run('p')).exitCode, 0);
      // p-1.0's manifest fits in the 16 KiB the records folder gets; p-1.1's (600 files) does not.
      const installed = rig.path('local/var/lib/sage/installed');
      const out = rig.path('records-after');
      const script = [
        'set -e',
        `mkdir -p "${installed}" "${out}"`,
        `mount -t tmpfs -o size=16k tmpfs "${installed}"`,
        `node "${CLI}" p > "${rig.path('out1')}" 2>&1`,
        `cp ${JSON.stringify(rig.path('p-1.1-recipe'))}/spkg-install.in "${rig.path('pkgs/p/spkg-install.in')}"`,
        `echo 1.1 > "${rig.path('pkgs/p/package-version.txt')}"`,
        'set +e',
        `node "${CLI}" p > "${rig.path('out2')}" 2>&1; echo $? > "${rig.path('rc2')}"`,
        `cp -a "${installed}/." "${out}/"`,
      ].join('\n');
      rig.write(Object.fromEntries(Object.entries(versioned('p', '1.1', 600)).filter(([k]) => k.endsWith('spkg-install.in')).map(([, v]) => ['p-1.1-recipe/spkg-install.in', v])));
      const r = await execa('unshare', ['--mount', '--map-root-user', 'sh', '-c', script], { cwd: rig.dir, reject: false, all: true, env: { PIP_RETRIES: '0' } });
      assert.equal(r.exitCode, 0, `${r.all}\n${rig.exists('out1') ? rig.read('out1') : ''}`);
      const out2 = rig.read('out2');
      assert.equal(rig.read('rc2').trim(), '1', out2);
      assert.match(out2, /cannot write .*var\/lib\/sage\/installed\/p-1\.1: ENOSPC/);
      assert.match(out2, /The previously installed p-1\.0 was restored/);
      assert.doesNotMatch(out2, /successfully installed/);
      assert.deepEqual(readdirSync(out), ['p-1.0'], 'only p-1.0 is recorded, no temp file');
      // The prefix outside the records is p-1.0's, exactly (no 1.1 file, no empty 1.1 folder).
      writeFileSync(rig.path('local/var/lib/sage/installed/p-1.0'), rig.read('records-after/p-1.0'));
      assert.deepEqual(problems(rig.path('local')), []);
      assert.deepEqual(diff(snapshot(rig.path('local')), snapshot(ref.path('local'))), []);
    } finally {
      ref.cleanup();
    }
  });
});
