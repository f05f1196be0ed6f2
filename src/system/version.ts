// AX_COMPARE_VERSION semantics (m4/ax_compare_version.m4): versions are their runs of
// digits, compared numerically component by component; separators do not matter and a
// missing component counts as 0. `eqN`/`neN` compare the first N components, `eq0`/`ne0`
// as many as the shorter version has.

export function compareVersionOp(a: string, op: string, b: string): boolean {
  const m = /^(eq|ne|lt|le|gt|ge)(\d*)$/.exec(op.trim());
  if (!m) throw new Error(`AX_COMPARE_VERSION: unknown operator '${op}'`);
  let [x, y] = [components(a), components(b)];
  if (m[2] !== '') {
    const n = m[2] === '0' ? Math.min(x.length, y.length) : Number(m[2]);
    [x, y] = [x.slice(0, n), y.slice(0, n)];
  }
  const c = compareComponents(x, y);
  switch (m[1]) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'gt':
      return c > 0;
    default:
      return c >= 0;
  }
}

function components(v: string): number[] {
  return (v.match(/\d+/g) ?? []).map(Number);
}

function compareComponents(x: number[], y: number[]): number {
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** pkg-config's module list: `gmp >= 6.1 mpfr`, the first module name (for a version query). */
export function firstModule(spec: string): string | null {
  return /^\s*([^\s<>=!,]+)/.exec(spec)?.[1] ?? null;
}

/** All module names of a pkg-config spec, for evidence (`gmp >= 6.1 mpfr` → gmp, mpfr). */
export function moduleNames(spec: string): string[] {
  const out: string[] = [];
  const toks = spec.split(/[\s,]+/).filter(Boolean);
  for (let i = 0; i < toks.length; i++) {
    if (/^(<|<=|=|>=|>|!=)$/.test(toks[i + 1] ?? '')) {
      out.push(toks[i]!);
      i += 2;
    } else out.push(toks[i]!);
  }
  return out;
}
