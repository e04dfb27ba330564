// osvb inspect --html: the page renders in headless Chromium (Debian's
// chromium) and the totals it shows match the manifest.

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type Manifest, readManifest } from '../../src/kernel/manifest.js';
import { squarify } from '../../src/inspect/treemap.js';
import { buildFixture, tempDir } from '../kernel/helpers.js';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function chromium(dir: string, ...args: string[]): Promise<string> {
  const r = await execa('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${join(dir, 'profile')}`, ...args], {
    timeout: 90_000,
  });
  return r.stdout;
}

/** Distinct RGB(A) pixel values of a PNG (8-bit, no interlace), ignoring row filters' effect on exactness. */
function pngColours(png: Buffer): { width: number; height: number; colours: number } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const seen = new Set<string>();
  for (let i = 0; i + 3 < raw.length && seen.size < 1000; i += 997)
    seen.add(raw.subarray(i, i + 3).toString('hex'));
  return { width, height, colours: seen.size };
}

let dir: string;
let image: string;
let m: Manifest;

beforeAll(async () => {
  dir = await tempDir('osvb-html-');
  image = join(dir, 'image');
  await buildFixture({ cacheDir: join(dir, 'cache'), outDir: image });
  // Root filesystem entries for the page (the fixture kernel has none of its own).
  const built = await readManifest(image);
  const files = Array.from({ length: 40 }, (_, i) => ({
    path: `/app/file-${i}.bin`,
    kind: 'file' as const,
    size: 1000 + i * 250,
    mode: '0644',
  }));
  const sha = createHash('sha256').update('x').digest('hex');
  await writeFile(
    join(image, 'manifest.json'),
    JSON.stringify({
      ...built,
      rootfs: {
        file: 'rootfs.cpio',
        size: 1,
        sha256: sha,
        key: sha,
        command: ['/app/x'],
        files: [{ path: '/app', kind: 'dir', size: 0, mode: '0755' }, ...files],
      },
    }),
  );
  m = await readManifest(image);
});

describe('squarify', () => {
  it('fills the box exactly, each area in proportion', () => {
    const sizes = [6, 6, 4, 3, 2, 2, 1];
    const rects = squarify(sizes, { x: 0, y: 0, w: 6, h: 4 });
    const areas = rects.map((r) => r.w * r.h);
    for (const [i, a] of areas.entries()) expect(a).toBeCloseTo(sizes[i]!, 6);
    for (const r of rects) {
      expect(r.x).toBeGreaterThanOrEqual(-1e-9);
      expect(r.y).toBeGreaterThanOrEqual(-1e-9);
      expect(r.x + r.w).toBeLessThanOrEqual(6 + 1e-9);
      expect(r.y + r.h).toBeLessThanOrEqual(4 + 1e-9);
    }
  });
});

describe('osvb inspect --html', () => {
  it('renders in headless Chromium with totals that match the manifest', async () => {
    const page = join(dir, 'size.html');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'osvb', 'inspect', image, '--html', page])).toBe(0);
    } finally {
      out.mockRestore();
    }
    const html = await readFile(page, 'utf8');
    expect(html).not.toMatch(/<script|src=|href=/); // self-contained
    const dom = await chromium(dir, '--dump-dom', `file://${page}`);
    const kernelBytes = m.modules.reduce((s, x) => s + x.text + x.data, 0);
    const rootfsBytes = m.rootfs!.files.filter((f) => f.kind === 'file').reduce((s, f) => s + f.size, 0);
    const totals =
      /<p id="totals" data-kernel-bytes="(\d+)" data-rootfs-bytes="(\d+)" data-modules="(\d+)" data-files="(\d+)"/.exec(
        dom,
      );
    expect(totals).not.toBeNull();
    expect(Number(totals![1])).toBe(kernelBytes);
    expect(Number(totals![2])).toBe(rootfsBytes);
    expect(Number(totals![4])).toBe(40);
    // Every module and file has its rectangle, and the module's Kconfig symbol is on the page.
    const cells = [...dom.matchAll(/<g class="cell" data-label="([^"]*)" data-size="(\d+)"/g)];
    expect(cells).toHaveLength(Number(totals![3]) + 40);
    expect(cells.reduce((s, c) => s + Number(c[2]), 0)).toBe(kernelBytes + rootfsBytes);
    for (const mod of m.modules) {
      expect(mod.enabledBy).toBeTruthy();
      expect(dom).toContain(`CONFIG_${mod.enabledBy}`);
    }
    const png = join(dir, 'size.png');
    await chromium(dir, '--window-size=1240,900', `--screenshot=${png}`, `file://${page}`);
    const shot = pngColours(await readFile(png));
    expect(shot.width).toBe(1240);
    expect(shot.colours).toBeGreaterThan(10); // drawn, not a blank page
  });
});
