// Watch mode with a real chokidar watcher on a temp tree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rig, scriptPkg } from './rig.ts';

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('sagebuild watch', { timeout: 180_000 }, () => {
  it('builds, then rebuilds exactly what a change affects; survives failures; Ctrl-C exits cleanly', async () => {
    const rig = new Rig('watch');
    rig.write({
      ...scriptPkg('lib', { body: 'grep -q broken src/value.txt && sdh_die "value.txt is broken"\nsdh_install -T src/value.txt "$SAGE_LOCAL/value.txt"' }),
      'pkgs/lib/src/value.txt': 'v1\n',
      ...scriptPkg('app', { deps: 'lib' }),
      ...scriptPkg('unrelated'),
    });
    const child = rig.start(['watch', 'app']);
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
    await waitFor('the watcher again', () => out.split('change detected').length === 2 && /watching for changes[^]*$/.test(out.split('change detected')[1]!));
    assert.match(out, /change detected: pkgs\/lib\/src\/value\.txt/);
    assert.match(out, /\[lib-1\.0\] building \(src\/value\.txt changed\)/);
    assert.match(out, /\[app-1\.0\] building \(dependency lib rebuilt\)/);

    // A failing rebuild does not stop the watcher.
    const before = out.length;
    rig.write({ 'pkgs/lib/src/value.txt': 'broken\n' });
    await waitFor('the failure', () => /value\.txt is broken/.test(out.slice(before)) && /the build failed; fix it and save/.test(out.slice(before)));
    assert.equal(rig.read('local/value.txt'), 'v2\n', 'the failed build changed nothing');
    rig.write({ 'pkgs/lib/src/value.txt': 'v3\n' });
    await waitFor('the repaired build', () => rig.exists('local/value.txt') && rig.read('local/value.txt') === 'v3\n');
    await waitFor('idle', () => /watching for changes \(Ctrl-C to stop\)\s*$/.test(out));

    child.kill('SIGINT');
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.all));
    rig.cleanup();
  });
});
