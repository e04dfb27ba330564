// The minimal /etc every image gets, and a user's files: entry winning over it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEtcFiles } from '../../src/fs/etc.js';
import { collectRootfs } from '../../src/fs/rootfs.js';
import type { RootfsFile } from '../../src/fs/tree.js';
import { compileC, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let prog: string;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('etc'));
  prog = compileC(dir, 'p', 'int main(void){return 0;}\n', ['-static'], 'musl-gcc');
});
afterAll(() => cleanup());

const text = (f: RootfsFile | undefined) => Buffer.from(f?.data ?? []).toString();

describe('/etc', () => {
  it('has passwd and group with root and nobody, hosts and nsswitch.conf; no resolv.conf without a network', async () => {
    const r = await collectRootfs({ exec: prog });
    const etc = new Map(
      r.entries
        .filter((e): e is RootfsFile => e.kind === 'file' && e.path.startsWith('/etc/'))
        .map((e) => [e.path, e]),
    );
    expect([...etc.keys()].sort()).toEqual(['/etc/group', '/etc/hosts', '/etc/nsswitch.conf', '/etc/passwd']);
    expect(text(etc.get('/etc/passwd'))).toMatch(/^root:x:0:0:.*\nnobody:x:65534:65534:/);
    expect(text(etc.get('/etc/group'))).toBe('root:x:0:\nnobody:x:65534:\n');
    expect(text(etc.get('/etc/hosts'))).toContain('127.0.0.1\tlocalhost\n');
    expect(text(etc.get('/etc/nsswitch.conf'))).toContain('hosts: files dns\n');
  });

  it('writes resolv.conf when the image has a network', () => {
    const f = defaultEtcFiles({ nameservers: ['10.0.2.3'] }).find((e) => e.path === '/etc/resolv.conf');
    expect(text(f)).toBe('nameserver 10.0.2.3\n');
  });

  it("a user's files: entry wins over the default file", async () => {
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, '10.0.0.1 db\n');
    const one = await collectRootfs({ exec: prog, files: new Map([['/etc/hosts', hosts]]) });
    const h = one.entries.find((e) => e.path === '/etc/hosts');
    expect(h?.kind === 'file' && h.source).toBe(hosts);
    expect(one.entries.some((e) => e.path === '/etc/passwd')).toBe(true);
  });
});
