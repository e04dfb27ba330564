// The Xen protocol code (pure C in modules/xen, modules/xenstore, boot's PVH
// parser, time's pvclock) compiled for the host and run against byte vectors
// laid out here from Xen's public headers: io/xs_wire.h, io/console.h,
// grant_table.h, event_channel.h + xen.h (shared_info, vcpu_info),
// arch-x86/hvm/start_info.h, hvm/params.h, memory.h. No Xen here: this is what
// checks that code (README: Xen PVH is not boot-tested).

import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let harness: string;

beforeAll(async () => {
  const dir = await tempDir('osvb-xen-');
  harness = join(dir, 'harness');
  const src = [
    'modules/xen/ring.c',
    'modules/xen/evtchn_2l.c',
    'modules/xen/gnttab_entry.c',
    'modules/xen/hcall_args.c',
    'modules/xenstore/xs_wire.c',
    'modules/xenstore/xs_client.c',
    'modules/boot/pvh_parse.c',
    'tests/xen/harness.c',
  ];
  const inc = ['xen', 'xenstore', 'boot', 'time'].flatMap((m) => ['-I', `modules/${m}/include`]);
  await execa('gcc', ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', ...inc, ...src, '-o', harness], {
    cwd: ROOT,
  });
}, 60_000);

async function run(...lines: string[]): Promise<string[]> {
  const r = await execa(harness, [], { input: `${lines.join('\n')}\n` });
  return r.stdout.split('\n');
}
async function one(line: string): Promise<string> {
  return (await run(line))[0]!;
}

const hex = (b: Buffer | Uint8Array) => Buffer.from(b).toString('hex');
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};
const str0 = (s: string) => Buffer.from(`${s}\0`);

// io/xs_wire.h: struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; } + payload.
const XS = { DIRECTORY: 1, READ: 2, WATCH: 4, UNWATCH: 5, WRITE: 11, WATCH_EVENT: 15, ERROR: 16 };
function xsMsg(type: number, req: number, payload: Buffer): Buffer {
  return Buffer.concat([u32(type), u32(req), u32(0), u32(payload.length), payload]);
}

