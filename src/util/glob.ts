// Shell glob patterns (`*`, `?`, `[...]`, `[!...]`, backslash escapes) as regular expressions:
// one translation for file-name globs (make's wildcards: `*` stops at `/`) and shell `case`
// patterns (`*` matches anything).

/** The RegExp source for one pattern; `any` is what `?` matches (`[^/]` for file names, `.` for case). */
export function globSource(p: string, any: string): string {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += `${any}*`;
    else if (c === '?') re += any;
    else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const body = p.slice(i + 1, close).replace(/^[!^]/, '^');
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < p.length) {
      const next = p[++i]!; // escaped: itself, literally
      re += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return re;
}

/** A file-name glob (one path component). */
export function fileGlob(p: string): RegExp {
  return new RegExp(`^${globSource(p, '[^/]')}$`);
}

/** A shell `case` pattern, `|` alternatives included. */
export function casePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern.split('|').map((alt) => globSource(alt, '.')).join('|')})$`, 's');
}
