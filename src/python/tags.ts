// Which of several `tarball=` groups of a checksums.ini a package uses, as Sage 10.10's
// `Package.find_tarball_for_platform` decides: the wheel whose best tag ranks highest among the
// interpreter's compatible tags (packaging.tags.sys_tags() order), else the first sdist, else
// the first group.
import { captureSync } from '../proc/spawn.js';

/** The interpreter's compatible tags, most preferred first; null when they cannot be had. */
export function interpreterTags(python: string): string[] | null {
  // packaging may be missing from a bare interpreter; pip vendors the same module.
  const code = [
    'import json',
    'try:\n    from packaging import tags\nexcept ImportError:\n    from pip._vendor.packaging import tags',
    'print(json.dumps([str(t) for t in tags.sys_tags()]))',
  ].join('\n');
  const r = captureSync(python, ['-c', code], { timeoutMs: 60_000 });
  if (r.code !== 0) return null;
  try {
    const tags: unknown = JSON.parse(r.stdout);
    return Array.isArray(tags) && tags.every((t) => typeof t === 'string') ? (tags as string[]) : null;
  } catch {
    return null;
  }
}

/**
 * The tags a wheel file name claims (`name-ver[-build]-py-abi-plat.whl`, each part possibly a
 * `.`-separated set); null when the name is not a wheel name.
 */
export function wheelFileTags(file: string): string[] | null {
  if (!file.endsWith('.whl')) return null;
  const parts = file.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const out: string[] = [];
  for (const a of py.split('.')) for (const b of abi.split('.')) for (const c of plat.split('.')) out.push(`${a}-${b}-${c}`);
  return out;
}

export interface Choice<T> {
  chosen: T;
  /** Why a source tarball was taken although wheels are listed (Sage logs the same). */
  note?: string;
}

/** Sage's choice among several groups; `tags` null means the interpreter could not be asked. */
export function chooseTarball<T extends { tarball: string }>(groups: T[], tags: string[] | null): Choice<T> {
  if (groups.length === 1) return { chosen: groups[0]! };
  const sources = groups.filter((g) => !g.tarball.endsWith('.whl'));
  const fallback = (why: string): Choice<T> => (sources.length ? { chosen: sources[0]!, note: `using the source tarball ${sources[0]!.tarball}: ${why}` } : { chosen: groups[0]!, note: `using the first tarball ${groups[0]!.tarball}: ${why}` });
  if (!tags) return fallback('the interpreter\'s wheel tags could not be determined');
  const rank = new Map(tags.map((t, i) => [t, i]));
  let best: T | null = null;
  let bestRank = Infinity;
  for (const g of groups) {
    for (const t of wheelFileTags(g.tarball) ?? []) {
      const r = rank.get(t);
      if (r !== undefined && r < bestRank) {
        best = g;
        bestRank = r;
      }
    }
  }
  return best ? { chosen: best } : fallback('no listed wheel fits this interpreter');
}
