// 16550 serial console: COM1 carries the guest console to our stdout.

import type { HostDriver } from './types.js';

export const serialConsole: HostDriver = {
  name: 'serial-console',
  qemuArgs: () => ['-serial', 'stdio'],
};
