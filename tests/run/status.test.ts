import { describe, expect, it } from 'vitest';
import { statusOf } from '../../src/hypervisor/run.js';
import { classify, parseExitRecord, type QemuEnd } from '../../src/hypervisor/status.js';

const end = (o: Partial<QemuEnd>): QemuEnd => ({
  exitCode: 0,
  signal: undefined,
  timedOut: false,
  timeoutSeconds: 0,
  record: '',
  qemuComplained: false,
  ...o,
});

describe('exit record', () => {
  it('takes the last valid record', () => {
    expect(parseExitRecord('osvb-exit: 3\n')).toEqual({ kind: 'exit', status: 3 });
    expect(parseExitRecord('noise\nosvb-exit: 3\nosvb-panic\n')).toEqual({ kind: 'panic' });
    expect(parseExitRecord('osvb-exit: 256\n')).toEqual({ kind: 'none' });
    expect(parseExitRecord('osvb-exit: 12')).toEqual({ kind: 'exit', status: 12 });
    expect(parseExitRecord('osvb-exit: x\n')).toEqual({ kind: 'none' });
  });
});

describe('status mapping', () => {
  it('trusts the COM2 record over the QEMU exit code', () => {
    expect(statusOf(classify(end({ exitCode: 3, record: 'osvb-exit: 200\n' })))).toEqual({ status: 200 });
    expect(statusOf(classify(end({ exitCode: 1, record: 'osvb-exit: 0\n' })))).toEqual({ status: 0 });
  });

  it('falls back to (qemu_exit - 1) / 2 without a record', () => {
    expect(statusOf(classify(end({ exitCode: 85 })))).toEqual({ status: 42 });
    expect(statusOf(classify(end({ exitCode: 1 })))).toEqual({ status: 0 });
    expect(statusOf(classify(end({ exitCode: 511 })))).toEqual({ status: 255 });
  });

  it('maps a panic to 125 with one line', () => {
    expect(statusOf(classify(end({ exitCode: 255, record: 'osvb-panic\n' })))).toEqual({
      status: 125,
      message: 'kernel panic; exit status 125',
    });
    expect(statusOf(classify(end({ exitCode: 255 }))).status).toBe(125);
  });

  it('maps a timeout to 124, even after an exit record', () => {
    expect(statusOf(classify(end({ timedOut: true, timeoutSeconds: 5, record: 'osvb-exit: 0\n' })))).toEqual({
      status: 124,
      message: 'guest did not exit within 5 s; killed',
    });
  });

  it('maps a forwarded signal to 128+n', () => {
    expect(statusOf(classify(end({ signal: 'SIGINT' }))).status).toBe(130);
    expect(statusOf(classify(end({ signal: 'SIGTERM' }))).status).toBe(143);
  });

  it('treats a reset without status as a crash and a QEMU failure as an error', () => {
    expect(statusOf(classify(end({ exitCode: 0 }))).status).toBe(125);
    expect(() => statusOf(classify(end({ exitCode: 1, qemuComplained: true })))).toThrow(
      /qemu-system-x86_64 failed \(exit 1\)/,
    );
  });
});
