// Real, unmodified Linux programs booted on the osvb kernel under QEMU (TCG):
// static musl and dynamic glibc C programs, Debian's busybox, a Go program and
// Debian's python3. Each asserts on the guest's output and its exit status.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, PROGRAMS, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir();
  image = await buildKernel(dir);
}, 300_000);

describe('C programs', () => {
  it('static musl hello: argv, environment and exit status 7', async () => {
    const exe = compile(dir, 'hello.c', 'hello-static', 'musl-gcc', ['-static']);
    const fs = await packRootfs(dir, 'hello-static', { exec: exe });
    expect(fs.command).toEqual(['/app/hello-static']);
    const b = await boot(
      image,
      fs.archive,
      execCmdline(fs.command, ['two words', '7'], ['GREETING=hi there']),
    );
    expect(b.lines).toContain('argc=3');
    expect(b.lines).toContain('argv[0]=/app/hello-static');
    expect(b.lines).toContain('argv[1]=two words');
    expect(b.lines).toContain('argv[2]=7');
    expect(b.lines).toContain('env GREETING=hi there');
    expect(b.lines).toContain('env HOME=/');
    expect(b.status).toBe(7);
  }, 120_000);

  it('dynamic glibc hello through ld-linux-x86-64.so.2 from the rootfs', async () => {
    const exe = compile(dir, 'hello.c', 'hello-dynamic', 'gcc');
    const fs = await packRootfs(dir, 'hello-dynamic', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command, ['x', '9'], ['A=1']));
    expect(b.lines).toContain('argv[0]=/app/hello-dynamic');
    expect(b.lines).toContain('argv[2]=9');
    expect(b.lines).toContain('env A=1');
    expect(b.out).not.toMatch(/unimplemented syscall/);
    expect(b.status).toBe(9);
  }, 120_000);

  it('static-pie (glibc) and dynamic musl (its loader from the rootfs)', async () => {
    const spie = compile(dir, 'hello.c', 'hello-static-pie', 'gcc', ['-static-pie']);
    const fs1 = await packRootfs(dir, 'hello-static-pie', { exec: spie });
    const b1 = await boot(image, fs1.archive, execCmdline(fs1.command, ['11']));
    expect(b1.lines).toContain('argv[1]=11');
    expect(b1.status).toBe(11);
    const mdyn = compile(dir, 'hello.c', 'hello-musl-dynamic', 'musl-gcc');
    const fs2 = await packRootfs(dir, 'hello-musl-dynamic', { exec: mdyn });
    const b2 = await boot(image, fs2.archive, execCmdline(fs2.command, ['12']));
    expect(b2.lines).toContain('argv[0]=/app/hello-musl-dynamic');
    expect(b2.status).toBe(12);
  }, 120_000);

  it('the ABI checks pass: EFAULT, ENOSYS, files, mmap, signals, threads, futexes, pipes, poll, epoll', async () => {
    const exe = compile(dir, 'abi.c', 'abi', 'musl-gcc', ['-static', '-lpthread']);
    const fs = await packRootfs(dir, 'abi', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command));
    const failed = b.lines.filter((l) => l.startsWith('FAIL'));
    expect(failed).toEqual([]);
    for (const name of [
      'efault_write',
      'enosys',
      'fork_wait',
      'sigsegv_null',
      'pthreads_mutex',
      'epoll_wait_thread_wakeup',
    ]) {
      expect(b.lines).toContain(`ok ${name}`);
    }
    // Reported once, by number and name, with the program.
    expect(b.lines.filter((l) => l === 'osvb: unimplemented syscall 163 (acct) by abi')).toHaveLength(1);
    expect(b.lines).toContain('failures=0');
    expect(b.status).toBe(0);
  }, 120_000);

  it('the ABI checks pass with glibc too (dynamic, its fork is clone with CHILD_SETTID)', async () => {
    const exe = compile(dir, 'abi.c', 'abi-glibc', 'gcc', ['-lpthread']);
    const fs = await packRootfs(dir, 'abi-glibc', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command));
    expect(b.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(b.lines).toContain('ok fork_wait');
    expect(b.lines).toContain('failures=0');
    expect(b.status).toBe(0);
  }, 120_000);

  it('pthread_exit and pthread_cancel work (glibc dlopens libgcc_s.so.1, which the rootfs carries)', async () => {
    const exe = compile(dir, 'threadexit.c', 'threadexit', 'gcc', ['-lpthread']);
    const fs = await packRootfs(dir, 'threadexit', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command));
    expect(b.lines).toContain('pthread_exit: joined 42');
    expect(b.lines).toContain('pthread_cancel: canceled');
    expect(b.status).toBe(0);
  }, 180_000);

  it('survives 20000 system calls with random arguments and pointers (3 seeds)', async () => {
    const exe = compile(dir, 'fuzz.c', 'fuzz', 'musl-gcc', ['-static']);
    const fs = await packRootfs(dir, 'fuzz', { exec: exe });
    for (const seed of ['1', '2', '3']) {
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['20000', seed]));
      expect(b.out, `seed ${seed}`).toMatch(/fuzz: \d+ calls survived/);
      expect(b.out).not.toMatch(/osvb-panic|kernel exception|panic:/);
      expect(b.status).toBe(0);
    }
  }, 300_000);

  it('a malformed initrd stops the boot with one line naming the offset', async () => {
    const fs = await packRootfs(dir, 'to-corrupt', { exec: join(dir, 'hello-static') });
    const bytes = await readFile(fs.archive);
    // Turn the size field of the second member into something far too large.
    const second = bytes.indexOf('070701', 1);
    bytes.write('7FFFFFFF', second + 6 + 8 * 6, 'latin1');
    const bad = join(dir, 'corrupt.cpio');
    await writeFile(bad, bytes);
    const b = await boot(image, bad, execCmdline(fs.command));
    expect(b.out).toMatch(
      /initrd: malformed archive at offset \d+: file data runs past the end of the archive/,
    );
    expect(b.record).toContain('osvb-panic');
  }, 120_000);

  it('osvb.strace=1 prints each call with its arguments and result', async () => {
    const exe = join(dir, 'hello-static');
    const fs = await packRootfs(dir, 'strace', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command, ['3'], [], 'osvb.strace=1'));
    expect(b.out).toMatch(/^\[1\] arch_prctl\(0x1002, 0x[0-9a-f]+\) = 0$/m);
    expect(b.out).toMatch(/^\[1\] exit_group\(0x3\) \.\.\.$/m);
    expect(b.status).toBe(3);
  }, 120_000);

  it('a missing program exits 127, a malformed ELF 126, each with one line', async () => {
    const bad = join(dir, 'bad-elf');
    // An ELF header whose program headers lie outside the file.
    const hdr = Buffer.alloc(64);
    hdr.write('\x7fELF', 0, 'latin1');
    hdr[4] = 2;
    hdr[5] = 1;
    hdr[6] = 1;
    hdr.writeUInt16LE(2, 16);
    hdr.writeUInt16LE(62, 18);
    hdr.writeUInt32LE(1, 20);
    hdr.writeBigUInt64LE(0x400000n, 24);
    hdr.writeBigUInt64LE(0x10000n, 32);
    hdr.writeUInt16LE(56, 54);
    hdr.writeUInt16LE(1, 56);
    await writeFile(bad, hdr, { mode: 0o755 });
    const fs = await packRootfs(dir, 'bad', {
      files: new Map([['/app/bad', bad]]),
      exec: join(dir, 'hello-static'),
    });
    const b1 = await boot(image, fs.archive, 'osvb.exec=/app/bad');
    expect(b1.out).toContain('osvb: /app/bad: cannot execute: program headers lie outside the file');
    expect(b1.status).toBe(126);
    const b2 = await boot(image, fs.archive, 'osvb.exec=/app/nothing-here');
    expect(b2.out).toContain('osvb: cannot run /app/nothing-here: no such file');
    expect(b2.status).toBe(127);
  }, 120_000);
});

