#!/usr/bin/env node
// The `sagebuild` bin (dist/cli.js): runs the program, dist/main.js (cli.ts and all it imports, one
// CommonJS bundle), from the V8 code cache `npm run build` made beside it (dist/main.js.cache). A
// start then reads the compiled functions instead of parsing and compiling a megabyte of
// JavaScript: about a tenth of a no-op's time on this kind of machine. A cache that this Node (V8
// version, flags) cannot use is rejected by V8 itself and the bundle is compiled as usual; so is a
// missing one. Node 20 has no compile cache of its own for this (module.enableCompileCache is 22's).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const file = path.join(__dirname, 'main.js');
let cachedData: Buffer | undefined;
try {
  // V8 checks a cache against its source by length only: one older than the bundle (a bundle
  // rebuilt without it) could hold another build's code, so it is not used.
  if (statSync(`${file}.cache`).mtimeMs >= statSync(file).mtimeMs) cachedData = readFileSync(`${file}.cache`);
} catch {
  // none: compiled as usual
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
// build.mjs makes the cache: one run, whose compiled functions are written when it ends.
const cacheOut = process.env.SAGEBUILD_MAKE_CODE_CACHE;
if (cacheOut) process.once('exit', () => writeFileSync(cacheOut, script.createCachedData()));
const mod = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, Module.createRequire(file), mod, file, __dirname);
