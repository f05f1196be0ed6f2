// Loads and validates build.config.yaml. Every problem is reported with file:line:col; unknown
// keys are errors (a typo must not silently fall back to a default).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { type Diagnostic, UserError, closest } from './diagnostics.js';
import { pythonInfo, rememberInterpreters } from './python/interpreter.js';
import { PACKAGE_ROOT } from './util/paths.js';
import { defaultBuildDir, defaultLogsDir, interpreterCacheFile, venvFor } from './state/layout.js';

export interface Config {
  /** Folder of the config file: SAGE_ROOT. */
  root: string;
  configFile: string | null;
  prefix: string;
  pkgs: string;
  buildDir: string;
  logs: string;
  upstream: string;
  sageSrc: string;
  jobs: number;
  /** Threads a single package's own build may use (SAGE_NUM_THREADS). */
  numThreads: number;
  optional: string[];
  /** User-set make variables; merged over the built-in defaults by the dependency resolver. */
  variables: Record<string, string[]>;
  check: boolean;
  /** Interpreter the venv is made from. */
  python: string;
  /** SAGE_VENV: the tree Python packages install into. */
  venv: string;
  /** Mirror base URLs, tried in order before upstream_url (Sage's layout). */
  mirrors: string[];
  /** Seconds without data before a download attempt is abandoned. */
  downloadTimeout: number;
  /** Further attempts per URL after a network error or timeout. */
  downloadRetries: number;
  /** Downloads at once. */
  downloadJobs: number;
  /** On <pkg>-clean, keep the wheel in a cache keyed by fingerprint, for reuse. */
  keepWheelsCache: boolean;
  /** Act as a GNU make jobserver so nested makes share the -j limit. */
  jobserver: boolean;
  /** `system:` per package: take it from the system (yes) or always build it (no), whatever configure found. */
  system: Record<string, 'yes' | 'no'>;
  /** Where each `system:` name is written, for errors about it. */
  systemAt: Record<string, { line: number; col: number }>;
  /** Where each `optional:` name is written in the config file, for errors about it. */
  optionalAt: Record<string, { line: number; col: number }>;
}

export interface Overrides {
  prefix?: string;
  pkgs?: string;
  jobs?: number;
  check?: boolean;
  /** A dry run: the interpreter's answers are read from the prefix's cache but not written to it. */
  dryRun?: boolean;
}

/**
 * The most packages built at once. The jobserver pipe must hold jobs-1 tokens without blocking,
 * and a pipe holds at least one page (4096 bytes) even when the user's pipe quota is spent.
 */
export const MAX_JOBS = 4096;

type Kind = 'path' | 'int' | 'jobs' | 'count' | 'bool' | 'strings' | 'vars' | 'system';

/**
 * The JSON Schema fragment of each kind this validator knows. build.config.schema.json (shipped
 * at the top, referenced from build.config.yaml for editors) is the one list of keys: each of its
 * properties must be exactly one of these (apart from its description), or loading fails.
 */
export const KIND_SCHEMAS: Record<Kind, object> = {
  path: { type: 'string', minLength: 1 },
  int: { type: 'integer', minimum: 1 },
  jobs: { type: 'integer', minimum: 1, maximum: MAX_JOBS },
  count: { type: 'integer', minimum: 0 },
  bool: { type: 'boolean' },
  strings: { type: 'array', items: { type: 'string' } },
  vars: { type: 'object', additionalProperties: { anyOf: [{ type: ['string', 'null'] }, { type: 'array', items: { type: 'string' } }] } },
  system: { type: 'object', additionalProperties: { enum: ['yes', 'no', true, false] } },
};

/** Where the schema is: at the package's top, whichever file of dist/ this code was bundled into. */
export const SCHEMA_FILE = path.join(PACKAGE_ROOT, 'build.config.schema.json');

/** The validator's table, from the schema: key -> kind. Throws on a property no kind matches. */
export function keysFromSchema(schema: { properties?: Record<string, Record<string, unknown>>; additionalProperties?: unknown }): Record<string, Kind> {
  if (schema.additionalProperties !== false) throw new Error(`${SCHEMA_FILE}: must have additionalProperties: false (unknown keys are errors)`);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
  const keys: Record<string, Kind> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const { description: _d, ...shape } = prop;
    const kind = (Object.keys(KIND_SCHEMAS) as Kind[]).find((k) => same(shape, KIND_SCHEMAS[k]));
    if (!kind) throw new Error(`${SCHEMA_FILE}: '${key}' has a type src/config.ts cannot validate: ${JSON.stringify(shape)}`);
    keys[key] = kind;
  }
  return keys;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  // Code-unit order: only a canonical form (localeCompare would load ICU's collator at every start).
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

const KEYS = keysFromSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));

export const CONFIG_KEYS = Object.keys(KEYS);

export function defaultJobs(): number {
  return Math.min(MAX_JOBS, Math.max(1, availableParallelism()));
}

export const CONFIG_NAME = 'build.config.yaml';

