// Watch mode with a real chokidar watcher on a temp tree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rig, scriptPkg, waitFor } from './rig.ts';

describe('sagebuild watch', { timeout: 180_000 }, () => {
  it('builds, then rebuilds exactly what a change affects; survives failures; Ctrl-C exits cleanly', async () => {
    const rig = new Rig('watch');
    rig.write({
      ...scriptPkg('lib', { body: 'grep -q broken src/value.txt && sdh_die "value.txt is broken"\ngrep -q slow src/value.txt && { touch \"$SAGE_ROOT/slow-started\"; while [ ! -e \"$SAGE_ROOT/go\" ]; do sleep 0.05; done; }\nsdh_install -T src/value.txt "$SAGE_LOCAL/value.txt"' }),
      'pkgs/lib/src/value.txt': 'v1\n',
      ...scriptPkg('app', { deps: 'lib' }),
      ...scriptPkg('unrelated'),
    });
    const child = rig.start(['watch', 'app']);
    try {
      await scenario(rig, child);
    } finally {
      // Never leave the watcher running, even when an assertion failed.
      if (child.exitCode === null) child.kill('SIGKILL');
      rig.cleanup();
    }
  });
});

describe('sagebuild watch and the config file', { timeout: 180_000 }, () => {
  it('re-reads build.config.yaml when it changes', async () => {
    const rig = new Rig('watch');
    rig.write({ 'build.config.yaml': 'variables:\n  FOO: [a]\n', ...scriptPkg('a'), ...scriptPkg('b'), ...scriptPkg('x', { deps: '$(FOO)' }) });
    const child = rig.start(['watch', 'x']);
    let out = '';
    child.all?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the first build', () => /watching for changes/.test(out) && rig.manifests().includes('x-1.0'));
      assert.deepEqual(rig.manifests(), ['a-1.0', 'x-1.0']);
      rig.write({ 'build.config.yaml': 'variables:\n  FOO: [b]\n' });
      await waitFor('b to be built for x', () => rig.manifests().includes('b-1.0'));
      await waitFor('the watcher again', () => idleAfterChange(out));
      assert.match(out, /\[x-1\.0\] building \(new dependency b; dependency a removed\)/);
      child.kill('SIGTERM');
      const r = await child;
      assert.equal(r.exitCode, 0, String(r.all));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rig.cleanup();
    }
  });
});

/** Output since the last rebuild was triggered ends with the watcher waiting again. */
const idleAfterChange = (out: string) => out.includes('change detected') && /watching for changes \(Ctrl-C to stop\)\s*$/.test(out.slice(out.lastIndexOf('change detected')));

async function scenario(rig: Rig, child: ReturnType<Rig['start']>): Promise<void> {
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  const fp = (id: string) => (rig.manifests().includes(id) ? (rig.manifest(id).sagebuild as { fingerprint: string }).fingerprint : '');
  await waitFor('the first build and the watcher', () => /watching for changes/.test(out) && rig.manifests().includes('app-1.0'));
  assert.ok(!rig.manifests().includes('unrelated-1.0'), 'only the targets are built');
  const lib1 = fp('lib-1.0');
  const app1 = fp('app-1.0');

  rig.write({ 'pkgs/lib/src/value.txt': 'v2\n' });
  await waitFor('the rebuild', () => fp('lib-1.0') !== lib1 && fp('app-1.0') !== app1);
  assert.equal(rig.read('local/value.txt'), 'v2\n');
  await waitFor('the watcher again', () => idleAfterChange(out));
  assert.match(out, /change detected: pkgs\/lib\/src\/value\.txt/);
  assert.match(out, /\[lib-1\.0\] building \(src\/value\.txt changed\)/);
  assert.match(out, /\[app-1\.0\] building \(dependency lib rebuilt\)/);

  // A failing rebuild does not stop the watcher.
  const before = out.length;
  rig.write({ 'pkgs/lib/src/value.txt': 'broken\n' });
  await waitFor('the failure', () => /value\.txt is broken/.test(out.slice(before)) && /the build failed; fix it and save/.test(out.slice(before)));
  assert.equal(rig.read('local/value.txt'), 'v2\n', 'the failed build changed nothing');
  const m3 = out.length;
  rig.write({ 'pkgs/lib/src/value.txt': 'v3\n' });
  await waitFor('the repaired build', () => rig.read('local/value.txt') === 'v3\n' && idleAfterChange(out.slice(m3)));

  // A change saved while a rebuild runs is built right after it.
  const m4 = out.length;
  rig.write({ 'pkgs/lib/src/value.txt': 'slow v4\n' });
  try {
    await waitFor('the slow rebuild to start', () => rig.exists('slow-started'));
    rig.write({ 'pkgs/lib/src/value.txt': 'v5\n' });
    await waitFor('the change to be queued', () => /change detected during the build/.test(out.slice(m4)));
  } finally {
    rig.write({ go: '' });
  }
  await waitFor('the queued rebuild', () => rig.read('local/value.txt') === 'v5\n' && idleAfterChange(out.slice(m4)));
  assert.doesNotMatch(out.slice(m4, out.lastIndexOf('change detected: ')), /watching for changes/, 'not idle while a change was queued');

  child.kill('SIGINT');
  const r = await child;
  assert.equal(r.exitCode, 0, String(r.all));
}
