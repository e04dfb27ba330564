// Networking from the host's side: app.yaml network:, osvb run -p and --net
// parsed and turned into QEMU arguments; and an image with a virtio-net NIC
// (QEMU user networking) booted with `osvb run -p`, its echo server reached
// from the host through the forwarded port, the bytes checked both ways.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadAppSpec } from '../../src/config/appspec.js';
import { nicCmdline, parseNetOption, parsePortOption, withDefaultNetwork } from '../../src/config/network.js';
import { requirementsOf, readElf } from '../../src/fs/elf.js';
import { virtioNet } from '../../src/drivers/virtio-net.js';
import { tempDir } from '../kernel/helpers.js';
import { freePort, sha } from './helpers.js';

const PROGRAMS = resolve(import.meta.dirname, 'programs');
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

describe('network configuration', () => {
  it('app.yaml network: user NIC gets slirp addresses, tap NIC its own; kernel words follow', async () => {
    const s = await spec(
      'name: n\nnetwork:\n  - mode: user\n  - { mode: tap, tap: tap0, ipv4: 192.168.7.2/24, ipv6: fd00::2/64, queues: 2 }\n',
    );
    expect(s.network).toMatchObject([
      { mode: 'user', ipv4: '10.0.2.15/24', gateway: '10.0.2.2', ipv6: 'auto', queues: 1 },
      { mode: 'tap', tap: 'tap0', ipv4: '192.168.7.2/24', ipv6: 'fd00::2/64', queues: 2 },
    ]);
    expect(nicCmdline(s.network ?? [])).toEqual([
      'osvb.net0=ip=10.0.2.15/24,gw=10.0.2.2,ip6=auto',
      'osvb.net1=ip=192.168.7.2/24,ip6=fd00::2/64',
    ]);
    expect((await spec('name: n\nnetwork: none\n')).network).toEqual([]);
  });

  it('default network: one user NIC when the program opens sockets and app.yaml has no network:', async () => {
    const server = join(dir, 'srv');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', server, join(PROGRAMS, 'echo.c')]);
    const quiet = join(dir, 'quiet');
    await writeFile(join(dir, 'quiet.c'), 'int main(void) { return 0; }\n');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', quiet, join(dir, 'quiet.c')]);
    const dyn = join(dir, 'srv-dyn');
    execFileSync('gcc', ['-O1', '-o', dyn, join(PROGRAMS, 'echo.c')]);
    const req = async (exe: string) => requirementsOf(await readElf(exe));
    expect((await req(server)).sockets).toBe('socket');
    expect((await req(dyn)).sockets).toBe('socket');
    expect((await req(quiet)).sockets).toBeUndefined();
    const withNet = async (exe: string, extra = '') =>
      withDefaultNetwork(await spec(`name: n\napp:\n  exec: ${exe}\n${extra}`), await req(exe)).network;
    expect(await withNet(server)).toMatchObject([
      { mode: 'user', ipv4: '10.0.2.15/24', gateway: '10.0.2.2', queues: 1 },
    ]);
    expect(await withNet(dyn)).toHaveLength(1);
    expect(await withNet(quiet)).toEqual([]);
    expect(await withNet(server, 'network: none\n')).toEqual([]);
    expect(await withNet(server, 'network:\n  - { mode: tap, tap: t0 }\n')).toMatchObject([{ mode: 'tap' }]);
  });

  it('rejects bad NICs naming app.yaml line and column', async () => {
    await expect(spec('name: n\nnetwork:\n  - { mode: tap }\n')).rejects.toThrow(/mode tap needs tap: NAME/);
    await expect(spec('name: n\nnetwork:\n  - { ipv4: 10.0.2.300/24 }\n')).rejects.toMatchObject({
      loc: { line: 3 },
    });
    await expect(spec('name: n\nnetwork:\n  - { mdoe: user }\n')).rejects.toMatchObject({
      hint: 'did you mean mode?',
    });
  });

  it('-p and --net', () => {
    expect(parsePortOption('8080:80')).toEqual({
      proto: 'tcp',
      hostIp: '127.0.0.1',
      hostPort: 8080,
      guestPort: 80,
    });
    expect(parsePortOption('0.0.0.0:53:53/udp')).toEqual({
      proto: 'udp',
      hostIp: '0.0.0.0',
      hostPort: 53,
      guestPort: 53,
    });
    expect(() => parsePortOption('80')).toThrow(/HOSTPORT:GUESTPORT/);
    expect(() => parsePortOption('70000:80')).toThrow(/ports 1 to 65535/);
    expect(parseNetOption('none')).toBeUndefined();
    expect(parseNetOption('tap:t0,queues=2')).toEqual({ mode: 'tap', tap: 't0', queues: 2 });
    expect(() => parseNetOption('bridge')).toThrow(/none, user or tap:NAME/);
  });

  it('QEMU arguments: forwards on the user NIC, multiqueue tap on PCI', () => {
    const args = virtioNet.qemuArgs({
      machine: 'q35',
      exitRecordPath: '/x',
      nics: [
        { mode: 'user', queues: 1 },
        { mode: 'tap', tap: 'tq', queues: 2 },
      ],
      ports: [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, guestPort: 80 }],
    });
    expect(args).toEqual([
      '-netdev',
      'user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80',
      '-device',
      'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56',
      '-netdev',
      'tap,id=net1,ifname=tq,script=no,downscript=no,queues=2',
      '-device',
      'virtio-net-pci,netdev=net1,mac=52:54:00:12:34:57,mq=on,vectors=6',
    ]);
  });
});

