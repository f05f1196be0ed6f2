// One sagebuild command: parse options, analyse the tree, run the actions the targets ask for.
// Exit codes: 0 success, 1 a package failed (`why A B`: A does not depend on B), 2
// usage/config/recipe error, 3 `status`: not up to date, 128+N on signal N.
// Prints only through `io` (cli.ts hands it the process's streams and folder; tests their own).
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CONFIG_NAME, MAX_JOBS, loadConfig } from './config.js';
import { UserError, closest, formatDiagnostic } from './diagnostics.js';
import { EventBus } from './events.js';
import { analyze } from './project.js';
import { runActions } from './commands/dispatch.js';
import type { CommandOptions } from './commands/options.js';
import { openState } from './spkg/openstate.js';
import { ConsoleReporter } from './report/console.js';
import type { LiveStatus } from './report/live.js';
import { ProgressLines } from './report/progress.js';
import { colorOn, paint, type ColorWhen } from './report/style.js';
import { LogFiles } from './report/logfile.js';
import type { TraceWriter } from './report/trace.js';
import { JsonBuildSummary, writeJson } from './report/json.js';
import type { Diagnostic } from './diagnostics.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseTargets } from './targets.js';
import type { GraphFormat } from './commands/graph.js';
import { SAGEBUILD_VERSION } from './util/paths.js';
import { installedDir, recipeCacheFile } from './state/layout.js';
import { RecipeCache } from './recipecache.js';
import type { Override } from './systempkgs.js';
import type { Io } from './util/io.js';
// Commands and reporters a no-op build does not use (graph, why, explain, completion, --trace,
// the terminal's status line) are imported where they are used: less code to load at start.

interface Options {
  jobs?: number;
  keepGoing?: boolean;
  dryRun?: boolean;
  config?: string;
  prefix?: string;
  pkgs?: string;
  check?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color: ColorWhen;
  explain?: string[];
  installed?: boolean;
  offline?: boolean;
  trace?: string;
  format?: string;
  json?: boolean;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function jobsArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_JOBS) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_JOBS}`);
  return n;
}

function colorArg(v: string): ColorWhen {
  if (v !== 'auto' && v !== 'always' && v !== 'never') throw new InvalidArgumentError('expected auto, always or never');
  return v;
}

function program(io: Io): Command {
  return new Command()
    .name('sagebuild')
    .description('Build a tree of Sage-style package recipes into one prefix: incremental, parallel, staged.')
    .usage('[options] [targets...]')
    .argument('[targets...]', "'all' (default), 'list [pkg...]', 'status [pkg...]', 'configure', 'download [pkg...|all]', 'watch [targets]', 'wheelhouse-index', 'graph [targets]', 'why A B', 'completion bash|zsh', <pkg>, <pkg>-no-deps, <pkg>-clean, <pkg>-uninstall")
    .option('-j, --jobs <n>', 'packages built at once (default: config `jobs`, else the CPU count)', jobsArg)
    .option('-k, --keep-going', 'after a failure, go on building everything that does not depend on it')
    .option('-n, --dry-run', 'print what would be built and why; change nothing')
    .option('-C, --config <file>', 'config file (default: the nearest build.config.yaml here or above)')
    .option('--prefix <dir>', 'installation prefix (overrides the config)')
    .option('--pkgs <dir>', 'recipe tree (overrides the config)')
    .option('--check', "run each package's spkg-check after installing it")
    .option('-q, --quiet', "don't echo recipe output (it is always in the log files)")
    .option('-v, --verbose', 'on a terminal too, echo recipe output (prefixed) instead of the live status line only')
    .option('--color <when>', "colour: auto (a terminal, unless NO_COLOR is set), always, never", colorArg, 'auto')
    .option('--explain <pkg...>', 'print why each <pkg> would be rebuilt, down the chain of dependencies; build nothing')
    .option('--installed', "with 'list': show each package's state (as 'status')")
    .option('--offline', 'never use the network: tarballs must be in the upstream folder')
    .option('--json', "print the result of 'list', 'status', 'graph' or a build as one JSON document on stdout (everything else on stderr)")
    .option('--format <fmt>', "with 'graph': dot (default) or json")
    .option('--trace <file>', 'write a Chrome trace (chrome://tracing, Perfetto) of the package builds to <file>')
    .version(SAGEBUILD_VERSION, '--version', 'print the sagebuild version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      `
  --with-system-<pkg>, --without-system-<pkg>
                            take <pkg> from the system / always build it, whatever 'configure' found

