// The exit-status channel (BRIEF.md): COM2 (I/O 0x2f8, IRQ 3) gets the guest's
// "osvb-exit: N" / "osvb-panic" record in a host file, and isa-debug-exit at
// port 0xf4 turns the guest's final write into QEMU's exit code. COM2 is added
// as an explicit isa-serial device because microvm creates only one UART.

import type { HostDriver } from './types.js';

export const EXIT_PORT = 0xf4;
export const COM2_CHARDEV_ID = 'osvb-exit';

export const exitRecord: HostDriver = {
  name: 'exit-record',
  qemuArgs: (ctx) => [
    '-chardev',
    `file,id=${COM2_CHARDEV_ID},path=${ctx.exitRecordPath.replace(/,/g, ',,')}`,
    '-device',
    `isa-serial,chardev=${COM2_CHARDEV_ID},iobase=0x2f8,irq=3`,
  ],
};

export const debugExit: HostDriver = {
  name: 'isa-debug-exit',
  qemuArgs: () => ['-device', `isa-debug-exit,iobase=0x${EXIT_PORT.toString(16)},iosize=0x04`],
};
