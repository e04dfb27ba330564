// Progress output: a bar on a terminal that is cleared at the end, JSON
// events with --json, nothing otherwise.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/progress.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream: w, text: () => text };
}

describe('progress', () => {
  it('draws a bar on a terminal and clears it', () => {
    const out = sink();
    const err = sink();
    const p = progress({ out: out.stream, err: err.stream, forceBar: true });
    p.step('arch/boot.S', 1, 4);
    p.step('lib/string.c', 4, 4);
    p.end();
    expect(out.text()).toBe('');
    expect(err.text()).toContain('[########......................] 1/4 arch/boot.S');
    expect(err.text()).toContain('[##############################] 4/4 lib/string.c');
    expect(err.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('prints newline-delimited JSON events with --json, no bar', () => {
    const out = sink();
    const err = sink();
    const p = progress({ json: true, out: out.stream, err: err.stream, forceBar: true });
    p.event('unit', { unit: 'a.c', done: 1, total: 2 });
    p.step('push', 10, 20);
    p.end();
    expect(err.text()).toBe('');
    expect(
      out
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { event: 'unit', unit: 'a.c', done: 1, total: 2 },
      { event: 'progress', label: 'push', done: 10, total: 20 },
    ]);
  });

  it('prints nothing when stderr is not a terminal and --json is off', () => {
    const out = sink();
    const err = sink();
    const p = progress({ out: out.stream, err: err.stream });
    p.step('x', 1, 2);
    p.event('unit', {});
    p.end();
    expect(out.text() + err.text()).toBe('');
  });
});
