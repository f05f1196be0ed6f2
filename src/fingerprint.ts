// A package's fingerprint: a hash of everything that determines its build. The inputs are kept
// (in the manifest) next to the hash so that a rebuild can be explained field by field.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { UserError } from './diagnostics.js';
import type { HashCache } from './state/hashcache.js';
import type { Project } from './project.js';
import type { Recipe } from './recipes.js';
import { HELPERS_FILE, SAGEBUILD_VERSION } from './util/paths.js';
import { pythonInfo } from './python/interpreter.js';
import { foldAcyclic } from './util/dag.js';
import { classify, type WalkContext } from './util/linkpolicy.js';
import type { Change, Reason } from './reasons.js';

export interface FingerprintInputs {
  version: string;
  /** Recipe files (relative to the recipe dir, `src/...` for in-tree sources) -> sha256. */
  recipe: Record<string, string>;
  /** The upstream tarball's checksum as checksums.ini states it. */
  tarball?: string;
  /** File prerequisites (absolute) -> sha256 ('missing' if absent). */
  files?: Record<string, string>;
  /** The interpreter, for the venv and every Python package (a new interpreter rebuilds them all into its venv). */
  python?: string;
  /** From the system: configure's evidence. */
  system?: string;
  /** sagebuild's version and its recipe environment (the sdh_* helpers). */
  tool: string;
  /** Normal dependencies -> their fingerprints. Order-only dependencies never count. */
  deps: Record<string, string>;
}

export interface Fingerprint {
  hash: string;
  inputs: FingerprintInputs;
}

/** Recipe files that describe the package but never change how it builds (the version is its own input). */
const NOT_INPUTS = new Set(['package-version.txt', 'SPKG.rst', 'SPKG.txt', 'README', 'README.md', 'type', 'distros', 'spkg-configure.m4', 'math', 'front-end', 'huge', 'has_nonfree_dependencies', 'trees.txt']);
const SKIP_IN_SRC = new Set(['.git', '__pycache__', '.hg', '.svn', '.DS_Store']);
/** Editor droppings (saving a file in an editor must not rebuild the package), and the metadata a build backend writes into the source (an editable install does). */
const isScratch = (name: string) => name.endsWith('~') || name.startsWith('.#') || /\.sw[op]$/.test(name) || name.endsWith('.egg-info');
/** Sage reads only the first line of these (comment stripped); so does the fingerprint. */
const FIRST_LINE_ONLY = new Set(['dependencies', 'dependencies_order_only', 'dependencies_check', 'dependencies_optional']);

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function hashInputs(inputs: FingerprintInputs): string {
  return createHash('sha256').update(stableStringify(inputs)).digest('hex');
}

let toolId: string | null = null;
function toolVersion(): string {
  toolId ??= `${SAGEBUILD_VERSION}+${createHash('sha256').update(readFileSync(HELPERS_FILE)).digest('hex').slice(0, 12)}`;
  return toolId;
}

/**
 * Hashes every file below `dir` into `out` under `prefix/...`. A symlink that stays inside the
 * tree (`root`) counts by its target text; one that leads out of it counts by what it points to,
 * since that is what the build copies (spkg/copy.ts).
 */
