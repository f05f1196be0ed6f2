// libc through koffi (a prebuilt FFI, no compiler needed), loaded once, on first use: the
// in-process flock (flock.ts) and posix_spawn (nativespawn.ts). null where koffi has no build
// for this platform or no libc is found: their callers then start programs as before.
import { createRequire } from 'node:module';

export interface Koffi {
  load(name: string): Lib;
  errno(): number;
}
export interface Lib {
  func(sig: string): ((...a: unknown[]) => number) & { async(...a: unknown[]): void };
}

let loaded: { koffi: Koffi; lib: Lib; name: string } | null | undefined;

export function libc(): { koffi: Koffi; lib: Lib; name: string } | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    for (const name of ['libc.so.6', 'libc.so', 'libc.dylib']) {
      try {
        loaded = { koffi, lib: koffi.load(name), name };
        break;
      } catch {
        // try the next name
      }
    }
  } catch {
    // no koffi for this platform
  }
  return loaded;
}
