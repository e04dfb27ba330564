// Tap NICs in a network namespace this test creates (needs root and iproute2):
// static IPv4 and static IPv6 on the guest, the host reaches the guest's echo
// server over both (1 MiB each, byte-exact), and the guest sees the host's
// own addresses as the peers; multi-homing: two NICs on two subnets, the guest
// dials a host service on each and the host sees the matching source address;
// routing with overlapping subnets (longest prefix); malformed frames;
// multiqueue (2 vCPUs, a 2-queue tap, 200 concurrent connections, per-queue
// counters) with checksum offload both ways.
// The namespace is removed afterwards.

import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PROGRAMS = resolve(import.meta.dirname, 'programs');
const CLIENT = resolve(import.meta.dirname, 'host/echo_client.py');
const PEER_SERVER = resolve(import.meta.dirname, 'host/peer_server.py');
const BAD_FRAMES = resolve(import.meta.dirname, 'host/bad_frames.py');
const MANY = resolve(import.meta.dirname, 'host/many_clients.py');
const RA = resolve(import.meta.dirname, 'host/ra_sender.py');
const NS = `osvbt${process.pid}`;
const isRoot = process.getuid?.() === 0;
let dir: string;

const ns = (...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  dir = await tempDir();
  if (!isRoot) return;
  execFileSync('ip', ['netns', 'add', NS]);
  ns('ip', 'link', 'set', 'lo', 'up');
  ns('ip', 'tuntap', 'add', 'tap0', 'mode', 'tap');
  ns('ip', 'link', 'set', 'tap0', 'up');
  ns('ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'tap0');
  ns('ip', '-6', 'addr', 'add', 'fd00:77::1/64', 'dev', 'tap0', 'nodad');
  ns('ip', 'tuntap', 'add', 'tap1', 'mode', 'tap');
  ns('ip', 'link', 'set', 'tap1', 'up');
  ns('ip', 'addr', 'add', '192.168.78.1/24', 'dev', 'tap1');
  // Overlapping subnets for the routing test: 10.77.0.0/16 on tap0, 10.77.5.0/24 inside it on tap1,
  // and an address off every subnet (reached through the guest's default route).
  ns('ip', 'addr', 'add', '10.77.0.1/16', 'dev', 'tap0');
  ns('ip', 'addr', 'add', '10.77.9.1/16', 'dev', 'tap0');
  ns('ip', 'addr', 'add', '10.77.5.1/24', 'dev', 'tap1');
  ns('ip', 'addr', 'add', '198.51.100.1/32', 'dev', 'lo');
  ns('ip', 'tuntap', 'add', 'tapmq', 'mode', 'tap', 'multi_queue');
  ns('ip', 'link', 'set', 'tapmq', 'up');
  ns('ip', 'addr', 'add', '192.168.79.1/24', 'dev', 'tapmq');
});

afterAll(() => {
  if (isRoot) execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
});

/** Runs argv inside the namespace; resolves with its exit code and output. */
function inNs(argv: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn('ip', ['netns', 'exec', NS, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += String(b)));
    p.stderr.on('data', (b) => (out += String(b)));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      res({ code, out });
    });
  });
}