describe('busybox (Debian busybox-static)', () => {
  it.skipIf(!existsSync('/bin/busybox'))(
    'runs echo, ls -l /, cat, sha256sum, seq, sort; sh with exec, pipelines and subshells',
    async () => {
      const data = join(dir, 'data.txt');
      await writeFile(data, 'banana\napple\ncherry\n');
      const script = join(dir, 'script.sh');
      await writeFile(script, '#!/app/busybox sh\necho script $0 $1 $2\nexit 4\n', { mode: 0o755 });
      const fs = await packRootfs(dir, 'busybox', {
        exec: '/bin/busybox',
        files: new Map([
          ['/data/fruit.txt', data],
          ['/data/script.sh', script],
        ]),
      });
      const run = async (args: string[]) => boot(image, fs.archive, execCmdline(fs.command, args));
      const echo = await run(['echo', 'hello', 'busybox']);
      expect(echo.lines).toContain('hello busybox');
      expect(echo.status).toBe(0);
      const ls = await run(['ls', '-l', '/']);
      expect(ls.out).toMatch(/^d[rwx-]{9}\s+\d+\s+(0|root)\s+(0|root)\s+\d+ .* data$/m);
      expect(ls.out).toMatch(/ dev$/m);
      const cat = await run(['cat', '/data/fruit.txt']);
      expect(cat.out).toContain('banana\napple\ncherry\n');
      const sum = await run(['sha256sum', '/data/fruit.txt']);
      const want = execFileSync('sha256sum', [data], { encoding: 'utf8' }).split(' ')[0];
      expect(sum.out).toContain(`${want}  /data/fruit.txt`);
      const seq = await run(['seq', '3']);
      expect(seq.out).toContain('1\n2\n3\n');
      const sort = await run(['sort', '/data/fruit.txt']);
      expect(sort.out).toContain('apple\nbanana\ncherry\n');
      const fail = await run(['cat', '/no/such/file']);
      expect(fail.status).toBe(1);
      // execve from the shell into a "#!" script, and a script as osvb.exec itself.
      const sh = await run(['sh', '-c', 'echo in sh; exec /data/script.sh a b']);
      expect(sh.lines, sh.out).toContain('in sh');
      expect(sh.lines, sh.out).toContain('script /data/script.sh a b');
      expect(sh.status).toBe(4);
      // Pipelines, command substitution and subshells (real processes).
      const pipe = await run([
        'sh',
        '-c',
        'ls /data | wc -l; x=$(seq 3); echo x=$x; (exit 3); echo sub=$?; sort /data/fruit.txt | head -1',
      ]);
      expect(pipe.lines, pipe.out).toContain('2');
      expect(pipe.lines).toContain('x=1 2 3');
      expect(pipe.lines).toContain('sub=3');
      expect(pipe.lines).toContain('apple');
      expect(pipe.status).toBe(0);
      const direct = await boot(image, fs.archive, execCmdline(['/data/script.sh'], ['x', 'y']));
      expect(direct.lines).toContain('script /data/script.sh x y');
      expect(direct.status).toBe(4);
    },
    300_000,
  );
});

