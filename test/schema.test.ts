// build.config.schema.json is the one list of config keys: config.ts's validator is built from it
// (keysFromSchema), the shipped config references it for editors, and a JSON Schema validator
// (Python's jsonschema, where installed) accepts and rejects what sagebuild accepts and rejects.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_KEYS, KIND_SCHEMAS, SCHEMA_FILE, keysFromSchema, loadConfig } from '../src/config.ts';
import { UserError } from '../src/diagnostics.ts';
import { ROOT, Rig } from './rig.ts';

const schema = JSON.parse(readFileSync(path.join(ROOT, 'build.config.schema.json'), 'utf8'));

/** jsonschema's verdict on each document (null: jsonschema is not installed). */
async function jsonschemaValid(docs: unknown[]): Promise<boolean[] | null> {
  const code = `import json, sys
try:
    import jsonschema
except ImportError:
    print("absent"); sys.exit(0)
schema, docs = json.load(sys.stdin)
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
print(json.dumps([v.is_valid(d) for d in docs]))`;
  const r = await execa('python3', ['-c', code], { input: JSON.stringify([schema, docs]), reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim() === 'absent' ? null : JSON.parse(r.stdout);
}

describe('build.config.schema.json', () => {
  it('is the file config.ts reads, and its keys are exactly the validator\'s', () => {
    assert.equal(SCHEMA_FILE, path.join(ROOT, 'build.config.schema.json'));
    assert.deepEqual(Object.keys(schema.properties), CONFIG_KEYS);
    for (const [k, p] of Object.entries(schema.properties as Record<string, { description?: string }>)) assert.ok(p.description, `${k} has a description`);
  });

  it('a key of a type the validator does not know fails loudly', () => {
    assert.throws(() => keysFromSchema({ additionalProperties: false, properties: { x: { type: 'number' } } }), /'x' has a type src\/config\.ts cannot validate/);
    assert.throws(() => keysFromSchema({ properties: {} }), /additionalProperties: false/);
    assert.deepEqual(keysFromSchema({ additionalProperties: false, properties: { j: { ...KIND_SCHEMAS.jobs, description: 'd' } } }), { j: 'jobs' });
  });

  it('the shipped config references it with the yaml-language-server modeline', () => {
    const text = readFileSync(path.join(ROOT, 'build.config.yaml'), 'utf8');
    assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=./build.config.schema.json');
  });

  it('a JSON Schema validator and sagebuild agree on good and bad configs (line/column errors kept)', async (t) => {
    const shipped = readFileSync(path.join(ROOT, 'build.config.yaml'), 'utf8');
    const cases: [string, boolean][] = [
      [shipped, true],
      ['jobs: 4\ncheck: true\nsystem: {gmp: yes, openssl: no}\nvariables:\n  A: x y\n  B: [c, d]\n  C:\n', true],
      ['download_retries: 0\nmirrors: [http://m/]\nvenv: auto\n', true],
      ['jobs: 0\n', false],
      ['jobs: 5000\n', false],
      ['check: yes\n', false],
      ['jbos: 4\n', false],
      ['optional: demoextra\n', false],
      ['system: {gmp: maybe}\n', false],
      ['download_retries: -1\n', false],
      ['num_threads: 1.5\n', false],
      ['prefix: ""\n', false],
      ['variables: {A: 3}\n', false],
    ];
    const rig = new Rig('schema');
    try {
      const ours = cases.map(([text]) => {
        rig.write({ 'build.config.yaml': text.replace(/^venv: auto$/m, 'venv: v') });
        try {
          loadConfig(rig.path('build.config.yaml'), {}, rig.dir);
          return true;
        } catch (e) {
          assert.ok(e instanceof UserError, String(e));
          assert.ok(e.diagnostics.every((d) => d.line !== undefined && d.col !== undefined), 'errors keep line and column');
          return false;
        }
      });
      assert.deepEqual(ours, cases.map(([, ok]) => ok), 'sagebuild');
      const theirs = await jsonschemaValid(cases.map(([text]) => parse(text) ?? {}));
      if (!theirs) return t.skip('python3 has no jsonschema module: only sagebuild checked');
      assert.deepEqual(theirs, cases.map(([, ok]) => ok), 'jsonschema');
    } finally {
      rig.cleanup();
    }
  });
});
