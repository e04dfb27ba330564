import type { Command } from 'commander';
import { OsvbError } from '../errors.js';

// Placeholder until the command lands; see the issue that owns it.
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      throw new OsvbError('osvb build is not available in this build yet');
    });
}
