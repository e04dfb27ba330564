import { describe, expect, it } from 'vitest';
import { statusOf } from '../../src/hypervisor/run.js';
import { classify, parseExitRecord, type QemuEnd } from '../../src/hypervisor/status.js';
import type { OsvbError } from '../../src/errors.js';

const end = (o: Partial<QemuEnd>): QemuEnd => ({
  exitCode: 0,
  signal: undefined,
  timedOut: false,
  timeoutSeconds: 0,
  record: '',
  qemuStderr: '',
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

  it('maps a forwarded signal to 128+n, for every signal', () => {
    expect(statusOf(classify(end({ signal: 'SIGINT', forwarded: 'SIGINT' }))).status).toBe(130);
    expect(statusOf(classify(end({ signal: 'SIGTERM', forwarded: 'SIGTERM' }))).status).toBe(143);
    expect(statusOf(classify(end({ signal: 'SIGUSR1', forwarded: 'SIGUSR1' }))).status).toBe(138);
    expect(statusOf(classify(end({ signal: 'SIGPIPE', forwarded: 'SIGPIPE' }))).status).toBe(141);
  });

  it('reports QEMU dying by a signal nobody sent as a QEMU failure in its own words', () => {
    const stderr =
      'qemu-system-x86_64: ../target/i386/kvm/kvm.c:3500: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' +
      "' failed.\n";
    const outcome = classify(end({ exitCode: undefined, signal: 'SIGABRT', qemuStderr: stderr }));
    expect(outcome).toMatchObject({ kind: 'qemu-error', signal: 'SIGABRT' });
    try {
      statusOf(outcome);
      expect.unreachable();
    } catch (err) {
      expect((err as OsvbError).exitCode).toBe(126);
      expect((err as Error).message).toBe(
        "QEMU failed (killed by SIGABRT): ../target/i386/kvm/kvm.c:3500: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.",
      );
    }
  });

  it('treats a reset without status as a crash and a QEMU failure as an error', () => {
    expect(statusOf(classify(end({ exitCode: 0 }))).status).toBe(125);
    expect(() =>
      statusOf(
        classify(
          end({
            exitCode: 1,
            qemuStderr: "qemu-system-x86_64: -device foo: 'foo' is not a valid device model name\n",
          }),
        ),
      ),
    ).toThrow("QEMU failed (exit 1): -device foo: 'foo' is not a valid device model name");
  });
});
