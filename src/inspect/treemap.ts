// `osvb inspect --html`: one self-contained page (inline SVG and CSS, no
// script, nothing fetched) with a treemap of what makes up the image: kernel
// modules by the bytes they put in kernel.elf (text + data; bss is only
// memory), each labelled with the Kconfig symbol that built it, and the root
// filesystem's files. Rectangles come from the squarified layout (Bruls,
// Huizing, van Wijk), computed here so the page needs no JavaScript.

import type { Manifest } from '../kernel/manifest.js';

export interface Item {
  label: string;
  detail: string;
  size: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function worst(row: number[], side: number): number {
  const sum = row.reduce((a, b) => a + b, 0);
  const max = Math.max(...row);
  const min = Math.min(...row);
  return Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
}

/** Squarified treemap of positive sizes (sorted descending by the caller) into `box`. */
export function squarify(sizes: readonly number[], box: Rect): Rect[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: Rect[] = [];
  if (total <= 0) return sizes.map(() => ({ x: box.x, y: box.y, w: 0, h: 0 }));
  const scale = (box.w * box.h) / total;
  const areas = sizes.map((s) => s * scale);
  let { x, y, w, h } = box;
  let i = 0;
  while (i < areas.length) {
    const side = Math.min(w, h);
    const row = [areas[i]!];
    let j = i + 1;
    while (j < areas.length && worst([...row, areas[j]!], side) <= worst(row, side)) row.push(areas[j++]!);
    const sum = row.reduce((a, b) => a + b, 0);
    if (w >= h) {
      const cw = h > 0 ? sum / h : 0;
      let cy = y;
      for (const a of row) {
        const rh = cw > 0 ? a / cw : 0;
        out.push({ x, y: cy, w: cw, h: rh });
        cy += rh;
      }
      x += cw;
      w -= cw;
    } else {
      const rh = w > 0 ? sum / w : 0;
      let cx = x;
      for (const a of row) {
        const rw = rh > 0 ? a / rh : 0;
        out.push({ x: cx, y, w: rw, h: rh });
        cx += rw;
      }
      y += rh;
      h -= rh;
    }
    i = j;
  }
  return out;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function moduleItems(m: Manifest): Item[] {
  return m.modules
    .map((mod) => ({
      label: mod.enabledBy ? `${mod.name} ← ${mod.enabledBy}` : mod.name,
      detail: `${mod.enabledBy ? `CONFIG_${mod.enabledBy}` : 'Kconfig symbol not recorded'}; text ${mod.text}, data ${mod.data}, bss ${mod.bss} (memory only)`,
      size: mod.text + mod.data,
    }))
    .filter((i) => i.size > 0)
    .sort((a, b) => b.size - a.size);
}

export function fileItems(m: Manifest): Item[] {
  return (m.rootfs?.files ?? [])
    .filter((f) => f.kind === 'file' && f.size > 0)
    .map((f) => ({ label: f.path, detail: `mode ${f.mode}`, size: f.size }))
    .sort((a, b) => b.size - a.size);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function group(id: string, title: string, items: Item[], box: Rect, hue: number): string {
  const total = items.reduce((s, i) => s + i.size, 0);
  const head = 22;
  const inner: Rect = {
    x: box.x + 2,
    y: box.y + head,
    w: Math.max(0, box.w - 4),
    h: Math.max(0, box.h - head - 2),
  };
  const rects = squarify(
    items.map((i) => i.size),
    inner,
  );
  const cells = items
    .map((it, k) => {
      const r = rects[k]!;
      const light = 45 + ((k * 7) % 30);
      const label =
        r.w > 50 && r.h > 16
          ? `<text x="${(r.x + 4).toFixed(1)}" y="${(r.y + 13).toFixed(1)}" clip-path="url(#c-${id}-${k})">${esc(it.label)}</text>`
          : '';
      return `<g class="cell" data-label="${esc(it.label)}" data-size="${it.size}"><clipPath id="c-${id}-${k}"><rect x="${r.x.toFixed(1)}" y="${r.y.toFixed(1)}" width="${r.w.toFixed(1)}" height="${r.h.toFixed(1)}"/></clipPath><rect x="${r.x.toFixed(1)}" y="${r.y.toFixed(1)}" width="${r.w.toFixed(1)}" height="${r.h.toFixed(1)}" fill="hsl(${hue} 55% ${light}%)"><title>${esc(it.label)}: ${fmt(it.size)} bytes; ${esc(it.detail)}</title></rect>${label}</g>`;
    })
    .join('');
  return `<g id="${id}" data-total="${total}"><rect class="frame" x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}"/><text class="head" x="${box.x + 6}" y="${box.y + 16}">${esc(title)}: ${fmt(total)} bytes</text>${cells}</g>`;
}

/** The page for an image's manifest. */
export function treemapHtml(m: Manifest): string {
  const mods = moduleItems(m);
  const files = fileItems(m);
  const kernelBytes = mods.reduce((s, i) => s + i.size, 0);
  const rootfsBytes = files.reduce((s, i) => s + i.size, 0);
  const W = 1200;
  const H = 720;
  const total = kernelBytes + rootfsBytes;
  // The two groups side by side, widths in proportion (each at least a sliver when present).
  const kw =
    total === 0
      ? W
      : Math.round(Math.min(W - 160, Math.max(rootfsBytes ? 160 : W, (W * kernelBytes) / total)));
  const groups = [
    group('kernel', 'kernel modules (text + data)', mods, { x: 0, y: 0, w: rootfsBytes ? kw : W, h: H }, 210),
  ];
  if (rootfsBytes)
    groups.push(group('rootfs', 'root filesystem files', files, { x: kw, y: 0, w: W - kw, h: H }, 30));
  const rows = m.modules
    .map(
      (mod) =>
        `<tr><td>${esc(mod.name)}</td><td>${mod.enabledBy ? `CONFIG_${esc(mod.enabledBy)}` : '?'}</td><td>${fmt(mod.text)}</td><td>${fmt(mod.data)}</td><td>${fmt(mod.bss)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>osvb image ${esc(m.name)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222}
svg{display:block;border:1px solid #999;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#111;pointer-events:none}
svg text.head{font-weight:bold;font-size:13px}
rect.frame{fill:#eee;stroke:#666}
g.cell rect{stroke:#fff;stroke-width:1}
g.cell:hover rect{stroke:#000}
table{border-collapse:collapse;margin-top:12px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}
</style></head><body>
<h1>${esc(m.name)}</h1>
<p id="totals" data-kernel-bytes="${kernelBytes}" data-rootfs-bytes="${rootfsBytes}" data-modules="${mods.length}" data-files="${files.length}">
kernel modules: <b>${fmt(kernelBytes)}</b> bytes in ${mods.length} modules (kernel.elf ${fmt(m.kernel.size)} bytes with symbols, ${fmt(m.kernel.loadSize)} loaded);
root filesystem: <b>${fmt(rootfsBytes)}</b> bytes in ${files.length} files${m.rootfs ? ` (rootfs.cpio ${fmt(m.rootfs.size)} bytes)` : ''}.
config ${esc(m.configHash.slice(0, 16))}${m.builtAt ? `, built ${esc(m.builtAt)}` : ''}. Hover a rectangle for its size and the Kconfig symbol that pulled it in.</p>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${groups.join('')}</svg>
<table><thead><tr><th>module</th><th>pulled in by</th><th>text</th><th>data</th><th>bss</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
