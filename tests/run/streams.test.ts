// osvb run as a program in a pipeline: the CLI (dist/, built here) runs as a
// child process, so its real stdin, stdout and stderr are checked byte for
// byte; -e, -w and -- change a built image without a rebuild; `osvb run
// ./program` needs no app.yaml; SIGKILL of osvb run leaves no QEMU behind.

import { execFileSync, spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeStdin } from '../../src/drivers/console.js';
import { newRunDir, removeStaleRuns } from '../../src/hypervisor/rundir.js';
import { tempDir } from '../kernel/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OSVB = join(ROOT, 'bin/osvb.js');
let dir: string;
let prog: string;

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs `osvb ARGS` with stdin; resolves with its exit status and exact output bytes. */
function osvb(args: string[], stdin?: Buffer, cwd = dir): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [OSVB, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', rej);
    child.on('close', (status) => res({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

beforeAll(async () => {
  // The CLI runs from dist/: compile what this checkout has.
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json')]);
  dir = await tempDir('osvb-streams-');
  prog = join(dir, 'streams');
  execFileSync('musl-gcc', ['-static', '-O1', '-o', prog, join(import.meta.dirname, 'programs/streams.c')]);
}, 300_000);

describe("the program's own streams", () => {
  it('osvb run ./program: stdout carries all 256 byte values exactly, stderr its own bytes, no kernel text', async () => {
    const r = await osvb(['run', './streams', '--timeout', '120', '--', 'bytes']);
    const all = Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff));
    expect(r.stderr.toString('latin1')).toBe('err:\r\n\xff\x00');
    expect(r.stdout.equals(all)).toBe(true);
    expect(r.status).toBe(0);
  }, 300_000);

  it('forwards piped stdin, every byte value, with its end of file', async () => {
    const input = Buffer.concat([Buffer.from('a\nb\n'), Buffer.from([0xff, 0x00, 0xff, 0xff, 0x0d, 0x80])]);
    const r = await osvb(['run', './streams', '--timeout', '120', '--', 'cat'], input);
    expect(r.stdout.equals(input)).toBe(true);
    expect(r.stderr.toString()).toBe(`read ${input.length} bytes, then EOF\n`);
    expect(r.status).toBe(3);
  }, 120_000);

  it('input arriving later wakes a poll() on stdin that has no timeout; FIONREAD counts it', async () => {
    const child = spawn(process.execPath, [OSVB, 'run', './streams', '--timeout', '120', '--', 'poll'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    await new Promise<void>((res) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('polling\n')) res();
      });
    });
    // The guest is inside poll() (or about to be) with nothing to read.
    await new Promise((res) => setTimeout(res, 500));
    child.stdin.write('late\n');
    expect(await exited).toBe(0);
    expect(out).toBe('polling\npoll 1 revents 0x1 pending>0 1 line late\n');
  }, 120_000);

  it("claims a terminal only when osvb's stdout is one", async () => {
    const piped = await osvb(['run', './streams', '--timeout', '120', '--', 'tty']);
    expect(piped.stdout.toString()).toBe('isatty 0 0 0 winsize -1 0x0\n');
    // script(1) gives osvb a pseudo-terminal of 30 rows and 100 columns; a host /dev
    // without a usable pty (a mount-namespace copy such as without-kvm's) cannot.
    if (spawnSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' }).status !== 0) return;
    const cmd = `stty rows 30 cols 100; ${process.execPath} ${OSVB} run ./streams --timeout 120 -- tty`;
    const out = execFileSync('script', ['-qec', cmd, '/dev/null'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out.toString()).toContain('isatty 1 1 1 winsize 0 30x100');
  }, 120_000);

  it('-e, -w and -- replace the environment, working directory and arguments without a rebuild', async () => {
    await writeFile(
      join(dir, 'app.yaml'),
      'name: where\napp:\n  exec: streams\n  args: [where, from-yaml]\n  env: { MODE: yaml }\n  workdir: /app\n',
    );
    const plain = await osvb(['run', '--config', 'app.yaml', '--timeout', '120']);
    expect(plain.stdout.toString()).toBe(
      'cwd=/app\nargv[0]=/app/streams\nargv[1]=where\nargv[2]=from-yaml\nMODE=yaml\n',
    );
    const image = join(dir, '.osvb/where');
    const before = readFileSync(join(image, 'manifest.json'), 'utf8');
    const r = await osvb([
      'run',
      image,
      '-e',
      'MODE=flag',
      '-w',
      '/tmp',
      '--timeout',
      '120',
      '--',
      'where',
      'two words',
    ]);
    expect(r.stdout.toString()).toBe(
      'cwd=/tmp\nargv[0]=/app/streams\nargv[1]=where\nargv[2]=two words\nMODE=flag\n',
    );
    expect(r.status).toBe(0);
    expect(readFileSync(join(image, 'manifest.json'), 'utf8')).toBe(before);
  }, 300_000);

  it('refuses a working directory the image does not have, and a file that is not a program', async () => {
    const r = await osvb(['run', join(dir, '.osvb/where'), '-w', '/nope']);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toBe(
      'osvb: -w /nope: no such directory in the image; osvb inspect IMAGE lists its files\n',
    );
    await writeFile(join(dir, 'main.py'), '#!/usr/bin/env python3\nprint(1)\n');
    const py = await osvb(['run', './main.py']);
    expect(py.status).toBe(1);
    expect(py.stderr.toString()).toMatch(
      /^osvb: \.\/main\.py is not an image directory or a Linux program \(ELF\); .*runtime: python/,
    );
  }, 120_000);
});

describe('runs clean up after themselves', () => {
  it('SIGKILL of osvb run takes QEMU with it', async () => {
    const child = spawn(process.execPath, [OSVB, 'run', './streams', '--', 'cat'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The guest copies stdin to stdout: an echo proves QEMU is up and running.
    child.stdin.write('ping\n');
    await new Promise<void>((res) => {
      let seen = '';
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('ping')) res();
      });
    });
    const kids = (pid: number) =>
      readdirSync(`/proc/${pid}/task`).flatMap((t) =>
        readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
      );
    const qemu = kids(child.pid!);
    expect(qemu.length).toBe(1);
    expect(readFileSync(`/proc/${qemu[0]}/cmdline`, 'utf8')).toContain('qemu-system-x86_64');
    child.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    // Gone, or a zombie waiting for its new parent to reap it: either way not running.
    const state = () => {
      try {
        return readFileSync(`/proc/${qemu[0]}/stat`, 'utf8').split(') ')[1]?.[0] ?? 'gone';
      } catch {
        return 'gone';
      }
    };
    while (!['gone', 'Z'].includes(state()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(['gone', 'Z']).toContain(state());
  }, 120_000);

  it('a later run removes the run directories of osvb processes that are gone', async () => {
    const root = join(dir, 'runs');
    await mkdir(root, { mode: 0o700 });
    await mkdir(join(root, '999999999-dead'));
    await writeFile(join(root, '999999999-dead', 'exit'), '');
    const mine = newRunDir(root);
    expect(existsSync(join(root, '999999999-dead'))).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(removeStaleRuns(root)).toEqual([]); // this process is alive: its directory stays
  });

  it('frames stdin: 0xff doubled, the rest as is', () => {
    expect([...encodeStdin(Buffer.from([1, 0xff, 2, 0xff]))]).toEqual([1, 0xff, 0xff, 2, 0xff, 0xff]);
    expect([...encodeStdin(Buffer.from('abc'))]).toEqual([0x61, 0x62, 0x63]);
  });
});