describe('xenstore wire protocol (io/xs_wire.h)', () => {
  it('encodes read, directory, write, watch and unwatch requests', async () => {
    const [read, dir, write, watch, unwatch, big] = await run(
      'xs_read 7 device/vif/0/state',
      'xs_dir 8 device',
      `xs_write 9 control/shutdown ${hex(Buffer.from('poweroff'))}`,
      'xs_watch 10 4 control/shutdown tok1',
      'xs_watch 11 5 control/shutdown tok1',
      `xs_read 1 ${'a'.repeat(4096)}`,
    );
    const r = xsMsg(XS.READ, 7, str0('device/vif/0/state'));
    expect(read).toBe(`${r.length} ${hex(r)}`);
    expect(dir).toBe(`23 ${hex(xsMsg(XS.DIRECTORY, 8, str0('device')))}`);
    // A written value carries no NUL of its own.
    const w = xsMsg(XS.WRITE, 9, Buffer.concat([str0('control/shutdown'), Buffer.from('poweroff')]));
    expect(write).toBe(`${w.length} ${hex(w)}`);
    const wa = xsMsg(XS.WATCH, 10, Buffer.concat([str0('control/shutdown'), str0('tok1')]));
    expect(watch).toBe(`${wa.length} ${hex(wa)}`);
    expect(unwatch).toBe(`${wa.length} ${hex(xsMsg(XS.UNWATCH, 11, wa.subarray(16)))}`);
    expect(big).toBe('-1 -'); // 4097-byte payload > XENSTORE_PAYLOAD_MAX
  });

  it('maps XS_ERROR payloads to errno numbers (xsd_errors)', async () => {
    const out = await run(
      ...['ENOENT', 'EACCES', 'EAGAIN', 'E2BIG', 'EFOO'].map((e) => `xs_errno ${hex(str0(e))}`),
      `xs_errno ${hex(Buffer.from('ENOENT'))}`,
    );
    expect(out.slice(0, 6)).toEqual(['2', '13', '11', '7', '22', '22']);
  });

  it('splits NUL-separated payloads and refuses an unterminated one', async () => {
    const [two, bad, empty] = await run(
      `xs_split ${hex(Buffer.concat([str0('0'), str0('backend')]))}`,
      `xs_split ${hex(Buffer.from('abc'))}`,
      'xs_split -',
    );
    expect(two).toBe(`2 ${hex(Buffer.from('0'))} ${hex(Buffer.from('backend'))}`);
    expect(bad).toBe('-1');
    expect(empty).toBe('0');
  });

  // struct xenstore_domain_interface { char req[1024]; char rsp[1024];
  //   XENSTORE_RING_IDX req_cons, req_prod, rsp_cons, rsp_prod; ... }
  function storePage(bytes: Buffer, cons: number, prod = cons + bytes.length): Buffer {
    const page = Buffer.alloc(2076);
    for (let i = 0; i < bytes.length; i++) page[1024 + ((cons + i) % 1024)] = bytes[i]!;
    page.writeUInt32LE(cons >>> 0, 2056);
    page.writeUInt32LE(prod >>> 0, 2060);
    return page;
  }

  it('assembles responses and watch events from the rsp ring, across its wrap', async () => {
    const reply = xsMsg(XS.READ, 7, Buffer.from('3'));
    const event = xsMsg(XS.WATCH_EVENT, 0, Buffer.concat([str0('control/shutdown'), str0('tok1')]));
    const both = Buffer.concat([reply, event]);
    const start = 0xfffffff0; // free-running indices wrap at 2^32 as well
    const out = await one(`xs_rx ${hex(storePage(both, start))}`);
    expect(out).toBe(
      `msg ${XS.READ} 7 1 ${hex(Buffer.from('3'))} msg ${XS.WATCH_EVENT} 0 ${event.length - 16} ${hex(event.subarray(16))} end 0 ${(start + both.length) >>> 0} 0`,
    );
  });

  it('waits for a partial message and rejects bad headers and ring indices', async () => {
    const reply = xsMsg(XS.READ, 7, Buffer.from('hello'));
    const [partial, tooLong, badType, badIdx] = await run(
      `xs_rx ${hex(storePage(reply.subarray(0, 18), 100))}`,
      `xs_rx ${hex(storePage(Buffer.concat([u32(XS.READ), u32(1), u32(0), u32(4097)]), 0))}`,
      `xs_rx ${hex(storePage(Buffer.concat([u32(99), u32(1), u32(0), u32(0)]), 0))}`,
      `xs_rx ${hex(storePage(Buffer.alloc(0), 0, 1025))}`,
    );
    expect(partial).toBe('end 0 118 18'); // header and 2 bytes taken, 3 to come
    expect(tooLong).toBe('end -1 16 16');
    expect(badType).toBe('end -1 16 16');
    expect(badIdx).toBe('end -1 0 0');
  });
});

describe('xenstore client against a simulated store (xs_client.c)', () => {
  it('reads, writes, lists and watches, with requests and replies larger than the 1 KiB rings', async () => {
    const out = await one(
      'xs_session write:domid=3 read:domid read:nokey write:device/vif/0/state=4 write:device/vbd/768/state=1 ' +
        'dir:device watch:control/shutdown:tok event event write:control/shutdown=poweroff event ' +
        'big:big=3000 read:big unwatch:control/shutdown:tok write:control/shutdown=x event big:huge=4090 big:huge=4092',
    );
    expect(out.split('; ')).toEqual([
      'write 0',
      'read 0 1:3',
      'read -2', // XS_ERROR "ENOENT"
      'write 0',
      'write 0',
      'dir 0 vif vbd',
      'watch 0',
      'event control/shutdown tok', // a watch fires once when set
      'event none',
      'write 0',
      'event control/shutdown tok',
      'big 0', // 3000-byte request through the 1 KiB request ring
      `read 0 3000:${'x'.repeat(40)}`, // and the reply through the response ring
      'unwatch 0',
      'write 0',
      'event none',
      'big 0', // payload of exactly 4095 bytes
      'big -7', // 4097: over XENSTORE_PAYLOAD_MAX, never sent
      'dropped 0 broken 0',
    ]);
  });

  it('keeps the oldest watch events when more arrive than it queues, and counts the rest', async () => {
    const out = await one(
      'xs_session watch:a:t1 write:a/1=x write:a/2=x write:a/3=x write:a/4=x write:a/5=x event event event event event',
    );
    expect(out.split('; ')).toEqual([
      'watch 0',
      'write 0',
      'write 0',
      'write 0',
      'write 0',
      'write 0',
      'event a t1',
      'event a/1 t1',
      'event a/2 t1',
      'event a/3 t1',
      'event none',
      'dropped 2 broken 0',
    ]);
  });
});

