import { describe, expect, it } from 'vitest';
import { formatError, KconfigError, ToolMissingError } from '../../src/errors.js';

describe('error formatting', () => {
  it('names file, line and column', () => {
    const err = new KconfigError('unknown statement "confg"', {
      loc: { file: 'Kconfig', line: 3, column: 1 },
    });
    expect(formatError(err)).toBe('osvb: Kconfig:3:1: unknown statement "confg"');
    expect(err.exitCode).toBe(1);
  });
  it('names the package that provides a missing tool', () => {
    expect(formatError(new ToolMissingError('qemu-system-x86_64', 'qemu-system-x86'))).toBe(
      'osvb: qemu-system-x86_64 not found; install it: apt-get install qemu-system-x86',
    );
  });
});
