import type { Command } from 'commander';
import { OsvbError } from '../errors.js';

// Placeholder until the command lands; see the issue that owns it.
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      throw new OsvbError('osvb doctor is not available in this build yet');
    });
}