describe('console and xenstore rings (io/console.h, io/ring arithmetic)', () => {
  it('puts bytes across the wrap and publishes the producer index', async () => {
    const ring = Buffer.alloc(8, 0x2e);
    const out = await one(`ring_put 8 ${hex(ring)} 6 4 ${hex(Buffer.from('abcdef'))}`);
    // 2 used (indices 4, 5), room for 6: slots 6, 7, 0, 1, 2, 3 get 'abcdef'.
    const expectRing = Buffer.from('cdef..ab', 'latin1');
    expect(out).toBe(`6 ${hex(expectRing)} 12`);
  });

  it('stops when full, reads across the wrap, and refuses impossible indices', async () => {
    const ring = Buffer.from('cdef..ab', 'latin1');
    const [full, get, bad, badGet] = await run(
      `ring_put 8 ${hex(ring)} 12 4 ${hex(Buffer.from('x'))}`,
      `ring_get 8 ${hex(ring)} 6 12 100`,
      `ring_put 8 ${hex(ring)} 13 4 ${hex(Buffer.from('x'))}`,
      `ring_get 8 ${hex(ring)} 0 9 1`,
    );
    expect(full).toBe(`0 ${hex(ring)} 12`);
    expect(get).toBe(`6 ${hex(Buffer.from('abcdef'))} 12`);
    expect(bad).toBe(`-1 ${hex(ring)} 13`);
    expect(badGet).toBe('-1 - 0');
  });
});

describe('grant table v1 (grant_table.h)', () => {
  // struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; }
  const GTF_permit_access = 1;
  const GTF_readonly = 1 << 2;
  const GTF_reading = 1 << 3;
  const entry = (flags: number, domid: number, frame: number) =>
    hex(Buffer.concat([u16(flags), u16(domid), u32(frame)]));

  it('encodes read-only and writable grants', async () => {
    const [ro, rw] = await run('gnt_grant 5 0x12345 1', 'gnt_grant 0 0xfffff 0');
    expect(ro).toBe(entry(GTF_permit_access | GTF_readonly, 5, 0x12345));
    expect(rw).toBe(entry(GTF_permit_access, 0, 0xfffff));
  });

  it('ends access only when the peer does not map the frame', async () => {
    const [busy, done] = await run(
      `gnt_end ${entry(GTF_permit_access | GTF_reading, 1, 7)}`,
      `gnt_end ${entry(GTF_permit_access, 1, 7)}`,
    );
    expect(busy).toBe(`-1 ${entry(GTF_permit_access | GTF_reading, 1, 7)}`);
    expect(done).toBe(`0 ${entry(0, 1, 7)}`);
  });

  it('hands out references past the 8 reserved ones and catches bad frees', async () => {
    const out = await one('gnt_list 11 a a a a f9 f9 f3 f11 a');
    expect(out).toBe('free=3 8 9 10 -1 0 -1 -1 -1 9 free=0');
  });
});

