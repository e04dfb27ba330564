// Sockets with no NIC: a C program serves and connects to itself over
// 127.0.0.1 and ::1 (TCP and UDP, blocking and nonblocking, poll/select/epoll
// level and edge triggered, EPOLLONESHOT, sendfile, SIGPIPE/EPIPE, socket
// options, AF_UNIX stream and datagram sockets on socketpairs and tmpfs
// paths, the netlink route dump behind getifaddrs/getaddrinfo and
// if_nametoindex) on the osvb kernel with lwIP, booted with `osvb run` under QEMU.
// The program prints one "ok NAME" per check and exits 1 at the first failure.

import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../kernel/helpers.js';

const PROGRAMS = resolve(import.meta.dirname, 'programs');
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

afterEach(() => vi.restoreAllMocks());

async function runApp(yaml: string): Promise<{ status: number; lines: string[]; out: string }> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  let out = '';
  const capture = (s: unknown) => {
    out += String(s);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const status = await main(['node', 'osvb', 'run', '--config', file, '--timeout', '150']);
  vi.restoreAllMocks();
  out = out.replaceAll('\r', '');
  return { status, out, lines: out.split('\n') };
}

const CHECKS = [
  'tcp4.connect_nonblocking',
  'tcp4.accept4',
  'tcp4.stream_4MiB_checksum',
  'tcp4.msg_peek',
  'tcp4.fionread',
  'tcp4.rcvtimeo_eagain',
  'tcp4.read_eof',
  'tcp4.send_after_shutdown_epipe',
  'tcp4.write_after_shutdown_sigpipe',
  'tcp4.closed_peer',
  'tcp6.connect_blocking',
  'dual.accept_v4mapped',
  'tcp4.econnrefused',
  'udp4.recvfrom',
  'udp6.reply_recv',
  'epoll.et_no_refire',
  'epoll.et_second_edge',
  'epoll.et_edge_without_scan',
  'epoll.oneshot_disabled',
  'epoll.oneshot_rearm',
  'select.ready',
  'sendfile.socket',
  'unix.eof',
  'unix.epipe',
  'unix.dgram_boundaries',
  'unix.accept',
  'unix.getpeername',
  'unix.socket_inode',
  'unix.connect_missing',
  'unix.dgram_recvfrom',
  'netlink.lo_ipv4',
  'netlink.lo_ipv6',
  'netlink.lo_link',
  'netlink.if_nametoindex',
  'netlink.getaddrinfo_addrconfig',
];

describe('loopback sockets (lwIP, no NIC)', () => {
  for (const [cc, args] of [
    ['musl-gcc', ['-static']],
    ['gcc', []],
  ] as const) {
    it(`${cc} ${args.join(' ') || 'dynamic'}: every check passes`, async () => {
      const exe = join(dir, `loopback-${cc}`);
      execFileSync(cc, ['-O1', '-Wall', '-o', exe, join(PROGRAMS, 'loopback.c'), ...args], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const r = await runApp(
        `name: loopback\napp:\n  exec: ${exe}\nnetwork: none\nkernel:\n  config: { LWIP: y }\n`,
      );
      for (const c of CHECKS) expect(r.lines).toContain(`ok ${c}`);
      expect(r.out).not.toMatch(/FAIL|unimplemented syscall/);
      expect(r.lines).toContain('loopback: 100 checks ok');
      expect(r.status).toBe(0);
    }, 300_000);
  }
});