/** Connects (retrying while the guest boots), sends data, half-closes, returns what comes back. */
async function echo(port: number, data: Buffer, deadline: number): Promise<Buffer> {
  for (;;) {
    try {
      return await new Promise<Buffer>((res, rej) => {
        const chunks: Buffer[] = [];
        const s = new Socket();
        let got = 0;
        s.on('data', (b) => {
          chunks.push(b);
          got += b.length;
        });
        s.on('error', rej);
        s.on('close', () =>
          got > 0 || data.length === 0 ? res(Buffer.concat(chunks)) : rej(new Error('closed empty')),
        );
        s.connect(port, '127.0.0.1', () => s.end(data));
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('netdev checksum offload rules (kernel self-tests, spec-derived frames)', () => {
  it('RFC 1071 sum, receive checks, partial completion, transmit pseudo-header', async () => {
    const file = join(dir, 'csum.yaml');
    await writeFile(
      file,
      'name: csum\nkernel:\n  config: { SELFTEST: y, NETDEV: y }\n  cmdline: osvb.selftest=netdev*\n',
    );
    let out = '';
    const capture = (s: unknown) => {
      out += String(s);
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const status = await main(['node', 'osvb', 'run', '--config', file, '--verbose', '--timeout', '120']);
    vi.restoreAllMocks();
    for (const t of ['netdev.csum_rfc1071', 'netdev.csum_rx', 'netdev.csum_partial', 'netdev.csum_tx'])
      expect(out).toContain(`selftest: ${t} ... ok`);
    expect(out).toContain('selftest: 4 passed, 0 failed');
    expect(status).toBe(0);
  }, 300_000);
});

describe('virtio-net with user networking', () => {
  for (const [what, nic, cmdline, expectLine] of [
    ['static 10.0.2.15/24', 'network:\n  - mode: user\n', '', undefined],
    // No network: key: the program imports socket, so it gets the default user NIC.
    ['default NIC (no network: key)', '', '', undefined],
    [
      'DHCP (ipv4: dhcp)',
      'network:\n  - { mode: user, ipv4: dhcp }\n',
      'kernel:\n  cmdline: osvb.loglevel=6\n',
      /net: eth0 DHCP address 10\.0\.2\.15/,
    ],
  ] as const) {
    it(`${what}: osvb run -p, 4 MiB echoed through the forwarded port, checksum equal`, async () => {
      const exe = join(dir, 'echo');
      execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'echo.c')]);
      const file = join(dir, `echo-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(file, `name: echo\napp:\n  exec: ${exe}\n  args: ["8080", "1"]\n${nic}${cmdline}`);
      const port = await freePort();
      let out = '';
      const capture = (s: unknown) => {
        out += String(s);
        return true;
      };
      vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      const run = main(['node', 'osvb', 'run', '--config', file, '-p', `${port}:8080`, '--timeout', '200']);
      const data = randomBytes(4 << 20);
      const back = await echo(port, data, Date.now() + 180_000);
      const status = await run;
      vi.restoreAllMocks();
      expect(back.length).toBe(data.length);
      expect(sha(back)).toBe(sha(data));
      expect(out).toMatch(/served 4194304 bytes from ::ffff:10\.0\.2\.2/);
      if (expectLine) expect(out).toMatch(expectLine);
      expect(status).toBe(0);
    }, 300_000);
  }
});