describe('event channels, 2-level (event_channel.h, xen.h shared_info)', () => {
  // shared_info: vcpu_info[32] (64 bytes each: upcall_pending at 0, mask at 1,
  // pending_sel at 8), evtchn_pending[64] at 2048, evtchn_mask[64] at 2560.
  function page(opts: { pending: number[]; masked?: number[]; sel: number[] }): Buffer {
    const p = Buffer.alloc(3368);
    p[0] = 1;
    let sel = 0n;
    for (const w of opts.sel) sel |= 1n << BigInt(w);
    p.writeBigUInt64LE(sel, 8);
    const setBit = (off: number, port: number) => {
      const o = off + Math.floor(port / 64) * 8;
      p.writeBigUInt64LE(p.readBigUInt64LE(o) | (1n << BigInt(port % 64)), o);
    };
    for (const port of opts.pending) setBit(2048, port);
    for (const port of opts.masked ?? []) setBit(2560, port);
    return p;
  }

  it('handles pending unmasked ports of the selected words only, in order, reading one word per selector bit', async () => {
    // Port 130 is pending but its word (2) is not in the selector: not looked at.
    const p = page({ pending: [3, 70, 130, 4095], masked: [70], sel: [0, 1, 63] });
    const out = await one(`evtchn ${hex(p)} -1 -1`);
    const m = /^ports (.*) words (\d+) rounds (\d+) calls (\d+) sel (\w+) upcall (\d) pending (\w+)$/.exec(
      out,
    );
    expect(m, out).not.toBeNull();
    expect(m![1]).toBe('3,4095,');
    expect(m![2]).toBe('3');
    expect(m![3]).toBe('1');
    expect(m![5]).toBe('0');
    expect(m![6]).toBe('0');
    const after = Buffer.from(m![7]!, 'hex');
    expect(after.readBigUInt64LE(0)).toBe(0n); // 3 cleared
    expect(after.readBigUInt64LE(8)).toBe(1n << 6n); // 70 masked: still pending
    expect(after.readBigUInt64LE(16)).toBe(1n << 2n); // 130 untouched
    expect(after.readBigUInt64LE(63 * 8)).toBe(0n); // 4095 cleared
  });

  it('goes around again when an event arrives during a handler', async () => {
    const out = await one(`evtchn ${hex(page({ pending: [3], sel: [0] }))} 3 200`);
    expect(out).toMatch(/^ports 3,200, words 2 rounds 2 calls 2 sel 0 upcall 0 /);
  });

  it('unmask reports a port that became pending while masked', async () => {
    const [pend, quiet] = await run(
      `evtchn_unmask ${hex(page({ pending: [65], masked: [65], sel: [] }))} 65`,
      `evtchn_unmask ${hex(page({ pending: [], masked: [65], sel: [] }))} 65`,
    );
    expect(pend).toBe(`1 ${'0'.repeat(1024)}`);
    expect(quiet).toBe(`0 ${'0'.repeat(1024)}`);
  });
});

describe('hypercall arguments (xen.h, hvm/params.h, memory.h, grant_table.h)', () => {
  it('encodes the callback vector, HVM params, add_to_physmap and setup_table', async () => {
    const [cb, param, physmap, setup] = await run(
      'cbvec 0xf3',
      'hvm_param 0 0x02000000000000f3',
      'physmap 1 2 0x1234',
      'setup_table 4 0xffff800000001000',
    );
    // HVM_PARAM_CALLBACK_IRQ: type 2 (vector) in bits 63:56, vector in 7:0.
    expect(cb).toBe(hex(u64(0x02000000000000f3n)));
    expect(param).toBe('7ff0 00000000 02000000000000f3'); // DOMID_SELF
    // struct xen_add_to_physmap { domid_t domid; uint16_t size; unsigned space; xen_ulong_t idx; xen_pfn_t gpfn; }
    expect(physmap).toBe(hex(Buffer.concat([u16(0x7ff0), u16(0), u32(1), u64(2n), u64(0x1234n)])));
    expect(setup).toBe('7ff0 00000004 0000 ffff800000001000');
  });

  it('encodes multicall entries and finds the first failed call', async () => {
    const [mc, ok, failed] = await run(
      'mc 34 1 0x1000',
      `mc_failed ${hex(Buffer.concat([u64(34n), u64(0n), Buffer.alloc(48)]))}`,
      `mc_failed ${hex(Buffer.concat([u64(34n), u64(0n), Buffer.alloc(48), u64(34n), u64(-22n), Buffer.alloc(48)]))}`,
    );
    // struct multicall_entry { xen_ulong_t op, result; xen_ulong_t args[6]; }
    expect(mc).toBe(hex(Buffer.concat([u64(34n), u64(0n), u64(1n), u64(0x1000n), Buffer.alloc(32)])));
    expect(ok).toBe('-1');
    expect(failed).toBe('1');
  });
});

