// `npm run build`: dist/ is src/ bundled by esbuild (after tsc has type-checked it): the CLI in
// dist/cli.js and, in chunks of their own, what only some commands load (the build machinery,
// watch, tar, configure's evaluator...). One file instead of a hundred modules and their
// node_modules lookups is most of a no-op's start-up.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Native: koffi finds its binary beside itself in node_modules.
  external: ['koffi'],
  // The CommonJS dependencies bundled (commander, yaml) require Node's modules.
  banner: { js: "import { createRequire as __sagebuildRequire } from 'node:module'; const require = __sagebuildRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
