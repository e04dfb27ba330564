// SR-IOV under QEMU's igb (82576): app.yaml `model: igbvf` NICs parsed and
// turned into QEMU arguments (a pcie-root-port + igb per NIC, q35 only) and
// Kconfig requests; and an image booted on q35 whose igb PF driver enables a
// VF, answers its mailbox, and whose igbvf netdev carries Go's net/http to
// the host through QEMU user networking: the host GETs 3 MB and checks the
// sha256, then stops the server (status 0). The kernel self-tests igb.* and
// igbvf.* feed the PF's mailbox hostile VF messages and the VF's receive
// path hostile descriptors (no device needed) in one more boot.

import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadAppSpec } from '../../src/config/appspec.js';
import { collectRequests } from '../../src/config/requests.js';
import { igbNics } from '../../src/drivers/igb.js';
import { virtioNet } from '../../src/drivers/virtio-net.js';
import { tempDir } from '../kernel/helpers.js';
import { captureOutput, freePort, get, sha } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

afterEach(() => vi.restoreAllMocks());

async function spec(yaml: string) {
  const f = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(f, yaml);
  return loadAppSpec(f);
}

describe('igbvf NICs on the host side', () => {
  it('parses model: igbvf; the PF goes behind its own root port, virtio NICs keep theirs', async () => {
    const s = await spec(
      'name: n\nkernel:\n  profile: q35\nnetwork:\n  - { mode: tap, tap: t0 }\n  - { mode: user, model: igbvf }\n',
    );
    expect(s.network?.map((n) => n.model)).toEqual([undefined, 'igbvf']);
    const ctx = {
      machine: 'q35' as const,
      exitRecordPath: '/x',
      nics: s.network ?? [],
      ports: [{ proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8080, guestPort: 80 }],
    };
    expect(igbNics.qemuArgs(ctx)).toEqual([
      '-device',
      'pcie-root-port,id=osvb-igbrp1,chassis=41,slot=1',
      '-netdev',
      'user,id=net1,hostfwd=tcp:127.0.0.1:8080-:80',
      '-device',
      'igb,bus=osvb-igbrp1,netdev=net1,mac=52:54:00:12:34:57',
    ]);
    expect(virtioNet.qemuArgs(ctx)).toEqual([
      '-netdev',
      'tap,id=net0,ifname=t0,script=no,downscript=no',
      '-device',
      'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56',
    ]);
    const reqs = collectRequests(
      s,
      { kind: 'none' } as Parameters<typeof collectRequests>[1],
      { name: 'q35', lines: [] } as unknown as Parameters<typeof collectRequests>[2],
    );
    expect(
      reqs.filter((r) => ['IGB', 'IGBVF', 'VIRTIO_NET'].includes(r.symbol)).map((r) => r.reason),
    ).toEqual([
      'requested because network: has 1 NIC',
      'requested because network: has 1 igbvf NIC',
      'requested because network: has 1 igbvf NIC',
    ]);
  });

  it('rejects an unknown model, queues > 1, a virtio NIC after a VF, and igbvf off q35', async () => {
    await expect(spec('name: n\nnetwork:\n  - { model: e1000 }\n')).rejects.toMatchObject({
      message: 'network[0].model: "e1000" is not one of virtio, igbvf',
      loc: { line: 3 },
    });
    await expect(
      spec('name: n\nnetwork:\n  - { mode: tap, tap: t, queues: 2, model: igbvf }\n'),
    ).rejects.toThrow('network[0]: model igbvf has one queue pair (queues: 1)');
    await expect(
      spec('name: n\nnetwork:\n  - { model: igbvf }\n  - { mode: tap, tap: t }\n'),
    ).rejects.toThrow(/network\[1\]: list virtio NICs before igbvf ones/);
    expect(() =>
      igbNics.qemuArgs({
        machine: 'pc',
        exitRecordPath: '/x',
        nics: [{ mode: 'user', queues: 1, model: 'igbvf' }],
      }),
    ).toThrow('network[0]: model igbvf needs PCI Express (kernel.profile q35), and this image runs on pc');
  });
});

