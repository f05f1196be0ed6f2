// The ownership index (state/installed.ts) follows the record-changes log: two InstalledDb
// readers of one tree (as two sagebuild processes) see each other's records written and removed,
// re-reading only those; a log that is rotated or removed means a full scan.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InstalledDb } from '../src/state/installed.ts';
import { recordChangesFile, installedDir } from '../src/state/layout.ts';
import { newManifest, removeRecord, writeManifest } from '../src/state/manifest.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tree(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sagebuild-installed-'));
  dirs.push(d);
  return d;
}
const record = (t: string, name: string, version: string, files: string[]) =>
  writeManifest(t, newManifest(name, version, files, t, { tool_version: 'test', kind: 'normal', tree: t }));

describe('ownership index', () => {
  it("follows another reader's installs and removals through the log", () => {
    const t = tree();
    record(t, 'a', '1.0', ['share/a/1', 'share/a/2']);
    const mine = new InstalledDb([t]);
    const theirs = new InstalledDb([t]);
    assert.equal(mine.owners().get(path.join(t, 'share/a/1')), 'a');
    theirs.owners();
    const b = record(t, 'b', '2.0', ['share/b/1']);
    assert.equal(mine.owners().get(path.join(t, 'share/b/1')), 'b', 'a record written by another reader is seen');
    assert.deepEqual(mine.get('b').map((e) => e.version), ['2.0']);
    removeRecord(b);
    assert.equal(mine.owners().has(path.join(t, 'share/b/1')), false, 'and its removal');
    assert.deepEqual(mine.get('b'), []);
    // An upgrade: the new record lands, then the old one goes; files both list stay owned.
    record(t, 'a', '1.1', ['share/a/1', 'share/a/3']);
    removeRecord(path.join(installedDir(t), 'a-1.0'));
    const o = mine.owners();
    assert.equal(o.get(path.join(t, 'share/a/1')), 'a');
    assert.equal(o.get(path.join(t, 'share/a/3')), 'a');
    assert.equal(o.has(path.join(t, 'share/a/2')), false);
    assert.deepEqual(mine.get('a').map((e) => e.version), ['1.1']);
  });

  it('a record changed without a log line is found once the log is rotated or removed', () => {
    const t = tree();
    record(t, 'a', '1.0', ['share/a/1']);
    const db = new InstalledDb([t]);
    db.owners();
    // As a tool that keeps no log (Sage's sage-spkg) would.
    mkdirSync(installedDir(t), { recursive: true });
    writeFileSync(path.join(installedDir(t), 'c-1.0'), JSON.stringify({ package_name: 'c', package_version: '1.0', files: ['share/c/1'] }));
    assert.equal(db.owners().has(path.join(t, 'share/c/1')), false, 'not seen: nothing said it changed');
    renameSync(recordChangesFile(t), `${recordChangesFile(t)}.old`);
    assert.equal(db.owners().get(path.join(t, 'share/c/1')), 'c', 'a rotated log: a full scan');
    writeFileSync(path.join(installedDir(t), 'd-1.0'), JSON.stringify({ package_name: 'd', package_version: '1.0', files: ['share/d/1'] }));
    record(t, 'e', '1.0', ['share/e/1']);
    rmSync(recordChangesFile(t));
    const o = db.owners();
    assert.equal(o.get(path.join(t, 'share/d/1')), 'd', 'a removed log: a full scan');
    assert.equal(o.get(path.join(t, 'share/e/1')), 'e');
  });

  it('reads only what changed: a record rewritten in place is re-read by its stamp', () => {
    const t = tree();
    record(t, 'a', '1.0', ['share/a/1']);
    const db = new InstalledDb([t]);
    db.owners();
    record(t, 'a', '1.0', ['share/a/1', 'share/a/2']);
    assert.equal(db.owners().get(path.join(t, 'share/a/2')), 'a');
  });
});
