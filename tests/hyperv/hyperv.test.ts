// Hyper-V support (modules/hyperv, vmbus, netvsc, storvsc) tested on the
// host: no Hyper-V emulator exists here, so the protocol code is compiled
// with the host gcc (AddressSanitizer + UBSan) from the kernel's own sources
// and run against byte vectors laid out from the TLFS and the VMBus, NVSP,
// RNDIS and VSTOR message definitions, and end to end against a simulated
// VMBus host (tests/hyperv/host/sim.c) that offers a netvsc and a storvsc
// channel, answers their handshakes, moves frames both ways and serves an
// in-memory disk; malformed answers from it must be caught and counted.
// One boot under QEMU checks that an image with Hyper-V support built in
// detects nothing elsewhere, frees the hyperv platform's code at boot (runtime
// disposal) and stays out of the way.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/kernel/app.js';
import { parseElf, platformSizes } from '../../src/kernel/elf.js';
import { runImage } from '../../src/hypervisor/run.js';

const ROOT = resolve(import.meta.dirname, '../..');
const M = join(ROOT, 'modules');

const SOURCES = [
  'modules/hyperv/tlfs.c',
  'modules/vmbus/ring.c',
  'modules/vmbus/core.c',
  'modules/netvsc/netvsc_core.c',
  'modules/storvsc/storvsc_core.c',
  'tests/hyperv/host/sim.c',
  'tests/hyperv/host/main.c',
];

const CASES: [string, string][] = [
  [
    'tlfs',
    'TLFS: vendor signature, guest OS id, hypercall input, HvPostMessage page, SynIC slot, reference TSC',
  ],
  ['ring', 'ring buffer bytes, wrap-around, full ring, interrupt mask and pending_send_sz, corrupt indices'],
  [
    'vmbus_messages',
    'INITIATE_CONTACT, REQUESTOFFERS, offers, GPADL header/body split and teardown; bad messages',
  ],
  ['nvsp_rndis', 'NVSP and RNDIS encoders'],
  ['vstor', 'VSTOR packet with its SRB; READ/WRITE (10) and (16) CDBs'],
  [
    'e2e',
    'netvsc and storvsc end to end: handshakes, a frame each way, WRITE/READ on the in-memory disk, close',
  ],
  ['e2e_old_host', 'an older host: VMBus 3.0, NVSP 4, VSTOR 5.1; READ CAPACITY(16); no common version'],
  ['bad_version', 'a VERSION_RESPONSE cut short'],
  ['bad_offer', 'an offer with a relid past the event page'],
  ['bad_gpadl', 'GPADL_CREATED naming another handle'],
  ['bad_rndis_query', 'an RNDIS query answer whose information buffer lies outside it'],
  ['bad_send_section', 'a send-buffer section size of 0; a receive-buffer section count the answer lacks'],
  [
    'bad_rx',
    'receive ranges, RNDIS offsets and lengths, range counts, completions and ring indices out of bounds',
  ],
  ['bad_stor', 'storvsc answers: more bytes than asked, cut short, for a transaction never sent'],
];

let dir: string;
let bin: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osvb-hyperv-'));
  bin = join(dir, 'hvtest');
  execFileSync(
    'gcc',
    [
      '-std=gnu11',
      '-g',
      '-O1',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      `-I${join(M, 'lib/include')}`,
      `-I${join(M, 'hyperv/include')}`,
      `-I${join(M, 'vmbus/include')}`,
      '-o',
      bin,
      ...SOURCES.map((s) => join(ROOT, s)),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Hyper-V protocol code on the host', () => {
  it('runs every case the test program has', () => {
    const listed = execFileSync(bin, [], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(CASES.map(([name]) => name));
  });

  it.each(CASES)('%s: %s', (name) => {
    const r = spawnSync(bin, [name], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe(`ok ${name}`);
    expect(r.status).toBe(0);
  });

  it('refuses a case it does not have (status 2), so a renamed case cannot pass silently', () => {
    const r = spawnSync(bin, ['no-such-case'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('no case no-such-case');
    expect(r.status).toBe(2);
  });
});

describe('an image with Hyper-V support, booted elsewhere', () => {
  it('detects no Hyper-V under QEMU, frees the hyperv platform code and keeps its own clock', async () => {
    const app = join(dir, 'app.yaml');
    await writeFile(
      app,
      'name: hyperv\nkernel:\n  config:\n    SELFTEST: y\n    HYPERV: y\n    VMBUS: y\n    NETVSC: y\n    STORVSC: y\n' +
        '  cmdline: osvb.selftest=hyperv.absent\n',
    );
    const outDir = join(dir, 'img');
    await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
    // All four modules are the hyperv platform's (module.yaml platform:).
    const sizes = platformSizes(parseElf(await readFile(join(outDir, 'kernel.elf')), 'kernel.elf'));
    expect(sizes.hyperv).toBeGreaterThan(4 * 4096);
    let out = '';
    const r = await runImage(outDir, {
      append: 'osvb.loglevel=5',
      timeoutSeconds: 90,
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        out += s;
      },
    });
    out = out.replaceAll('\r', '');
    expect(out).toMatch(new RegExp(`hypervisor: disposed .*hyperv ${sizes.hyperv}\\b`));
    expect(out).toContain('selftest: hyperv.absent ... ok');
    expect(out).toContain('selftest: 1 passed, 0 failed');
    expect(out).not.toContain('vmbus:');
    expect(r.status).toBe(0);
  }, 300_000); // a kernel built from an empty cache, then one boot under TCG
});