describe('SR-IOV VF under QEMU igb', () => {
  it('q35: igb enables a VF, igbvf serves http-go through it; 3 MB GET sha256 equal, stop', async () => {
    const build = join(dir, 'http-go');
    execFileSync('make', ['-s', '-C', join(EXAMPLES, 'http-go'), `O=${build}`], { stdio: 'ignore' });
    const file = join(dir, 'vf.yaml');
    await writeFile(
      file,
      `name: http-vf\napp:\n  exec: ${join(build, 'http-go')}\n  runtime: go\n  args: ["8080"]\n` +
        'kernel:\n  profile: q35\n  cmdline: osvb.loglevel=6\nnetwork:\n  - { mode: user, model: igbvf }\n' +
        'run:\n  memory: 256M\n',
    );
    const port = await freePort();
    const cap = captureOutput();
    const run = main(['node', 'osvb', 'run', '--config', file, '-p', `${port}:8080`, '--timeout', '250']);
    let got: Buffer;
    let bye: string;
    try {
      got = await get(`http://127.0.0.1:${port}/file/3000000`, Date.now() + 200_000);
      bye = (await get(`http://127.0.0.1:${port}/quit`, Date.now() + 10_000)).toString();
    } finally {
      await run;
      cap.restore();
    }
    const status = await run;
    const out = cap.text();
    const want = Buffer.alloc(3000000);
    for (let i = 0; i < want.length; i++) want[i] = ((i * 7) ^ (i >> 8)) & 0xff;
    expect(got.length).toBe(want.length);
    expect(sha(got)).toBe(sha(want));
    expect(bye).toBe('bye');
    // The PF enabled the VF and answered VF_RESET with the MAC the VF then registered as eth0.
    const mac = /igb: VF 0 reset, MAC ([0-9a-f:]{17})/.exec(out)?.[1];
    expect(mac).toBeDefined();
    // SeaBIOS leaves the VF BARs empty: the pci module placed both (registers, MSI-X) in the root port's window.
    expect(out).toMatch(/pci: 01:00\.0: VF BAR 0 placed at 0x[0-9a-f]+ \(1 x 16384 bytes\)/);
    expect(out).toMatch(/pci: 01:00\.0: VF BAR 3 placed at 0x[0-9a-f]+ \(1 x 16384 bytes\)/);
    expect(out).toMatch(/pci: 01:00\.0 VF 0 at 01:10\.0 8086:10ca/);
    expect(out).toContain(`netdev: eth0 ${mac} mtu 1500, 1 queue pair, link up`);
    expect(out).toMatch(/pci: 01:10\.0 8086:10ca -> igbvf/);
    expect(out).not.toMatch(/virtio-net/);
    expect(out).toContain('http-go: stopped');
    expect(status).toBe(0);
  }, 400_000);
});

describe('igb and igbvf self-tests (hostile VF messages, hostile descriptors)', () => {
  it('igb.vf_mailbox and igbvf.rx_descriptors pass', async () => {
    const file = join(dir, 'st.yaml');
    await writeFile(
      file,
      'name: igb-selftest\nkernel:\n  profile: q35\n  cmdline: osvb.selftest=igb.*,igbvf.*\n' +
        '  config:\n    SELFTEST: y\n    IGB: y\n    IGBVF: y\n',
    );
    const cap = captureOutput();
    const status = await main(['node', 'osvb', 'run', '--config', file, '--timeout', '200']);
    cap.restore();
    const out = cap.text();
    expect(out).toMatch(/selftest: igb\.vf_mailbox \.\.\. ok/);
    expect(out).toMatch(/selftest: igbvf\.rx_descriptors \.\.\. ok/);
    expect(out).toMatch(/selftest: 2 passed, 0 failed/);
    expect(status).toBe(0);
  }, 400_000);
});