/** The nearest build.config.yaml in `dir` or a folder above it (as git and cargo find theirs), or null. */
export function findConfig(dir: string): string | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const f = path.join(d, CONFIG_NAME);
    if (existsSync(f)) return f;
    if (path.dirname(d) === d) return null;
  }
}

/**
 * Reads the config. `file` null means "the nearest build.config.yaml in the current folder or
 * above, else defaults" (paths relative to the current folder then); an explicitly named file
 * that does not exist is an error.
 */
export function loadConfig(file: string | null, overrides: Overrides = {}, cwd = process.cwd()): Config {
  let configFile: string | null = null;
  if (file !== null) {
    configFile = path.resolve(cwd, file);
    if (!existsSync(configFile)) {
      throw new UserError({ file: configFile, message: 'config file not found', hint: 'check the path given to -C/--config' });
    }
  } else configFile = findConfig(cwd);
  const root = configFile ? path.dirname(configFile) : cwd;
  const optionalAt: Config['optionalAt'] = {};
  const systemAt: Config['systemAt'] = {};
  const raw = configFile ? readRaw(configFile, optionalAt, systemAt) : {};
  const rel = (p: string) => path.resolve(root, p);
  const prefix = overrides.prefix !== undefined ? path.resolve(cwd, overrides.prefix) : rel((raw.prefix as string) ?? 'local');
  // Before anything asks the interpreter (venv: auto does, below).
  rememberInterpreters(interpreterCacheFile(prefix), !overrides.dryRun);
  const jobs = overrides.jobs ?? (raw.jobs as number | undefined) ?? defaultJobs();
  const buildDir = raw.build_dir !== undefined ? rel(raw.build_dir as string) : defaultBuildDir(prefix);
  // A folder sagebuild makes where a file is in the way fails every command later, less clearly.
  for (const [dir, what] of [
    [prefix, overrides.prefix !== undefined ? '--prefix' : '`prefix:`'],
    [buildDir, '`build_dir:`'],
  ] as const) {
    const blocker = fileInTheWay(dir);
    if (blocker) throw new UserError({ file: blocker, message: `${what} ${dir} cannot be a folder: ${blocker === dir ? 'it is' : `${blocker} is`} a file`, hint: `give ${what} a folder (it is made if missing)` });
  }
  return {
    root,
    configFile,
    prefix,
    pkgs: overrides.pkgs !== undefined ? path.resolve(cwd, overrides.pkgs) : rel((raw.pkgs as string) ?? 'pkgs'),
    buildDir,
    // Under the prefix by default: two prefixes never share a log folder.
    logs: raw.logs !== undefined ? rel(raw.logs as string) : defaultLogsDir(prefix),
    upstream: rel((raw.upstream as string) ?? 'upstream'),
    sageSrc: rel((raw.sage_src as string) ?? 'src'),
    jobs,
    numThreads: (raw.num_threads as number | undefined) ?? jobs,
    optional: (raw.optional as string[] | undefined) ?? [],
    variables: (raw.variables as Record<string, string[]> | undefined) ?? {},
    check: overrides.check ?? (raw.check as boolean | undefined) ?? false,
    python: (raw.python as string | undefined) ?? 'python3',
    venv: venvOf(raw.venv as string | undefined, prefix, (raw.python as string | undefined) ?? 'python3', rel, configFile),
    mirrors: (raw.mirrors as string[] | undefined) ?? [],
    downloadTimeout: (raw.download_timeout as number | undefined) ?? 60,
    downloadRetries: (raw.download_retries as number | undefined) ?? 3,
    downloadJobs: (raw.download_jobs as number | undefined) ?? 3,
    keepWheelsCache: (raw.keep_wheels_cache as boolean | undefined) ?? false,
    jobserver: (raw.jobserver as boolean | undefined) ?? true,
    system: (raw.system as Config['system'] | undefined) ?? {},
    systemAt,
    optionalAt,
  };
}

/**
 * SAGE_VENV. `auto` is Sage's default (`configure --with-sage-venv=yes`): one venv per interpreter
 * version under the prefix, so a new interpreter gets a new venv that everything Python is built
 * into, and the old one stays intact.
 */
function venvOf(value: string | undefined, prefix: string, python: string, rel: (p: string) => string, configFile: string | null): string {
  if (value === undefined || value === 'no') return prefix;
  if (value !== 'auto' && value !== 'yes') return rel(value);
  let version: string;
  try {
    version = pythonInfo(python).version;
  } catch (e) {
    throw new UserError({ file: configFile ?? undefined, message: `'venv: ${value}' names the venv after the interpreter's version, but ${(e as Error).message}`, hint: "set 'python:' to a working interpreter, or 'venv:' to a folder" });
  }
  return venvFor(prefix, version);
}