describe.skipIf(!isRoot)('tap NIC in a network namespace (root)', () => {
  it('static IPv4 and IPv6: the host reaches the guest over both', async () => {
    const exe = join(dir, 'echo');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'echo.c')]);
    const file = join(dir, 'tap.yaml');
    await writeFile(
      file,
      `name: tap\napp:\n  exec: ${exe}\n  args: ["8080", "2"]\nnetwork:\n  - { mode: tap, tap: tap0, ipv4: 192.168.77.2/24, ipv6: fd00:77::2/64 }\n`,
    );
    const guest = inNs(
      ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '200'],
      250_000,
    );
    const v6 = await inNs(['python3', CLIENT, 'fd00:77::2', '8080', String(1 << 20)], 200_000);
    const v4 = await inNs(['python3', CLIENT, '192.168.77.2', '8080', String(1 << 20)], 200_000);
    const g = await guest;
    expect(v6.out.trim()).toBe('ok fd00:77::2');
    expect(v4.out.trim()).toBe('ok 192.168.77.2');
    expect(g.out).toContain('served 1048576 bytes from fd00:77::1');
    expect(g.out).toContain('served 1048576 bytes from ::ffff:192.168.77.1');
    expect(g.code).toBe(0);
  }, 400_000);

  it('SLAAC: a router advertisement gives the guest an address the host reaches', async () => {
    const exe = join(dir, 'echo');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'echo.c')]);
    const file = join(dir, 'slaac.yaml');
    await writeFile(
      file,
      `name: slaac\napp:\n  exec: ${exe}\n  args: ["8080", "1"]\nnetwork:\n  - { mode: tap, tap: tap0, ipv6: auto }\n`,
    );
    ns('ip', '-6', 'addr', 'add', 'fd00:88::1/64', 'dev', 'tap0', 'nodad');
    const ra = spawn('ip', ['netns', 'exec', NS, 'python3', RA, 'tap0', 'fd00:88::'], { stdio: 'ignore' });
    try {
      const guest = inNs(
        ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '200'],
        250_000,
      );
      // The prefix and the interface id of the guest's MAC 52:54:00:12:34:56 (modified EUI-64).
      const addr = 'fd00:88::5054:ff:fe12:3456';
      const c = await inNs(['python3', CLIENT, addr, '8080', String(256 << 10)], 200_000);
      const g = await guest;
      expect(c.out.trim()).toBe(`ok ${addr}`);
      // From the host's address in the prefix: fd00:88::1, or one the host's tap formed from the same RA.
      expect(g.out).toMatch(/served 262144 bytes from fd00:88::[0-9a-f:]+\n/);
      expect(g.code).toBe(0);
    } finally {
      ra.kill();
    }
  }, 400_000);

  it('multi-homing: two NICs on two subnets, each host service reached through the right one', async () => {
    const exe = join(dir, 'dial');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'dial.c')]);
    const file = join(dir, 'multi.yaml');
    await writeFile(
      file,
      `name: multi\napp:\n  exec: ${exe}\n  args: ["192.168.77.1:9000", "192.168.78.1:9000"]\nnetwork:\n` +
        '  - { mode: tap, tap: tap0, ipv4: 192.168.77.2/24 }\n  - { mode: tap, tap: tap1, ipv4: 192.168.78.2/24 }\n',
    );
    const server = inNs(['python3', PEER_SERVER, '9000', '2'], 250_000);
    const g = await inNs(
      ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '200'],
      250_000,
    );
    const srv = await server;
    expect(g.out).toContain('dial 192.168.77.1 -> 192.168.77.2');
    expect(g.out).toContain('dial 192.168.78.1 -> 192.168.78.2');
    expect(srv.out).toContain('peer 192.168.77.2');
    expect(srv.out).toContain('peer 192.168.78.2');
    expect(g.code).toBe(0);
  }, 400_000);

  it('routing: overlapping subnets on two NICs, the longer prefix wins; off-subnet goes by the default route', async () => {
    const exe = join(dir, 'dial');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'dial.c')]);
    const file = join(dir, 'route.yaml');
    // lwIP's own rule takes the first netif in its list whose subnet matches, and netif_add puts the
    // newest first: eth1 (/16) would take 10.77.5.1 too.
    await writeFile(
      file,
      `name: route\napp:\n  exec: ${exe}\n  args: ["10.77.5.1:9001", "10.77.9.1:9001", "198.51.100.1:9001"]\nnetwork:\n` +
        '  - { mode: tap, tap: tap1, ipv4: 10.77.5.2/24 }\n  - { mode: tap, tap: tap0, ipv4: 10.77.0.2/16, gateway: 10.77.0.1 }\n',
    );
    const server = inNs(['python3', PEER_SERVER, '9001', '3'], 250_000);
    const g = await inNs(
      ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '200'],
      250_000,
    );
    const srv = await server;
    // The /24 inside the /16: eth0. Only in the /16: eth1. On no subnet: the default route (eth1).
    expect(g.out).toContain('dial 10.77.5.1 -> 10.77.5.2');
    expect(g.out).toContain('dial 10.77.9.1 -> 10.77.0.2');
    expect(g.out).toContain('dial 198.51.100.1 -> 10.77.0.2');
    expect(srv.out.match(/^peer .*$/gm)).toEqual(['peer 10.77.5.2', 'peer 10.77.0.2', 'peer 10.77.0.2']);
    expect(g.code).toBe(0);
  }, 400_000);

  it('100,000 malformed frames from the host: the guest keeps serving, the next transfer is exact', async () => {
    const exe = join(dir, 'echo');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'echo.c')]);
    const file = join(dir, 'flood.yaml');
    await writeFile(
      file,
      `name: flood\napp:\n  exec: ${exe}\n  args: ["8080", "2"]\nnetwork:\n  - { mode: tap, tap: tap0, ipv4: 192.168.77.2/24, ipv6: fd00:77::2/64 }\n` +
        'kernel:\n  config: { PROCFS: y }\n',
    );
    const guest = inNs(
      ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '300'],
      350_000,
    );
    const before = await inNs(['python3', CLIENT, '192.168.77.2', '8080', String(64 << 10)], 200_000);
    expect(before.out.trim()).toBe('ok 192.168.77.2');
    const flood = await inNs(
      ['python3', BAD_FRAMES, 'tap0', '100000', '52:54:00:12:34:56', '192.168.77.2', '192.168.77.1'],
      200_000,
    );
    expect(flood.out).toMatch(/sent \d+/);
    const after = await inNs(['python3', CLIENT, '192.168.77.2', '8080', String(1 << 20)], 200_000);
    const g = await guest;
    expect(after.out.trim()).toBe('ok 192.168.77.2');
    expect(g.out).toContain('served 1048576 bytes from ::ffff:192.168.77.1');
    expect(g.out).not.toMatch(/panic|exception/);
    // The frames did reach the guest: its NIC counted them (the tap may drop a few when full).
    const rx = /eth0 q0 rx_packets (\d+) rx_bytes \d+ rx_drops \d+ rx_bad (\d+)/.exec(g.out);
    expect(rx).not.toBeNull();
    expect(Number(rx![1]) + Number(rx![2])).toBeGreaterThan(50_000);
    // Frames from a packet socket carry no checksum state: the guest checked TCP itself and
    // dropped the bad ones (counted with the bad frames); the host's own TCP came vouched.
    const cs = /eth0 q0 .* rx_csum_dev (\d+) rx_csum_sw (\d+) tx_csum_dev (\d+)/.exec(g.out);
    expect(cs).not.toBeNull();
    expect(Number(cs![1])).toBeGreaterThan(0);
    expect(Number(cs![2])).toBeGreaterThan(1000);
    expect(Number(cs![3])).toBeGreaterThan(0);
    expect(g.code).toBe(0);
  }, 500_000);

  it('multiqueue: 2 vCPUs, a 2-queue tap, 200 concurrent connections, both queue pairs carry traffic', async () => {
    const exe = join(dir, 'echo');
    execFileSync('musl-gcc', ['-static', '-O1', '-o', exe, join(PROGRAMS, 'echo.c')]);
    const file = join(dir, 'mq.yaml');
    await writeFile(
      file,
      `name: mq\napp:\n  exec: ${exe}\n  args: ["8080", "200", "threads"]\nnetwork:\n  - { mode: tap, tap: tapmq, ipv4: 192.168.79.2/24, queues: 2 }\n` +
        'kernel:\n  profile: q35\n  config: { PROCFS: y }\nrun:\n  cpus: 2\n  memory: 512M\n',
    );
    const guest = inNs(
      ['node', join(ROOT, 'bin/osvb.js'), 'run', '--config', file, '--timeout', '300'],
      350_000,
    );
    // 200 connections open at once, each echoing 64 KiB; the host spreads the flows over the tap's queues.
    const c = await inNs(['python3', MANY, '192.168.79.2', '8080', '200', String(64 << 10)], 300_000);
    const g = await guest;
    expect(c.out.trim()).toBe('ok 200 192.168.79.2');
    expect(g.out).toContain('served 200 connections at once');
    expect(g.out.match(/served 65536 bytes from ::ffff:192\.168\.79\.1/g)).toHaveLength(200);
    for (const q of [0, 1]) {
      const m = new RegExp(`eth0 q${q} rx_packets (\\d+) .* tx_packets (\\d+)`).exec(g.out);
      expect(m, `queue ${q} counters`).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![2])).toBeGreaterThan(0);
    }
    // Checksum offload both ways (tap has a virtio header): the device vouched for received
    // TCP checksums and completed the ones the guest sent.
    const csum = [...g.out.matchAll(/rx_csum_dev (\d+) rx_csum_sw \d+ tx_csum_dev (\d+)/g)];
    expect(csum).toHaveLength(2);
    expect(csum.reduce((a, m) => a + Number(m[1]), 0)).toBeGreaterThan(1000);
    expect(csum.reduce((a, m) => a + Number(m[2]), 0)).toBeGreaterThan(1000);
    expect(g.code).toBe(0);
  }, 500_000);
});
