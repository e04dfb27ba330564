import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { formatError, OsvbError } from '../errors.js';
import { registerBuild } from './build.js';
import { registerConfig } from './config.js';
import { registerDoctor } from './doctor.js';
import { registerInspect } from './inspect.js';
import { registerKconfig } from './kconfig.js';
import { registerRun } from './run.js';

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : '0.0.0';
}

export function createProgram(): Command {
  const program = new Command('osvb')
    .description('Build unikernel images from Linux applications and boot them under QEMU')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError(false)
    .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) })
    .exitOverride();
  for (const register of [
    registerBuild,
    registerRun,
    registerConfig,
    registerKconfig,
    registerInspect,
    registerDoctor,
  ]) {
    register(program);
  }
  for (const cmd of program.commands) {
    cmd
      .exitOverride()
      .configureOutput({ outputError: (msg, write) => write(`osvb: ${msg.replace(/^error: /, '')}`) });
  }
  return program;
}

/** Runs the CLI and returns the process exit status; never calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
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
