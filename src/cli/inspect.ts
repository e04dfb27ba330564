import type { Command } from 'commander';
import { OsvbError } from '../errors.js';

// Placeholder until the command lands; see the issue that owns it.
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      throw new OsvbError('osvb inspect is not available in this build yet');
    });
}
