import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { formatError, OsvbError } from '../errors.js';

type Register = (program: Command) => void;

// Commands load on demand: each pulls in its own dependencies, and loading all
// of them costs a few hundred ms that `osvb kconfig` (say) does not need.
const COMMANDS: [string, () => Promise<Register>][] = [
  ['build', async () => (await import('./build.js')).registerBuild],
  ['run', async () => (await import('./run.js')).registerRun],
  ['config', async () => (await import('./config.js')).registerConfig],
  ['kconfig', async () => (await import('./kconfig.js')).registerKconfig],
  ['inspect', async () => (await import('./inspect.js')).registerInspect],
  ['doctor', async () => (await import('./doctor.js')).registerDoctor],
];

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : '0.0.0';
}

/** The program with the command named in argv registered (all of them for help, --version, typos). */
export async function createProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('osvb')
    .description('Build unikernel images from Linux applications and boot them under QEMU')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError(false)
    .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) })
    .exitOverride();
  const wanted = COMMANDS.filter(([name]) => name === argv[2]);
  for (const [, load] of wanted.length ? wanted : COMMANDS) (await load())(program);
  for (const cmd of program.commands) {
    cmd
      .exitOverride()
      .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) });
  }
  return program;
}

/** Runs the CLI and returns the process exit status; never calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  let program: Command;
  try {
    program = await createProgram(argv);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`osvb: internal error: ${message}\n`);
    return 70;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
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
