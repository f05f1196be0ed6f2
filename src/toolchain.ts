// The compilers recipes build with, found once per run as Sage's configure finds them (and
// sage-env-config exports them): the user's CC, CXX, FC, ... when set, else the first of
// autoconf's candidates on PATH. No process is started: only PATH is searched.
import { constants } from 'node:fs';
import path from 'node:path';
import { accessible } from './util/paths.js';

export interface Toolchain {
  CC: string;
  CXX: string;
  /** Empty when there is no Fortran compiler (Sage's configure then builds gfortran). */
  FC: string;
  F77: string;
  OBJC: string;
  OBJCXX: string;
  CPP: string;
  CXXCPP: string;
}

/** autoconf's search order (AC_PROG_CC, AC_PROG_CXX, AC_PROG_FC as Sage uses them, AC_PROG_OBJC, AC_PROG_OBJCXX). */
const CANDIDATES = {
  CC: ['gcc', 'cc', 'clang'],
  CXX: ['g++', 'c++', 'clang++'],
  FC: ['gfortran'],
  OBJC: ['gcc', 'objcc', 'objc', 'cc', 'clang'],
  OBJCXX: ['g++', 'objc++', 'objcxx', 'c++', 'clang++'],
} as const;

/** The first of `names` that is an executable file in a folder of `pathVar` (the name, as configure records it); '' when none. */
export function findOnPath(names: readonly string[], pathVar: string): string {
  const dirs = pathVar.split(':').filter(Boolean);
  for (const n of names) for (const d of dirs) if (accessible(path.join(d, n), constants.X_OK)) return n;
  return '';
}

let cached: { key: string; tc: Toolchain } | undefined;

/**
 * The toolchain for `env` (the user's environment): values the user set win (a set but empty
 * value counts as unset, as in configure). Cached for the run.
 */
export function toolchain(env: Record<string, string | undefined>): Toolchain {
  const keys = ['PATH', 'CC', 'CXX', 'FC', 'F77', 'OBJC', 'OBJCXX', 'CPP', 'CXXCPP'] as const;
  const key = keys.map((k) => env[k] ?? '').join('\0');
  if (cached?.key === key) return cached.tc;
  const pathVar = env.PATH ?? '';
  const pick = (k: keyof typeof CANDIDATES) => env[k] || findOnPath(CANDIDATES[k], pathVar);
  const CC = pick('CC');
  const CXX = pick('CXX');
  const FC = pick('FC');
  const tc: Toolchain = {
    CC,
    CXX,
    FC,
    F77: env.F77 || FC,
    OBJC: pick('OBJC'),
    OBJCXX: pick('OBJCXX'),
    CPP: env.CPP || (CC ? `${CC} -E` : ''),
    CXXCPP: env.CXXCPP || (CXX ? `${CXX} -E` : ''),
  };
  cached = { key, tc };
  return tc;
}