describe('hvm_start_info (arch-x86/hvm/start_info.h)', () => {
  const BASE = 0x10000n;
  // struct hvm_start_info: magic, version, flags, nr_modules (u32 each),
  // modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr (u64), memmap_entries, reserved.
  function startInfo(o: {
    magic?: number;
    version: number;
    modules: [bigint, bigint, bigint][];
    memmap: [bigint, bigint, number][];
    memmapAt?: bigint;
  }): Buffer {
    const mem = Buffer.alloc(4096);
    const modOff = 0x100;
    const mapOff = 0x200;
    const cmdOff = 0x400;
    mem.write('console=hvc0\0', cmdOff);
    Buffer.concat([
      u32(o.magic ?? 0x336ec578),
      u32(o.version),
      u32(0),
      u32(o.modules.length),
      u64(BASE + BigInt(modOff)),
      u64(BASE + BigInt(cmdOff)),
      u64(0xf0000n),
      u64(o.memmapAt ?? BASE + BigInt(mapOff)),
      u32(o.memmap.length),
      u32(0),
    ]).copy(mem, 0);
    o.modules.forEach(([pa, size, cmd], i) => {
      Buffer.concat([u64(pa), u64(size), u64(cmd), u64(0n)]).copy(mem, modOff + i * 32);
    });
    o.memmap.forEach(([addr, size, type], i) => {
      Buffer.concat([u64(addr), u64(size), u32(type), u32(0)]).copy(mem, mapOff + i * 24);
    });
    return mem;
  }

  it('reads the command line, every module and the memory map', async () => {
    const mem = startInfo({
      version: 1,
      modules: [
        [0x2000000n, 0x1234n, 0n],
        [0x3000000n, 0x100n, 0x10400n],
      ],
      memmap: [
        [0n, 0x9fc00n, 1],
        [0x100000n, 0x7f00000n, 1],
        [0xfc000000n, 0x1000n, 2],
        [0x100000000n, 0x1000000n, 7], // PMEM: not RAM for us
        [0x200000000n, 0n, 1], // empty: dropped
        [0xfffffffffffff000n, 0x2000n, 1], // wraps: dropped
      ],
    });
    const out = await one(`pvh ${BASE} ${hex(mem)} ${BASE}`);
    expect(out).toBe(
      'rc 0 version 1 cmdline 10400 rsdp f0000 modules 2 m:2000000:1234:0 m:3000000:100:10400 regions 4 trunc 0 r:0:9fc00:1 r:100000:7f00000:1 r:fc000000:1000:2 r:100000000:1000000:2',
    );
  });

  it('ignores the memory map in version 0 and rejects bad input', async () => {
    const v0 = startInfo({ version: 0, modules: [], memmap: [[0n, 0x1000n, 1]] });
    const badMagic = startInfo({ magic: 0x1234, version: 1, modules: [], memmap: [] });
    const farMap = startInfo({ version: 1, modules: [], memmap: [[0n, 0x1000n, 1]], memmapAt: 0x90000000n });
    const [a, b, c, d] = await run(
      `pvh ${BASE} ${hex(v0)} ${BASE}`,
      `pvh ${BASE} ${hex(badMagic)} ${BASE}`,
      `pvh ${BASE} ${hex(farMap)} ${BASE}`,
      `pvh ${BASE} ${hex(v0)} ${BASE + 4090n}`,
    );
    expect(a).toBe('rc 0 version 0 cmdline 10400 rsdp f0000 modules 0 regions 0 trunc 0');
    expect(b).toBe('rc -1');
    expect(c).toBe('rc -3');
    expect(d).toBe('rc -1'); // start_info running off the end of memory
  });
});

describe('pvclock (xen.h vcpu_time_info, as kvmclock)', () => {
  it('scales TSC deltas with mul and shift, and states the TSC rate', async () => {
    // 2.5 GHz: mul = 2^32 * 1e9 / 2.5e9 (shift 0); 1 GHz host as mul 2^31 shift 1.
    const mul = Number(((1n << 32n) * 1_000_000_000n) / 2_500_000_000n);
    const [a, b, c] = await run(
      `pvclock ${mul} 0 1000 5000000 2500001000`,
      'pvclock 0x80000000 1 100 5000 1100',
      'pvclock 0x80000000 -1 0 0 4000',
    );
    const ns = 5_000_000n + ((2_500_000_000n * BigInt(mul)) >> 32n);
    const hz = ((1_000_000_000n << 32n) / BigInt(mul)).toString();
    expect(a).toBe(`${ns} ${hz}`);
    expect(b).toBe('6000 1000000000');
    expect(c).toBe('1000 4000000000');
  });
});
