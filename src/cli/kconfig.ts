import type { Command } from 'commander';
import { OsvbError } from '../errors.js';

// Placeholder until the command lands; see the issue that owns it.
export function registerKconfig(program: Command): void {
  program
    .command('kconfig')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      throw new OsvbError('osvb kconfig is not available in this build yet');
    });
}
