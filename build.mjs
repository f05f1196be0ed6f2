// `npm run build`: dist/ is src/ bundled by esbuild (after tsc has type-checked it): the program
// (cli.ts and everything it imports, npm packages included, koffi aside) in one CommonJS file,
// dist/main.js, and the bin, dist/cli.js (launch.ts), which runs it from a V8 code cache
// (dist/main.js.cache) made here by one run of the program: `-n all` on the shipped tree, which
// compiles what a start, the config, the recipes and a plan need. One file instead of a hundred
// modules and their node_modules lookups, and compiled code instead of source, is most of a
// no-op's start-up. dist/package.json makes dist/'s .js files CommonJS.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/main.js',
  sourcemap: true,
  // Native: koffi finds its binary beside itself in node_modules.
  external: ['koffi'],
  // The modules ask import.meta.url where they are (the package root, the code's identity).
  define: { 'import.meta.url': '__sagebuildUrl' },
  banner: { js: "const __sagebuildUrl = require('node:url').pathToFileURL(__filename).href;" },
});
await build({ ...common, entryPoints: ['src/launch.ts'], outfile: 'dist/cli.js' });
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
chmodSync('dist/cli.js', 0o755);
// A run that fails still leaves what it compiled; no cache at all only costs start-up time.
const r = spawnSync(process.execPath, ['dist/cli.js', '-q', '-n', 'all'], { stdio: 'ignore', env: { ...process.env, SAGEBUILD_MAKE_CODE_CACHE: 'dist/main.js.cache', PIP_RETRIES: '0' } });
if (r.error) console.warn(`build.mjs: no code cache: ${r.error.message}`);
