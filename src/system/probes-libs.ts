// Handlers for library-specific macros from Sage's m4/ folder and autoconf-archive, each
// reduced to what it decides: OpenSSL, libcurl, ZeroMQ, PPL, iconv, Perl modules, Fortran.
// Each follows its m4 file's logic (named below) with the same probes, not its every detail.

import { findProgram, words } from './checks.js';
import type { Handler } from './evaluator.js';
import { pkgExists, tryProgram } from './probes.js';
import { compareVersionOp } from './version.js';

const h = new Map<string, Handler>();

/** AM_ICONV (gettext's iconv.m4): iconv_open links with the C library or with -liconv. */
h.set('AM_ICONV', async (ev) => {
  const program = `#include <stdlib.h>\n#include <iconv.h>\nint main (void) { iconv_t cd = iconv_open ("", ""); iconv (cd, NULL, NULL, NULL, NULL); iconv_close (cd); return 0; }\n`;
  for (const lib of ['', '-liconv']) {
    if (await tryProgram(ev, program, 'link', lib)) {
      ev.vars.set('am_cv_func_iconv', 'yes');
      ev.vars.set('LIBICONV', lib);
      ev.fact(lib ? 'iconv in -liconv' : 'iconv in the C library');
      return 0;
    }
  }
  ev.vars.set('am_cv_func_iconv', 'no');
  ev.fail('iconv_open does not link');
  return 0;
});

/** AX_CHECK_OPENSSL (m4/ax_check_openssl.m4): pkg-config openssl, else -lssl -lcrypto; a link test of SSL_new. */
h.set('AX_CHECK_OPENSSL', async (ev, a) => {
  let includes = '';
  let ldflags = '';
  let libs = '-lssl -lcrypto';
  if ((await pkgExists(ev, 'openssl')).ok) {
    const pc = ev.world.prober;
    includes = (await pc.pkgConfig(['--cflags-only-I', 'openssl'], ev.vars)).stdout.trim();
    ldflags = (await pc.pkgConfig(['--libs-only-L', 'openssl'], ev.vars)).stdout.trim();
    libs = (await pc.pkgConfig(['--libs-only-l', 'openssl'], ev.vars)).stdout.trim();
  }
  ev.vars.set('OPENSSL_INCLUDES', includes);
  ev.vars.set('OPENSSL_LDFLAGS', ldflags);
  ev.vars.set('OPENSSL_LIBS', libs);
  const program = '#include <openssl/ssl.h>\nint main (void) { SSL_new (NULL); return 0; }\n';
  const ok = await tryProgram(ev, program, 'link', libs, { cppflags: includes, ldflags });
  if (ok) ev.fact(`openssl/ssl.h + ${libs}`);
  else ev.fail('OpenSSL headers/libraries not found (SSL_new does not link)');
  return ok ? ev.code(a[0]) : ev.code(a[1]);
});

/** LIBCURL_CHECK_CONFIG (m4/libcurl.m4): curl-config's version and flags (or -lcurl), then a link test. */
h.set('LIBCURL_CHECK_CONFIG', async (ev, a) => {
  const wanted = await ev.word(a[1]);
  const config = await findProgram('curl-config', ev.vars.get('PATH') ?? '');
  let cppflags = '';
  let libs = '-lcurl';
  let version = '';
  if (config) {
    const out = async (arg: string): Promise<string> => (await ev.world.prober.run(config, [arg], { cwd: ev.cwd })).stdout.trim();
    version = (await out('--version')).split(/\s+/)[1] ?? '';
    if (wanted && !compareVersionOp(version, 'ge', wanted)) {
      ev.fail(`libcurl ${version} is older than ${wanted}`);
      ev.vars.set('libcurl_cv_lib_curl_usable', 'no');
      return ev.code(a[3]);
    }
    [cppflags, libs] = [await out('--cflags'), await out('--libs')];
  }
  const program = '#include <curl/curl.h>\nint main (void) { curl_easy_setopt (NULL, CURLOPT_URL, NULL); return 0; }\n';
  const ok = await tryProgram(ev, program, 'link', libs, { cppflags });
  ev.vars.set('libcurl_cv_lib_curl_usable', ok ? 'yes' : 'no');
  if (!ok) {
    ev.fail('libcurl is not usable (link test failed)');
    return ev.code(a[3]);
  }
  ev.vars.set('LIBCURL_CPPFLAGS', cppflags);
  ev.vars.set('LIBCURL', libs);
  ev.fact(`libcurl ${version} (${libs})`.replace(' (', version ? ' (' : '('));
  return ev.code(a[2]);
});

/** AX_ZMQ (m4/ax_zmq.m4): zmq.h at least the given version, and -lzmq links. */
h.set('AX_ZMQ', async (ev, a) => {
  const [major = '0', minor = '0', patch = '0'] = (await ev.word(a[0])).split('.');
  const program = `#include <zmq.h>\n#if ZMQ_VERSION < ZMQ_MAKE_VERSION(${Number(major)}, ${Number(minor)}, ${Number(patch)})\n#error too old\n#endif\nint main (void) { zmq_ctx_new (); return 0; }\n`;
  const ok = await tryProgram(ev, program, 'link', '-lzmq');
  if (ok) {
    ev.vars.set('ZMQ_LIBS', '-lzmq');
    ev.fact('zmq.h + -lzmq');
  } else ev.fail(`ZeroMQ >= ${major}.${minor}.${patch} not found (zmq.h + -lzmq)`);
  return ok ? ev.code(a[1]) : ev.code(a[2]);
});