function readRaw(file: string, optionalAt: Config['optionalAt'], systemAt: Config['systemAt']): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError({ file, message: `cannot read config: ${(e as Error).message}` });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const diags: Diagnostic[] = [];
  const at = (node: Node | null | undefined, message: string, hint?: string) => {
    const pos = node?.range ? lc.linePos(node.range[0]) : undefined;
    diags.push({ file, line: pos?.line, col: pos?.col, message, hint });
  };
  for (const err of doc.errors) {
    const pos = lc.linePos(err.pos[0]);
    diags.push({ file, line: pos.line, col: pos.col, message: `malformed YAML (${err.code}): ${err.message.split('\n')[0]}` });
  }
  if (diags.length) throw new UserError(diags);
  const out: Record<string, unknown> = {};
  const top = doc.contents;
  if (top === null || (isScalar(top) && (top.value === null || top.value === ''))) return out;
  if (!isMap(top)) {
    at(top, 'the config must be a mapping of keys to values', `valid keys: ${CONFIG_KEYS.join(', ')}`);
    throw new UserError(diags);
  }
  for (const pair of top.items as Pair<Node, Node>[]) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const kind = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined; // not `constructor` & co.
    if (!kind) {
      const near = closest(key, CONFIG_KEYS);
      at(keyNode, `unknown config key '${key}'`, near ? `did you mean '${near}'?` : `valid keys: ${CONFIG_KEYS.join(', ')}`);
      continue;
    }
    const v = pair.value;
    const val = checkValue(kind, v, (m) => at(v ?? keyNode, `'${key}': ${m}`));
    if (val !== undefined) out[key] = val;
    if (key === 'optional' && isSeq(v)) {
      for (const i of v.items) if (isScalar(i) && i.range) optionalAt[String(i.value)] = lc.linePos(i.range[0]);
    }
    if (key === 'system' && isMap(v)) {
      for (const p of v.items as Pair<Node, Node>[]) if (isScalar(p.key) && p.key.range) systemAt[String(p.key.value)] = lc.linePos(p.key.range[0]);
    }
  }
  if (diags.length) throw new UserError(diags);
  return out;
}

function checkValue(kind: Kind, v: Node | null, bad: (m: string) => void): unknown {
  const scalar = isScalar(v) ? v.value : undefined;
  switch (kind) {
    case 'path':
      if (typeof scalar === 'string' && scalar !== '') return scalar;
      return bad('expected a path (a non-empty string)');
    case 'int':
      if (typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= 1) return scalar;
      return bad('expected a whole number >= 1');
    case 'jobs':
      if (typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= 1 && scalar <= MAX_JOBS) return scalar;
      return bad(`expected a whole number from 1 to ${MAX_JOBS}`);
    case 'count':
      if (typeof scalar === 'number' && Number.isInteger(scalar) && scalar >= 0) return scalar;
      return bad('expected a whole number >= 0');
    case 'bool':
      if (typeof scalar === 'boolean') return scalar;
      return bad('expected true or false');
    case 'strings': {
      if (isSeq(v)) {
        const items = v.items.map((i) => (isScalar(i) && typeof i.value === 'string' ? i.value : null));
        if (items.every((i): i is string => i !== null)) return items;
      }
      return bad('expected a list of names, e.g. [a, b]');
    }
    case 'system': {
      if (!isMap(v)) return bad('expected a mapping package: yes|no, e.g. {gmp: yes, openssl: no}');
      const out: Record<string, 'yes' | 'no'> = {};
      for (const p of v.items as Pair<Node, Node>[]) {
        const k = isScalar(p.key) ? String(p.key.value) : '';
        const pv = isScalar(p.value) ? p.value.value : undefined;
        if (pv === true || pv === 'yes') out[k] = 'yes';
        else if (pv === false || pv === 'no') out[k] = 'no';
        else return bad(`'${k}' must be yes (take it from the system) or no (always build it)`);
      }
      return out;
    }
    case 'vars': {
      if (!isMap(v)) return bad('expected a mapping NAME: value (a string of words or a list)');
      const out: Record<string, string[]> = {};
      for (const p of v.items as Pair<Node, Node>[]) {
        const k = isScalar(p.key) ? String(p.key.value) : '';
        const pv = p.value;
        if (isScalar(pv) && (typeof pv.value === 'string' || pv.value === null)) {
          out[k] = String(pv.value ?? '').split(/\s+/).filter(Boolean);
        } else if (isSeq(pv) && pv.items.every((i) => isScalar(i) && typeof i.value === 'string')) {
          out[k] = pv.items.map((i) => String((i as { value: string }).value));
        } else {
          return bad(`variable '${k}' must be a string of words or a list of strings`);
        }
      }
      return out;
    }
  }
}

/** The path that keeps `dir` from being a folder: itself or the nearest existing ancestor, when that is not a folder. */
function fileInTheWay(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    let st;
    try {
      st = statSync(d, { throwIfNoEntry: false });
    } catch {
      st = undefined; // ENOTDIR: an ancestor is the file
    }
    if (st) return st.isDirectory() ? null : d;
    if (path.dirname(d) === d) return null;
  }
}