Exit status: 0 success, 1 a package failed ('why A B': A does not depend on B), 2 usage/config/recipe error, 3 'status': a package asked\nabout (without names: an installed one, or one 'all' needs) is outdated or not installed,\n130/143 interrupted.
State: manifests in ${installedDir('<prefix>')}/, logs in <logs>/pkgs/<pkg>-<version>.log.`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // As every other error: `sagebuild: error: ...` and the suggestion as a hint.
      outputError: (s, write) => write(`sagebuild: ${formatDiagnostic(commanderDiagnostic(s))}\n`),
    });
}

/** commander's "error: unknown option '--jbos'\n(Did you mean --jobs?)" as a diagnostic. */
function commanderDiagnostic(text: string): Diagnostic {
  const m = /^(?:error: )?([^]*?)\s*(?:\(Did you mean ([^)]*)\?\))?\s*$/.exec(text)!;
  return { message: m[1]!, ...(m[2] ? { hint: `did you mean ${m[2]}?` } : {}) };
}

/** Takes Sage's --with-system-<pkg>[=yes|no] / --without-system-<pkg> out of argv (commander cannot declare them). */
export function systemFlags(argv: string[]): { rest: string[]; overrides: Map<string, Override>; bad: string[] } {
  const overrides = new Map<string, Override>();
  const bad: string[] = [];
  const rest = argv.filter((a) => {
    const m = /^--(with|without)-system-([a-z0-9_]+)(?:=(.*))?$/.exec(a);
    if (!m) return true;
    const [, w, name, value] = m as unknown as [string, string, string, string | undefined];
    if (w === 'without' && value === undefined) overrides.set(name, 'no');
    else if (w === 'with' && (value === undefined || value === 'yes' || value === 'force')) overrides.set(name, 'yes');
    else if (w === 'with' && value === 'no') overrides.set(name, 'no');
    else bad.push(a);
    return false;
  });
  return { rest, overrides, bad };
}

/**
 * Runs one command. `args` are the arguments after the program name; returns the exit status.
 * Signal handlers are installed for the run and removed at its end.
 */
export async function main(args: string[], processIo: Io): Promise<number> {
  let io = processIo;
  // --json: stdout carries one JSON document, whatever happens (an error is one too).
  const jsonError = (errors: Diagnostic[], exitCode = 2) => {
    if (args.includes('--json')) writeJson(processIo.stdout, { command: null, exitCode, errors });
    return exitCode;
  };
  const { rest: argv, overrides: systemOverrides, bad: badFlags } = systemFlags(args);
  if (badFlags.length) {
    const message = `${badFlags.join(' ')}: write --with-system-<pkg> (=yes, =no) or --without-system-<pkg>`;
    io.stderr.write(`sagebuild: error: ${message}\n`);
    return jsonError([{ message }]);
  }
  const cmd = program(io);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return jsonError([commanderDiagnostic(e.message)]);
    }
    throw e;
  }
  const opts = cmd.opts<Options>();
  // Before the config is looked for: a completion script is the same anywhere.
  if (cmd.args[0] === 'completion') {
    const spellings = [...cmd.options.flatMap((o) => [o.short, o.long]), '-h', '--help'].filter((x): x is string => !!x);
    try {
      return (await import('./commands/completion.js')).completion(cmd.args.slice(1), [...new Set(spellings)], io);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      for (const d of e.diagnostics) io.stderr.write(`sagebuild: ${formatDiagnostic(d)}\n`);
      return e.exitCode;
    }
  }
  // The JSON document's writer; everything a person reads goes to stderr then.
  const json = opts.json ? processIo.stdout : null;
  if (json) io = { ...io, stdout: io.stderr, isTTY: false };
  const targets = cmd.args.length ? cmd.args : ['all'];

  const bus = new EventBus();
  const ac = new AbortController();
  let gotSignal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (gotSignal) return;
    gotSignal = s;
    io.stderr.write(`\nsagebuild: ${s} received: stopping running packages; nothing unfinished will be installed\n`);
    ac.abort();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  // A bug must not leave recipes running: stop them as Ctrl-C would, and exit 70.
  let crashed = false;
  const onCrash = (e: unknown) => {
    if (crashed) return;
    crashed = true;
    io.stderr.write(`sagebuild: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nsagebuild: stopping running packages\n`);
    ac.abort();
    setTimeout(() => process.exit(70), 10_000).unref(); // if the run cannot wind down
  };
  process.on('uncaughtException', onCrash);

  let logs: LogFiles | null = null;
  let trace: TraceWriter | null = null;
  let live: LiveStatus | null = null;
  let progress: ProgressLines | null = null;
  try {
    const loadIt = () => loadConfig(opts.config ?? null, { prefix: opts.prefix, pkgs: opts.pkgs, jobs: opts.jobs, check: opts.check, dryRun: opts.dryRun }, io.cwd);
    const config = loadIt();
    const project = await analyze(config, new RecipeCache(recipeCacheFile(config.prefix), config.pkgs, !opts.dryRun));
    // A terminal gets the live status line (everything else printed above it, through its
    // writers); anything else gets prefixed lines and a progress line now and then.
    const tty = io.isTTY === true;
    const colours = paint(colorOn(opts.color, tty, process.env));
    if (tty) {
      const { LiveStatus, LiveTerminal } = await import('./report/live.js');
      const terminal = new LiveTerminal(io.stdout, io.stderr);
      io = { ...io, stdout: terminal.stdout, stderr: terminal.stderr };
      // Before the console reporter: a line it prints above is redrawn already updated.
      live = new LiveStatus(bus, terminal, { paint: colours, columns: () => processIo.columns });
    } else {
      progress = new ProgressLines(bus, io.stdout);
    }
    new ConsoleReporter(bus, { verbose: !opts.quiet && (opts.verbose === true || !tty), tty, paint: colours, cwd: io.cwd, columns: () => processIo.columns, out: io.stdout, err: io.stderr });
    if (!config.configFile) {
      const here = (p: string) => path.relative(io.cwd, p) || '.';
      bus.emit({ type: 'warning', message: `no ${CONFIG_NAME} in ${io.cwd} or a folder above it: using the defaults (recipes ${here(config.pkgs)}, prefix ${here(config.prefix)})` });
    }
    logs = new LogFiles(bus);
    if (opts.trace) {
      // Fail before building, not after: the trace file must be writable.
      const file = path.resolve(io.cwd, opts.trace);
      try {
        writeFileSync(file, '', { flag: 'a' });
      } catch (e) {
        throw new UserError({ file, message: `cannot write the --trace file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'give a path in a folder that exists and is writable' });
      }
      trace = new (await import('./report/trace.js')).TraceWriter(bus, file);
    }
    for (const w of project.warnings) bus.emit({ type: 'warning', message: w });
    const known = new Set(project.recipes.keys());
    for (const name of systemOverrides.keys()) {
      if (!known.has(name)) {
        const near = closest(name, known);
        throw new UserError({ message: `--with(out)-system-${name}: no package '${name}' in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : "run 'sagebuild list' for the package names" });
      }
    }
    if (opts.explain !== undefined) {
      if (cmd.args.length) {
        throw new UserError({ message: `--explain builds nothing, so it takes no targets: ${cmd.args.join(' ')}`, hint: 'put the package names after --explain, e.g. sagebuild --explain numpy scipy' });
      }
      const names = opts.explain;
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length) {
        throw new UserError(unknown.map((n) => {
          const near = closest(n, known);
          return { message: `--explain takes package names; '${n}' is not a package in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : "run 'sagebuild list' for the package names" };
        }));
      }
      return (await import('./commands/explain.js')).explain(project, names, { signal: ac.signal, jobs: config.jobs, bus, systemOverrides, io }, await openState(config, bus, true));
    }
    const commandOptions: CommandOptions = {
      systemOverrides,
      jobs: config.jobs,
      keepGoing: opts.keepGoing ?? false,
      dryRun: opts.dryRun ?? false,
      check: config.check,
      offline: opts.offline ?? false,
      installed: opts.installed ?? false,
      signal: ac.signal,
      bus,
      io,
      json,
    };
    if (targets[0] === 'watch') {
      // Ctrl-C is how a watch ends: 0, unless it interrupted a build.
      // Loaded only for watch: chokidar is not needed by any other command.
      const { watchLoop } = await import('./watch.js');
      const w = await watchLoop(loadIt, project, targets.length > 1 ? targets.slice(1) : ['all'], commandOptions);
      return w !== 0 && gotSignal ? 128 + (SIGNAL_NUMBERS[gotSignal] ?? 0) : w;
    }
    if (json) {
      if (targets[0] === 'graph') {
        if (opts.format === 'dot') throw new UserError({ message: '--json and --format dot contradict each other' });
        opts.format = 'json';
      } else if (targets[0] === 'watch' || targets[0] === 'why' || opts.explain !== undefined) {
        throw new UserError({ message: `--json is for 'list', 'status', 'graph' and builds, not ${opts.explain !== undefined ? '--explain' : `'${targets[0]}'`}` });
      }
    }
    if (opts.format !== undefined && targets[0] !== 'graph') {
      throw new UserError({ message: "--format only changes what 'graph' prints", hint: 'sagebuild graph [targets] --format dot|json' });
    }
    if (opts.installed && !targets.includes('list')) {
      throw new UserError({ message: "--installed only changes what 'list' prints", hint: "run 'sagebuild list --installed' (or 'sagebuild status')" });
    }
    // Interrupted installs (a journal record left behind) are recovered before anything reads the prefix.
    const state = await openState(config, bus, commandOptions.dryRun);
    if (targets[0] === 'graph') {
      const format = opts.format ?? 'dot';
      if (format !== 'dot' && format !== 'json') throw new UserError({ message: `--format ${format}: expected dot or json` });
      const rest = parseTargets(targets.slice(1), known, () => project.allTargets(), new Set());
      if (rest.some((a) => a.kind !== 'build')) throw new UserError({ message: "after 'graph' name packages, <pkg>-no-deps or 'all'", hint: 'sagebuild graph [targets] --format dot|json' });
      return await (await import('./commands/graph.js')).graph(project, rest.flatMap((a) => (a.kind === 'build' ? a.requests : [])), format as GraphFormat, commandOptions, state);
    }
    if (targets[0] === 'why') {
      const names = targets.slice(1);
      if (names.length !== 2) throw new UserError({ message: `'why' takes two package names, not ${names.length}`, hint: 'sagebuild why A B: a dependency path from A to B' });
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length) {
        throw new UserError(unknown.map((n) => {
          const near = closest(n, known);
          return { message: `'why' takes package names; '${n}' is not a package in ${config.pkgs}`, hint: near ? `did you mean '${near}'?` : "run 'sagebuild list' for the package names" };
        }));
      }
      return (await import('./commands/graph.js')).why(project, names[0]!, names[1]!, commandOptions);
    }
    const actions = parseTargets(targets, known, () => project.allTargets(), new Set(state.db.entries.keys()));
    if (json) {
      // One document: one query, or one build (a run of package targets).
      const a = actions[0]!;
      if (actions.length !== 1 || (a.kind !== 'list' && a.kind !== 'status' && a.kind !== 'build')) {
        throw new UserError({ message: `--json prints one document: give one of 'list', 'status' or package targets to build, not: ${targets.join(' ')}`, hint: 'run the other targets without --json' });
      }
      if (a.kind === 'build') new JsonBuildSummary(bus, json);
    }
    const status = await runActions(project, actions, commandOptions, state);
    if (crashed) return 70;
    if (gotSignal) return 128 + (SIGNAL_NUMBERS[gotSignal] ?? 0);
    return status;
  } catch (e) {
    if (e instanceof UserError) {
      for (const d of e.diagnostics) io.stderr.write(`sagebuild: ${formatDiagnostic(d)}\n`);
      return jsonError(e.diagnostics, e.exitCode);
    }
    throw e;
  } finally {
    live?.stop();
    progress?.stop();
    try {
      trace?.save();
    } catch (e) {
      io.stderr.write(`sagebuild: warning: could not write the --trace file: ${(e as Error).message}\n`);
    }
    await logs?.close();
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
    process.off('uncaughtException', onCrash);
  }
}