/** AX_PROG_PERL_MODULES (m4/ax_prog_perl_modules.m4): `perl -e 'use Module'` for each module. */
h.set('AX_PROG_PERL_MODULES', async (ev, a) => {
  const perl = ev.vars.get('PERL') || (await findProgram('perl', ev.vars.get('PATH') ?? ''));
  if (!perl) {
    ev.fail('perl not found');
    return ev.code(a[2]);
  }
  ev.vars.set('PERL', perl);
  const missing: string[] = [];
  for (const module of words(await ev.word(a[0]))) {
    const [name, version] = module.split('>=');
    const use = `use ${name}${version ? ` ${version}` : ''}; exit 0`;
    if ((await ev.world.prober.run(perl, ['-e', use], { cwd: ev.cwd })).status !== 0) missing.push(module);
  }
  if (missing.length > 0) {
    ev.fail(`Perl modules missing: ${missing.join(' ')}`);
    return ev.code(a[2]);
  }
  ev.fact(`Perl modules ${(await ev.word(a[0])).trim()}`);
  return ev.code(a[1]);
});

/** AM_PATH_PPL (m4/ppl.m4): ppl-config's flags and version, then a C++ program using the PPL must link and run. */
h.set('AM_PATH_PPL', async (ev, a) => {
  const min = (await ev.word(a[0])) || '0.0';
  const config = ev.vars.get('PPL_CONFIG') || (await findProgram('ppl-config', ev.vars.get('PATH') ?? ''));
  if (!config) {
    ev.fail('ppl-config not found in PATH');
    return ev.code(a[2]);
  }
  const out = async (arg: string): Promise<string> => (await ev.world.prober.run(config, [arg], { cwd: ev.cwd })).stdout.trim();
  const [cppflags, ldflagsAll, version] = [await out('--cppflags'), await out('--ldflags'), await out('--version')];
  // ppl.m4 splits --ldflags: -l flags go to PPL_LIBS, the others to PPL_LDFLAGS.
  const libs = words(ldflagsAll).filter((f) => f.startsWith('-l')).join(' ');
  const ldflags = words(ldflagsAll).filter((f) => !f.startsWith('-l')).join(' ');
  if (!compareVersionOp(version, 'ge', min)) {
    ev.fail(`PPL ${version} is older than ${min}`);
    return ev.code(a[2]);
  }
  ev.langs.push('C++');
  try {
    const program = '#include <ppl.hh>\nint main () { Parma_Polyhedra_Library::C_Polyhedron ph (2); return ph.space_dimension () == 2 ? 0 : 1; }\n';
    if (!(await tryProgram(ev, program, 'run', libs, { cppflags, ldflags }))) {
      ev.fail(`a program using the PPL (${libs}) does not link and run`);
      return await ev.code(a[2]);
    }
  } finally {
    ev.langs.pop();
  }
  ev.vars.set('PPL_CPPFLAGS', cppflags);
  ev.vars.set('PPL_LDFLAGS', ldflags);
  ev.vars.set('PPL_LIBS', libs);
  ev.fact(`PPL ${version} (ppl-config)`);
  return ev.code(a[1]);
});

/** AC_PROG_FC: $FC, else the first Fortran compiler in PATH (autoconf's list, GNU first). */
h.set('AC_PROG_FC', async (ev) => {
  if (ev.vars.get('FC')) return 0;
  for (const fc of ['gfortran', 'g95', 'xlf95', 'f95', 'fort', 'ifort', 'ifx', 'flang', 'nagfor', 'f90', 'g77', 'f77']) {
    if (await findProgram(fc, ev.vars.get('PATH') ?? '')) {
      ev.vars.set('FC', fc);
      return 0;
    }
  }
  ev.vars.set('FC', '');
  return 0;
});

/** AC_FC_FREEFORM: compile free-form source, trying the flags autoconf tries; adds the one needed to FCFLAGS. */
h.set('AC_FC_FREEFORM', async (ev, a) => {
  if (!ev.vars.get('FC')) {
    ev.fail('no Fortran compiler (AC_PROG_FC found none)');
    return ev.code(a[1]);
  }
  const source = '\nprogram freeform\n       ! FIXME: how to best confuse non-freeform compilers?\n       print *, \'Hello \', &\n          \'world.\'\n       end\n';
  ev.langs.push('Fortran');
  try {
    for (const flag of ['', '-ffree-form', '-FR', '-free', '-qfree', '-Mfree', '-Mfreeform', '-freeform']) {
      if (await tryProgram(ev, source, 'compile', '', { cflags: flag })) {
        if (flag) ev.vars.set('FCFLAGS', `${ev.vars.get('FCFLAGS') ?? ''} ${flag}`.trim());
        ev.fact(`${ev.vars.get('FC')} accepts free-form Fortran`);
        return await ev.code(a[0]);
      }
    }
  } finally {
    ev.langs.pop();
  }
  ev.fail(`${ev.vars.get('FC')} does not accept free-form Fortran`);
  return ev.code(a[1]);
});

export const libraryHandlers = h;
