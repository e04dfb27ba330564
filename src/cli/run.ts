import type { Command } from 'commander';
import { OsvbError } from '../errors.js';

// Placeholder until the command lands; see the issue that owns it.
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      throw new OsvbError('osvb run is not available in this build yet');
    });
}
