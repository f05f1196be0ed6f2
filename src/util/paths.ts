import { readFileSync, accessSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True if `p` is `root` or below it (lexically). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

/** The sagebuild package folder, found from this module (works from src/ and dist/). */
export const PACKAGE_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'sagebuild') return dir;
    } catch {
      // keep looking
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('sagebuild: cannot find its own package.json');
    dir = up;
  }
})();

export const SAGEBUILD_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const HELPERS_FILE = path.join(PACKAGE_ROOT, 'src', 'shell', 'sage-dist-helpers.bash');

/** access(2) as a boolean: can this process read (R_OK) or execute (X_OK) the file? */
export function accessible(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}
