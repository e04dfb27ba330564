import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatError, OsvbError } from '../errors.js';

// Each command's module is imported only when that command runs (or for help),
// so one command's dependencies (the Kconfig engine, the YAML parser) do not
// slow down another; an unchanged `osvb build` must start in well under 0.3 s.
type Registrar = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  build: async () => (await import('./build.js')).registerBuild,
  run: async () => (await import('./run.js')).registerRun,
  config: async () => (await import('./config.js')).registerConfig,
  kconfig: async () => (await import('./kconfig.js')).registerKconfig,
  inspect: async () => (await import('./inspect.js')).registerInspect,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
  pkg: async () => (await import('./pkg.js')).registerPkg,
  pull: async () => (await import('./pkg.js')).registerPull,
  cache: async () => (await import('./cache.js')).registerCache,
  ps: async () => (await import('./instances.js')).registerInstances,
  logs: async () => (await import('./instances.js')).registerInstances,
  stop: async () => (await import('./instances.js')).registerInstances,
  rm: async () => (await import('./instances.js')).registerInstances,
};

export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : '0.0.0';
}

/** The CLI; with `only` naming a command, just that command is loaded. */
export async function createProgram(only?: string): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('osvb')
    .description('Build unikernel images from Linux applications and boot them under QEMU')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError(false)
    .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) })
    .exitOverride();
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  // One registrar may add several commands (ps, logs, stop, rm): run each once.
  const registrars = new Set<Registrar>();
  for (const name of names) registrars.add(await COMMANDS[name]!());
  for (const register of registrars) register(program);
  for (const cmd of program.commands) {
    cmd
      .exitOverride()
      .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) });
  }
  return program;
}

/** Runs the CLI and returns the process exit status; never calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  // `osvb --version` answers before anything else is loaded: scripts call it often.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  try {
    const program = await createProgram(argv[2]);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const { CommanderError } = await import('commander');
    if (err instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0; usage errors are 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof OsvbError) {
      process.stderr.write(`${formatError(err)}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`osvb: internal error: ${message}\n`);
    return 70;
  }
}
