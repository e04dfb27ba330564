import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputError } from '../../src/errors.js';
import {
  archiveSize,
  newcHeader,
  parseCpio,
  sourceDateEpoch,
  writeCpioArchive,
} from '../../src/fs/archive.js';
import type { RootfsEntry } from '../../src/fs/tree.js';
import { tempDir, unpackWithCpio } from './helpers.js';

let dir: string;
let cleanup: () => void;
let entries: RootfsEntry[];
let hostFile: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('archive'));
  hostFile = join(dir, 'host.txt');
  writeFileSync(hostFile, 'content from the host\n');
  utimesSync(hostFile, 1_700_000_000, 1_700_000_000);
  entries = [
    { kind: 'dir', path: '/app', mode: 0o755 },
    { kind: 'file', path: '/app/hello', mode: 0o755, size: 22, source: hostFile, origin: 'app.exec' },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
    { kind: 'symlink', path: '/lib', mode: 0o777, target: 'usr/lib', origin: 't' },
    { kind: 'dir', path: '/usr', mode: 0o755 },
    { kind: 'dir', path: '/usr/lib', mode: 0o755 },
    { kind: 'file', path: '/etc/empty', mode: 0o600, size: 0, data: new Uint8Array(), origin: 't' },
    { kind: 'dir', path: '/etc', mode: 0o755 },
    { kind: 'file', path: '/etc/gen', mode: 0o644, size: 5, data: Buffer.from('abcde'), origin: 't' },
    {
      kind: 'file',
      path: '/etc/patched',
      mode: 0o644,
      size: 22,
      source: hostFile,
      patch: { offset: 0, bytes: Buffer.from('CONTENT') },
      origin: 't',
    },
  ];
});
afterAll(() => cleanup());

describe('newc cpio writer', () => {
  it('writes what it was given: names, types, modes, data, link targets; parent directories first', async () => {
    const out = join(dir, 'a.cpio');
    const res = await writeCpioArchive(entries, out);
    const bytes = readFileSync(out);
    expect(res.size).toBe(bytes.length);
    expect(archiveSize(entries)).toBe(res.size); // what the memory check counts before writing
    expect(bytes.length % 4).toBe(0);
    const members = parseCpio(bytes, out);
    expect(members.map((m) => m.name)).toEqual([
      'app',
      'app/hello',
      'etc',
      'etc/empty',
      'etc/gen',
      'etc/patched',
      'lib',
      'tmp',
      'usr',
      'usr/lib',
    ]);
    const by = new Map(members.map((m) => [m.name, m]));
    expect(by.get('app')!.mode).toBe(0o040755);
    expect(by.get('app/hello')!.mode).toBe(0o100755);
    expect(by.get('app/hello')!.data.toString()).toBe('content from the host\n');
    expect(by.get('tmp')!.mode).toBe(0o041777);
    expect(by.get('lib')!.mode).toBe(0o120777);
    expect(by.get('lib')!.data.toString()).toBe('usr/lib');
    expect(by.get('etc/empty')!.data.length).toBe(0);
    expect(by.get('etc/patched')!.data.toString()).toBe('CONTENT from the host\n');
    expect(members.map((m) => m.ino)).toEqual(members.map((_m, i) => i + 1));
    expect(members.every((m) => m.uid === 0 && m.gid === 0)).toBe(true);
    // Host files keep their time; what osvb made gets the newest of them.
    expect(members.every((m) => m.mtime === 1_700_000_000)).toBe(true);
    expect(readFileSync(hostFile, 'utf8')).toBe('content from the host\n'); // the patch is not applied to the source
  });

  it('SOURCE_DATE_EPOCH sets every time; a malformed one is an error', async () => {
    const out = join(dir, 'sde.cpio');
    await writeCpioArchive(entries, out, { mtime: sourceDateEpoch({ SOURCE_DATE_EPOCH: '1234567890' }) });
    expect(parseCpio(readFileSync(out), out).every((m) => m.mtime === 1234567890)).toBe(true);
    expect(sourceDateEpoch({})).toBeUndefined();
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/not a number of seconds/);
  });

  it('is deterministic: the same entries in any order give the same bytes', async () => {
    const a = await writeCpioArchive(entries, join(dir, 'd1.cpio'));
    const b = await writeCpioArchive([...entries].reverse(), join(dir, 'd2.cpio'));
    expect(b.sha256).toBe(a.sha256);
    expect(readFileSync(join(dir, 'd1.cpio')).equals(readFileSync(join(dir, 'd2.cpio')))).toBe(true);
  });

  it('unpacks with the host cpio into the same tree', async () => {
    const out = join(dir, 'h.cpio');
    await writeCpioArchive(entries, out);
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: readFileSync(out), encoding: 'utf8' });
    expect(listing.trim().split('\n')).toHaveLength(entries.length);
    const dest = join(dir, 'unpacked');
    execFileSync('mkdir', ['-p', dest]);
    unpackWithCpio(out, dest);
    expect(readFileSync(join(dest, 'app/hello'), 'utf8')).toBe('content from the host\n');
    expect(statSync(join(dest, 'app/hello')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dest, 'etc/empty')).mode & 0o7777).toBe(0o600);
    expect(lstatSync(join(dest, 'lib')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dest, 'lib'))).toBe('usr/lib');
    expect(statSync(join(dest, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('leaves nothing behind when a source is missing, and keeps the previous archive', async () => {
    const out = join(dir, 'atomic.cpio');
    writeFileSync(out, 'previous archive');
    const broken: RootfsEntry[] = [
      ...entries,
      { kind: 'file', path: '/zz', mode: 0o644, size: 3, source: join(dir, 'vanished'), origin: 't' },
    ];
    const err = await writeCpioArchive(broken, out).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect(formatError(err as InputError)).toContain(join(dir, 'vanished'));
    expect(readFileSync(out, 'utf8')).toBe('previous archive');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a source that changed size since it was collected', async () => {
    const out = join(dir, 'changed.cpio');
    const changed: RootfsEntry[] = [
      { kind: 'file', path: '/x', mode: 0o644, size: 5, source: hostFile, origin: 't' },
    ];
    const err = await writeCpioArchive(changed, out).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as InputError).message).toContain('changed while the image was being built');
    expect(existsSync(out)).toBe(false);
  });
});