function hashTree(dir: string, prefix: string, cache: HashCache, out: Record<string, string>, at: WalkContext): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError({ file: dir, message: `cannot read this folder of build inputs: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, hint: 'check its permissions' });
  }
  for (const name of names.sort()) {
    if (SKIP_IN_SRC.has(name) || isScratch(name)) continue;
    const abs = path.join(dir, name);
    const rel = `${prefix}/${name}`;
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      continue;
    }
    const real = st.isSymbolicLink() ? realOrNull(abs) : null;
    const e = classify(abs, st, real, real === null ? null : statOrNull(real), at);
    if (e.is === 'link') out[rel] = `link:${readlinkSync(abs)}`;
    else if (e.is === 'file') out[rel] = e.path === abs ? cache.hash(abs, st) : cache.hash(e.path);
    else if (e.is === 'refused') out[rel] = `refused:${e.why}`; // the copy fails on it, with this message
    else if (e.path === abs) hashTree(abs, rel, cache, out, at.inTree === e.inTree ? at : { ...at, inTree: e.inTree });
    else {
      at.open.add(e.path);
      hashTree(e.path, rel, cache, out, { ...at, inTree: e.inTree });
      at.open.delete(e.path);
    }
  }
}

/** Hashes an in-tree source folder (followed to where it really is), as spkg/copy.ts will copy it. */
function hashSourceTree(dir: string, prefix: string, cache: HashCache, out: Record<string, string>): void {
  const root = realOrSelf(dir);
  hashTree(root, prefix, cache, out, { root, inTree: true, open: new Set([root]) });
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function realOrSelf(p: string): string {
  return realOrNull(p) ?? p;
}

/** The (comment-stripped) first line that recipes.ts already read. */
function firstLine(r: Recipe, name: string): string {
  const line = { dependencies: r.deps, dependencies_order_only: r.depsOrderOnly, dependencies_check: r.depsCheck, dependencies_optional: r.depsOptional }[name];
  return line?.text ?? '';
}

function recipeInputs(r: Recipe, cache: HashCache): Record<string, string> {
  const out: Record<string, string> = {};
  let names: string[];
  try {
    names = readdirSync(r.dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (NOT_INPUTS.has(name) || isScratch(name)) continue;
    const abs = path.join(r.dir, name);
    let st: Stats;
    try {
      st = statSync(abs); // recipe files may be symlinks into other recipes: follow them
    } catch {
      continue;
    }
    if (st.isDirectory()) hashSourceTree(abs, name, cache, out);
    else if (FIRST_LINE_ONLY.has(name)) out[name] = `line:${firstLine(r, name)}`;
    else if (st.isFile()) out[name] = cache.hash(abs, st);
  }
  return out;
}

/** Computes fingerprints for `names` (and, as needed, their normal dependencies). */
export class Fingerprinter {
  readonly #memo = new Map<string, Fingerprint>();
  constructor(
    private readonly project: Project,
    /** Asked for on the first file to hash: kept recipe hashes (recipecache.ts) may leave none to hash. */
    private readonly hashes: () => HashCache,
  ) {}

  private get cache(): HashCache {
    return this.hashes();
  }

  get(name: string): Fingerprint {
    // Dependencies first: a fingerprint holds its normal dependencies' hashes.
    return foldAcyclic(name, (n) => this.project.deps.get(n)!.normal, (n) => this.#compute(n), this.#memo);
  }

  /** A recipe folder unchanged since its files were hashed is not walked again (recipecache.ts). */
  #recipeInputs(r: Recipe): Record<string, string> {
    const kept = this.project.recipeCache?.inputsOf(r.name);
    if (kept) return kept;
    const inputs = recipeInputs(r, this.cache);
    this.project.recipeCache?.keepInputs(r.name, inputs);
    return inputs;
  }

  #compute(name: string): Fingerprint {
    const r = this.project.recipes.get(name)!;
    const system = this.project.system.get(name);
    if (system !== undefined) {
      // Dependents rebuild when a dependency switches between the system's and a built one.
      const inputs: FingerprintInputs = { version: r.version, recipe: {}, tool: toolVersion(), deps: {}, system };
      return { hash: hashInputs(inputs), inputs };
    }
    const d = this.project.deps.get(name)!;
    const inputs: FingerprintInputs = {
      version: r.version,
      recipe: this.#recipeInputs(r),
      tool: toolVersion(),
      deps: Object.fromEntries(d.normal.sort().map((x) => [x, this.#memo.get(x)!.hash])),
    };
    const c = r.checksums;
    if (c) inputs.tarball = c.sha256 ? `sha256:${c.sha256}` : `sha1:${c.sha1}`;
    if (d.files.length) {
      inputs.files = {};
      for (const f of [...d.files].sort()) {
        let st: Stats | null = null;
        try {
          st = statSync(f);
        } catch {
          inputs.files[f] = 'missing'; // an error when the package is to be built (plan.ts)
          continue;
        }
        if (st.isDirectory()) {
          // A folder as prerequisite: everything in it counts.
          const sub: Record<string, string> = {};
          hashSourceTree(f, '', this.cache, sub);
          inputs.files[f] = createHash('sha256').update(stableStringify(sub)).digest('hex');
        } else {
          inputs.files[f] = this.cache.hash(f, st);
        }
      }
    }
    if (r.python) {
      try {
        const info = pythonInfo(this.project.config.python);
        inputs.python = `${info.executable} (${info.full})`;
      } catch {
        inputs.python = `unavailable: ${this.project.config.python}`;
      }
    }
    return { hash: hashInputs(inputs), inputs };
  }
}

/** The differences between the recorded inputs and the current ones, as reasons to rebuild. */
export function explainDiff(recorded: FingerprintInputs, cur: FingerprintInputs, rebuilding: (dep: string) => boolean): Reason[] {
  const out: Reason[] = [];
  if (typeof recorded !== 'object' || recorded === null) return [{ kind: 'fingerprint-changed', unreadable: true }];
  // Manifests are files on disk: tolerate damaged or foreign ones.
  const old: FingerprintInputs = { ...recorded, recipe: recorded.recipe ?? {}, deps: recorded.deps ?? {} };
  if (old.version !== cur.version) out.push({ kind: 'version', from: [`${old.version}`], to: cur.version }); // a damaged record may lack it: 'undefined', as printed
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of Object.entries(cur.recipe)) {
    if (!(k in old.recipe)) added.push(k);
    else if (old.recipe[k] !== v) changed.push(k);
  }
  for (const k of Object.keys(old.recipe)) if (!(k in cur.recipe)) removed.push(k);
  const list = (files: string[], change: Change) => {
    if (!files.length) return;
    const src = files.filter((f) => f.startsWith('src/'));
    const other = files.filter((f) => !f.startsWith('src/'));
    for (const file of other) out.push({ kind: 'recipe-file', change, file });
    if (src.length === 1) out.push({ kind: 'recipe-file', change, file: src[0]! });
    else if (src.length > 1) out.push({ kind: 'src-files', change, files: src });
  };
  list(changed, 'changed');
  list(added, 'added');
  list(removed, 'removed');
  if (old.tarball !== cur.tarball) out.push({ kind: 'tarball', from: old.tarball, to: cur.tarball });
  for (const f of new Set([...Object.keys(old.files ?? {}), ...Object.keys(cur.files ?? {})])) {
    if (old.files?.[f] !== cur.files?.[f]) out.push({ kind: 'file', file: f });
  }
  if (old.system !== cur.system) out.push({ kind: 'system', now: cur.system, was: old.system });
  if (old.python !== cur.python) out.push({ kind: 'python', from: old.python, to: cur.python });
  if (old.tool !== cur.tool) out.push({ kind: 'tool', from: old.tool, to: cur.tool });
  for (const [dep, fp] of Object.entries(cur.deps)) {
    if (!(dep in old.deps)) out.push({ kind: 'dependency-new', dep });
    else if (old.deps[dep] !== fp) out.push({ kind: rebuilding(dep) ? 'dependency-rebuilt' : 'dependency-changed', dep });
  }
  for (const dep of Object.keys(old.deps)) if (!(dep in cur.deps)) out.push({ kind: 'dependency-removed', dep });
  return out;
}