describe("Debian's bash and coreutils (dynamic glibc)", () => {
  it.skipIf(!existsSync('/bin/bash'))(
    'bash loops, arithmetic, $(...) of 300 KiB through a pipe, sort',
    async () => {
      const big = join(dir, 'big.bin');
      await writeFile(big, Buffer.alloc(300 * 1024, 'abcdefgh'));
      const want = execFileSync('sha256sum', [big], { encoding: 'utf8' }).split(' ')[0];
      const fs = await packRootfs(dir, 'bash', {
        exec: '/bin/bash',
        execGuestPath: '/bin/bash',
        files: new Map([
          ['/bin/cat', '/bin/cat'],
          ['/usr/bin/sort', '/usr/bin/sort'],
          ['/usr/bin/sha256sum', '/usr/bin/sha256sum'],
          ['/data/big.bin', big],
        ]),
      });
      const script = [
        'for i in 1 2 3; do echo n=$i; done',
        'echo $((6*7))',
        // No double quotes: the kernel command line cannot carry them.
        'x=$(cat /data/big.bin | sha256sum); set -- $x; echo sum $1',
        '(echo b; echo a; echo c) | sort',
        'exit 6',
      ].join('; ');
      const b = await boot(
        image,
        fs.archive,
        execCmdline(fs.command, ['-c', script], ['PATH=/bin:/usr/bin']),
      );
      expect(b.lines, b.out).toContain('n=3');
      expect(b.lines).toContain('42');
      expect(b.lines).toContain(`sum ${want}`);
      expect(b.out).toContain('a\nb\nc\n');
      expect(b.status).toBe(6);
    },
    180_000,
  );
});

describe('Go', () => {
  it.skipIf(!existsSync('/usr/bin/go') && !existsSync('/usr/lib/go/bin/go'))(
    'goroutines, channels, mutexes, sleep, file I/O and a recovered nil dereference',
    async () => {
      const exe = join(dir, 'gohello');
      execFileSync('go', ['build', '-o', exe, '.'], {
        cwd: join(PROGRAMS, 'gohello'),
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const fs = await packRootfs(dir, 'go', { exec: exe });
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['a', 'b']));
      expect(b.lines).toContain('hello from Go [a b]');
      expect(b.lines).toContain('sum 14');
      expect(b.lines).toContain('count 80000');
      expect(b.lines).toContain('slept true');
      expect(b.lines).toContain('read data123 <nil>');
      expect(b.lines).toContain(
        'recovered: runtime error: invalid memory address or nil pointer dereference',
      );
      expect(b.status).toBe(3);
    },
    300_000,
  );
});

describe('Python', () => {
  it.skipIf(!existsSync('/usr/bin/python3'))(
    "Debian's python3: json, re, threading, hashlib and /tmp",
    async () => {
      const fs = await packRootfs(dir, 'python', {
        runtime: 'python',
        exec: '/usr/bin/python3',
        script: join(PROGRAMS, 'script.py'),
      });
      const b = await boot(image, fs.archive, execCmdline(fs.command), {
        memory: '512M',
        timeoutSeconds: 240,
      });
      expect(b.out).toMatch(/^python 3\.\d+\.\d+$/m);
      expect(b.lines).toContain('{"a": [1, 2, 3], "b": "x"} True');
      expect(b.lines).toContain("['1', '22', '333']");
      expect(b.lines).toContain('[0, 499500, 1999000, 4498500]');
      expect(b.lines).toContain('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(b.lines).toContain("hello tmp ['f.txt']");
      expect(b.status).toBe(5);
    },
    300_000,
  );
});