describe('newc cpio reader', () => {
  const good = (): Buffer =>
    Buffer.concat([
      newcHeader({ ino: 1, mode: 0o100644, nlink: 1, mtime: 0, size: 3, name: 'f' }),
      Buffer.from('abc\0'),
      newcHeader({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, name: 'TRAILER!!!' }),
    ]);

  it('reads a minimal archive', () => {
    expect(parseCpio(good(), 'g').map((m) => [m.name, m.data.toString()])).toEqual([['f', 'abc']]);
  });

  it('rejects malformed archives with one error naming the file and offset', () => {
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['no trailer', good().subarray(0, 116)],
      ['bad magic', Buffer.concat([Buffer.from('070707'), good().subarray(6)])],
      ['non-hex field', Buffer.concat([good().subarray(0, 6), Buffer.from('zzzzzzzz'), good().subarray(14)])],
    ];
    const huge = good();
    huge.write('7FFFFFFF', 6 + 6 * 8, 'latin1'); // filesize
    cases.push(['size past the end', huge]);
    const noNul = good();
    noNul[110 + 1] = 0x41; // the name's NUL
    cases.push(['unterminated name', noNul]);
    for (const evil of ['../etc/passwd', '/etc/passwd', 'a/../../b']) {
      cases.push([
        `name ${evil.replace(/\//g, '_')}`,
        Buffer.concat([
          newcHeader({ ino: 1, mode: 0o100644, nlink: 1, mtime: 0, size: 0, name: evil }),
          newcHeader({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, name: 'TRAILER!!!' }),
        ]),
      ]);
    }
    for (const [what, buf] of cases) {
      let err: unknown;
      try {
        parseCpio(buf, `/a/${what}`);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(InputError);
      expect(formatError(err as InputError), what).toMatch(
        new RegExp(`^osvb: /a/${what}: malformed cpio archive at byte \\d+`),
      );
    }
  });
});
