// The recipe cache (src/recipecache.ts), in-process on a real tree: an unchanged recipe folder is
// taken from it, any change to a folder or one of its files is read again, a damaged cache file is
// ignored and rewritten, a dry run writes nothing, and the CLI keeps it in the prefix. And the
// installation records' summaries (src/state/recordsummary.ts): a changed record is read again.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RecipeCache } from '../src/recipecache.ts';
import { readRecipes, type Recipe } from '../src/recipes.ts';
import { loadConfig } from '../src/config.ts';
import { analyze } from '../src/project.ts';
import { Rig } from './rig.ts';

describe('the recipe cache', () => {
  const rig = new Rig('sagebuild-recipecache');
  const file = rig.path('local/var/lib/sage/sagebuild/recipes.json');
  const pkgs = rig.path('pkgs');
  const read = (write = true): { recipes: Map<string, Recipe>; cache: RecipeCache } => {
    const cache = new RecipeCache(file, pkgs, write);
    const recipes = readRecipes(pkgs, [], new Set(), { chooseTarball: (_n, g) => g[0]!, cache });
    cache.save(new Set(recipes.keys()));
    return { recipes, cache };
  };
  const hit = (name: string) => new RecipeCache(file, pkgs, false).get(name, path.join(pkgs, name), false);

  before(async () => {
    rig.write({
      'pkgs/a/type': 'standard\n',
      'pkgs/a/package-version.txt': '1.0\n',
      'pkgs/a/dependencies': 'b\n',
      'pkgs/a/spkg-install.in': 'true\n',
      'pkgs/a/patches/x.patch': '',
      'pkgs/b/type': 'standard\n',
      'pkgs/b/spkg-install.in': 'true\n',
    });
    mkdirSync(path.dirname(file), { recursive: true });
    // Files written within the last 2 s are never cached (they may change again in the same tick).
    await sleep(2100);
  });
  after(() => rig.cleanup());

  it('a dry run reads but writes nothing; then an unchanged folder comes from the cache, equal to a fresh read', () => {
    read(false);
    assert.equal(existsSync(file), false);
    const first = read().recipes;
    assert.ok(existsSync(file));
    assert.deepEqual(JSON.parse(JSON.stringify(hit('a'))), JSON.parse(JSON.stringify(first.get('a'))));
    assert.deepEqual(read().recipes.get('a')!.patches, [path.join(pkgs, 'a/patches/x.patch')]);
  });

  it('a changed file, a new file, a changed patch or a chmod is read again', async () => {
    read();
    appendFileSync(rig.path('pkgs/a/package-version.txt'), '\n');
    assert.equal(hit('a'), null, 'the version file changed');
    assert.ok(hit('b'), 'b did not');
    writeFileSync(rig.path('pkgs/a/package-version.txt'), '2.0\n');
    assert.equal(read().recipes.get('a')!.version, '2.0');
    await sleep(2100);
    read();
    assert.ok(hit('a'));
    writeFileSync(rig.path('pkgs/a/requirements.txt'), 'a\n');
    assert.equal(hit('a'), null, 'a new file in the folder');
    assert.equal(read().recipes.get('a')!.kind, 'pip');
    await sleep(2100);
    read();
    assert.ok(hit('b'));
    writeFileSync(rig.path('pkgs/a/patches/y.patch'), '');
    assert.equal(hit('a'), null, 'a new patch');
    chmodSync(rig.path('pkgs/b/spkg-install.in'), 0o600);
    assert.equal(hit('b'), null, 'a chmod');
  });

  it('a damaged cache file is ignored and rewritten', () => {
    writeFileSync(file, '{"version": 1, "recipes": ');
    const { recipes } = read();
    assert.equal(recipes.get('b')!.name, 'b');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), recipes: { b: { dir: 'x', entries: 7, python: false, recipe: null } } }));
    assert.equal(read().recipes.get('b')!.name, 'b', 'an entry of the wrong shape is a miss');
  });

  it('the CLI keeps it in the prefix, never on -n', async () => {
    const t = new Rig('sagebuild-recipecache-cli');
    try {
      t.write({ 'pkgs/c/type': 'standard\n', 'pkgs/c/spkg-install.in': 'true\n', 'build.config.yaml': '' });
      await sleep(2100);
      const cached = t.path('local/var/lib/sage/sagebuild/recipes.json');
      assert.equal((await t.cli('-n', 'all')).exitCode, 0);
      assert.equal(existsSync(cached), false, 'a dry run in a fresh folder leaves no prefix');
      assert.equal((await t.cli('all')).exitCode, 0);
      assert.equal((await t.cli('all')).exitCode, 0);
      assert.ok(existsSync(cached), 'written once the prefix exists');
      const kept = JSON.parse(readFileSync(cached, 'utf8')).recipes.c;
      assert.ok(kept.inputs['spkg-install.in'], "the fingerprint's hashes of a flat recipe are kept");
      writeFileSync(t.path('pkgs/c/spkg-install.in'), 'echo changed\n');
      const changed = await t.cli('-n', 'all');
      assert.match(changed.stdout, /^c: spkg-install\.in changed/m, changed.all);
      writeFileSync(t.path('pkgs/c/package-version.txt'), '3\n');
      const r = await t.cli('-n', 'all');
      assert.match(r.stdout, /^c: version /m, r.all);
    } finally {
      t.cleanup();
    }
  });

  it("analysis: the graph and its warnings come back from the cache, a changed dependency line or a wildcard is worked out again", async () => {
    const t = new Rig('sagebuild-analysiscache');
    try {
      t.write({
        'build.config.yaml': '',
        'pkgs/python3_venv/type': 'standard\n',
        'pkgs/python3_venv/spkg-install.in': 'true\n',
        'pkgs/sphinx/type': 'standard\n',
        'pkgs/sphinx/dependencies': '| websupport\n',
        'pkgs/sphinx/spkg-install.in': 'true\n',
        'pkgs/websupport/type': 'standard\n',
        'pkgs/websupport/dependencies': 'sphinx\n',
        'pkgs/websupport/spkg-install.in': 'true\n',
        'pkgs/docs/type': 'standard\n',
        'pkgs/docs/dependencies': 'sphinx websupport\n',
        'pkgs/docs/spkg-install.in': 'true\n',
        'src/a.txt': '',
      });
      mkdirSync(t.path('local/var/lib/sage/sagebuild'), { recursive: true });
      await sleep(2100);
      const run = async () => {
        const config = loadConfig(null, {}, t.dir);
        return analyze(config, new RecipeCache(path.join(config.prefix, 'var/lib/sage/sagebuild/recipes.json'), config.pkgs, true));
      };
      const first = await run();
      const cached = JSON.parse(readFileSync(t.path('local/var/lib/sage/sagebuild/recipes.json'), 'utf8'));
      assert.ok(cached.analysis, 'kept');
      const second = await run();
      assert.deepEqual(second.order, first.order);
      assert.deepEqual([...second.deps], [...first.deps]);
      assert.deepEqual(second.warnings, first.warnings);
      assert.match(second.warnings.join('\n'), /circular sphinx <- websupport dependency dropped/);
      writeFileSync(t.path('pkgs/docs/dependencies'), 'sphinx\n');
      assert.deepEqual((await run()).deps.get('docs')!.normal, ['sphinx']);
      writeFileSync(t.path('pkgs/docs/dependencies'), 'sphinx $(SAGE_SRC)/*.txt\n');
      assert.deepEqual((await run()).deps.get('docs')!.files, [t.path('src/a.txt')]);
      writeFileSync(t.path('src/b.txt'), '');
      assert.deepEqual((await run()).deps.get('docs')!.files, [t.path('src/a.txt'), t.path('src/b.txt')], 'a wildcard is expanded anew');
    } finally {
      t.cleanup();
    }
  });

  it('record summaries: an unchanged record is not read; a changed one is, and decides as before', async () => {
    const t = new Rig('sagebuild-records');
    try {
      t.write({ 'pkgs/d/type': 'standard\n', 'pkgs/d/package-version.txt': '1\n', 'pkgs/d/spkg-install.in': 'true\n', 'pkgs/d/spkg-check.in': 'true\n', 'build.config.yaml': '' });
      assert.equal((await t.cli('all')).exitCode, 0);
      await sleep(2100);
      const noop = await t.cli('all');
      assert.match(noop.stdout, /Nothing to \(re\)build/, noop.all);
      const summaries = JSON.parse(readFileSync(t.path('local/var/lib/sage/sagebuild/records.json'), 'utf8'));
      const record = t.path('local/var/lib/sage/installed/d-1');
      assert.equal(typeof summaries.entries[record].fingerprint, 'string');
      const m = JSON.parse(readFileSync(record, 'utf8'));
      m.sagebuild.fingerprint = 'f'.repeat(64);
      writeFileSync(record, JSON.stringify(m));
      const changed = await t.cli('all');
      assert.match(changed.stdout, /built: 1,/, `the record changed: read again, its fingerprint differs\n${changed.all}`);
      await sleep(2100);
      assert.match((await t.cli('all')).stdout, /Nothing to \(re\)build/);
      const checks = await t.cli('--check', 'all');
      assert.match(checks.stdout, /checks requested/, `a summarised record's test result still counts\n${checks.all}`);
    } finally {
      t.cleanup();
    }
  });
});
