// Debian's nginx and redis-server, unmodified, as examples/nginx and
// examples/redis run them: copied to a temp directory, booted with
// `osvb run --config app.yaml -p PORT:GUESTPORT`. The host GETs files from
// nginx (sha256 checked), PUTs 64 MiB through nginx's WebDAV module and GETs
// it back (sha256 checked), and speaks RESP to redis (SET/GET of a 1 MiB
// value, INCR, DEL). Both run without fork (master_process off, save ""), so
// the test stops them as a user would: Ctrl-C to osvb.

import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.js';
import { freePort, get, sha, startOsvb } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

function copyExample(name: string): string {
  const copy = join(dir, name);
  cpSync(join(EXAMPLES, name), copy, { recursive: true, filter: (src) => !/\/\.osvb$/.test(src) });
  return copy;
}

/** A RESP connection: one command at a time, replies parsed (bulk strings as Buffers). */
class Resp {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private closed: Error | undefined;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.waiting?.();
    });
    sock.on('close', () => {
      this.closed = new Error('redis closed the connection');
      this.waiting?.();
    });
    sock.on('error', () => undefined);
  }

  /** Connects, retried until `deadline` while the guest boots (slirp accepts before the guest does). */
  static async open(port: number, deadline: number): Promise<Resp> {
    for (;;) {
      const sock = connect(port, '127.0.0.1');
      const r = new Resp(sock);
      try {
        await new Promise<void>((res, rej) => {
          sock.once('connect', res);
          sock.once('error', rej);
        });
        if ((await r.cmd('PING')) === 'PONG') return r;
      } catch {
        // not up yet
      }
      sock.destroy();
      if (Date.now() > deadline) throw new Error('redis did not answer PING');
      await new Promise((res) => setTimeout(res, 1000));
    }
  }

  private async need(n: number): Promise<void> {
    while (this.buf.length < n) {
      if (this.closed) throw this.closed;
      await new Promise<void>((res) => (this.waiting = res));
    }
  }

  private async line(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return l;
      }
      await this.need(this.buf.length + 1);
    }
  }

  private async reply(): Promise<string | number | Buffer | null> {
    const l = await this.line();
    const body = l.slice(1);
    switch (l[0]) {
      case '+':
        return body;
      case '-':
        throw new Error(`redis: ${body}`);
      case ':':
        return Number(body);
      case '$': {
        const n = Number(body);
        if (n < 0) return null;
        await this.need(n + 2);
        const v = Buffer.from(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n + 2);
        return v;
      }
      default:
        throw new Error(`redis: unexpected reply ${JSON.stringify(l.slice(0, 40))}`);
    }
  }

  async cmd(...args: (string | Buffer)[]): Promise<string | number | Buffer | null> {
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    this.sock.write(Buffer.concat(parts));
    return this.reply();
  }

  close(): void {
    this.sock.destroy();
  }
}

describe('Debian servers, unmodified', () => {
  it('nginx: GET files (sha256), 64 MiB PUT through WebDAV and GET back (sha256)', async () => {
    const copy = copyExample('nginx');
    // A file that crosses many segments and nginx's sendfile path.
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) ^ (i >> 9);
    mkdirSync(join(copy, 'www/data'), { recursive: true });
    writeFileSync(join(copy, 'www/data/3m.bin'), big);
    const port = await freePort();
    const g = startOsvb(['run', '--config', join(copy, 'app.yaml'), '-p', `${port}:80`, '--timeout', '400']);
    const base = `http://127.0.0.1:${port}`;
    try {
      const index = await get(`${base}/index.html`, Date.now() + 200_000);
      expect(sha(index)).toBe(sha(readFileSync(join(EXAMPLES, 'nginx/www/index.html'))));
      expect(sha(await get(`${base}/data/3m.bin`, Date.now() + 10_000))).toBe(sha(big));
      const missing = await fetch(`${base}/nothing-here`, { signal: AbortSignal.timeout(20_000) });
      expect(missing.status).toBe(404);

      const body = randomBytes(64 << 20);
      const put = await fetch(`${base}/upload/64m.bin`, {
        method: 'PUT',
        body,
        signal: AbortSignal.timeout(240_000),
      });
      expect(put.status).toBe(201);
      const back = await fetch(`${base}/upload/64m.bin`, { signal: AbortSignal.timeout(240_000) });
      expect(back.status).toBe(200);
      const got = Buffer.from(await back.arrayBuffer());
      expect(got.length).toBe(body.length);
      expect(sha(got)).toBe(sha(body));
    } finally {
      await g.stop();
    }
    const out = g.output();
    expect(out).toMatch(/"GET \/index.html HTTP\/1.1" 200 /);
    expect(out).toMatch(/"PUT \/upload\/64m.bin HTTP\/1.1" 201 /);
    expect(out).toMatch(/"GET \/upload\/64m.bin HTTP\/1.1" 200 67108864 /);
    expect(out).not.toMatch(/\[(emerg|alert|crit)\]|panic/);
  }, 700_000);

  it('redis: SET/GET of a 1 MiB value, INCR, DEL over RESP', async () => {
    const copy = copyExample('redis');
    expect(existsSync(join(copy, 'redis.conf'))).toBe(true);
    const port = await freePort();
    const g = startOsvb([
      'run',
      '--config',
      join(copy, 'app.yaml'),
      '-p',
      `${port}:6379`,
      '--timeout',
      '300',
    ]);
    try {
      const r = await Resp.open(port, Date.now() + 200_000);
      const value = randomBytes(1 << 20);
      expect(await r.cmd('SET', 'blob', value)).toBe('OK');
      expect(await r.cmd('SET', 'greeting', 'hello from the host')).toBe('OK');
      const back = (await r.cmd('GET', 'blob')) as Buffer;
      expect(sha(back)).toBe(sha(value));
      expect(String(await r.cmd('GET', 'greeting'))).toBe('hello from the host');
      for (let i = 1; i <= 100; i++) expect(await r.cmd('INCR', 'counter')).toBe(i);
      expect(await r.cmd('DEL', 'blob')).toBe(1);
      expect(await r.cmd('GET', 'blob')).toBeNull();
      // A second client sees the first one's writes.
      const r2 = await Resp.open(port, Date.now() + 10_000);
      expect(String(await r2.cmd('GET', 'counter'))).toBe('100');
      r2.close();
      r.close();
    } finally {
      await g.stop();
    }
    const out = g.output();
    expect(out).toContain('Ready to accept connections');
    expect(out).not.toMatch(/panic/);
  }, 500_000);
});
