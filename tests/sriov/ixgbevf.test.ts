// ixgbevf (82599 VF) on the host: no emulator models the 82599, so the
// driver's register-level half (modules/ixgbevf/hw.c, the same C the kernel
// builds) is compiled with the host's gcc against a register-level model of
// the VF and its PF's mailbox (tests/sriov/host/ixgbevf_model.c, written from
// Intel's 82599 datasheet) and run through the scenarios in
// tests/sriov/host/ixgbevf_test.c: the reset and API negotiation with PFs of
// every level, frames both ways through the rings, and malformed mailbox
// replies and receive descriptors that must be refused. The model also
// flags any register access the datasheet forbids.

import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HOST = join(ROOT, 'tests/sriov/host');
let out = '';
let status = 0;

beforeAll(async () => {
  const exe = join(await tempDir(), 'ixgbevf_test');
  // ASan/UBSan: an out-of-bounds copy of a device-supplied length fails the run.
  execFileSync('gcc', [
    '-std=c11',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-O1',
    '-fsanitize=address,undefined',
    '-fno-sanitize-recover=all',
    '-o',
    exe,
    join(HOST, 'ixgbevf_test.c'),
    join(HOST, 'ixgbevf_model.c'),
    join(ROOT, 'modules/ixgbevf/hw.c'),
  ]);
  try {
    out = execFileSync(exe, { encoding: 'utf8', timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; status?: number };
    out = e.stdout ?? '';
    status = e.status ?? -1;
  }
}, 120_000);

const line = (name: string) => out.split('\n').find((l) => l.startsWith(`ok ${name} `) || l === `ok ${name}`);

describe('ixgbevf against the 82599 VF model', () => {
  it('every scenario passes and the model saw no forbidden access', () => {
    expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
    expect(out).toContain('\n0 failed\n');
    expect(status).toBe(0);
  });

  it('negotiates the highest mailbox API the PF accepts, 1.4 down to 1.0, and asks for queues only from 1.1', () => {
    expect(line('handshake_api14')).toBe(
      'ok handshake_api14 api=1.4 nacks=0 get_queues=1 queues=2/2 mac=02:09:c0:ff:ee:01',
    );
    expect(line('handshake_api12')).toMatch(/api=1\.2 nacks=2 get_queues=1/);
    expect(line('handshake_api11')).toMatch(/api=1\.1 nacks=3 get_queues=1/);
    expect(line('handshake_api10_only')).toMatch(/api=1\.0 nacks=5 get_queues=0 queues=1\/1/);
    // PFACK and PFSTS in one read of the read-to-clear mailbox register.
    expect(line('handshake_fast_pf')).toMatch(/api=1\.3/);
    expect(line('reset_waits_for_pf')).toMatch(/sleeps=5\d/);
  });

  it('refuses malformed or missing mailbox replies with distinct errors', () => {
    expect(line('reset_reply_multicast_mac')).toBe('ok reset_reply_multicast_mac error=-71 mbx_bad=1');
    expect(line('reset_reply_wrong_type')).toBe('ok reset_reply_wrong_type error=-71 mbx_bad=1');
    expect(line('reset_reply_nack')).toBe('ok reset_reply_nack error=-5 mbx_bad=0');
    expect(line('reply_success_and_failure')).toBe('ok reply_success_and_failure error=-71 mbx_bad=1');
    expect(line('get_queues_zero')).toBe('ok get_queues_zero error=-71 mbx_bad=1');
    expect(line('get_queues_default_past_end')).toBe('ok get_queues_default_past_end error=-71 mbx_bad=1');
    expect(line('pf_silent')).toBe('ok pf_silent error=-110 mbx_bad=1');
  });

  it('moves frames both ways: 600 in (one MSI-X each, auto-cleared), 700 out, a full ring, PF messages', () => {
    expect(line('traffic')).toBe('ok traffic rx=600 tx=700 rx_irqs=600');
    expect(line('tx_ring_full')).toBe('ok tx_ring_full queued=255');
    expect(line('pf_message')).toBe('ok pf_message word=0x100');
  });

  it('drops receive descriptors with a length past the buffer, no EOP, a CRC error or a runt', () => {
    // 4 bad, then 1 good and 512 more round the ring.
    expect(line('rx_malformed')).toBe('ok rx_malformed bad=4 delivered=513');
  });
});
