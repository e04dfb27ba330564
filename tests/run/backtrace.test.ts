import { describe, expect, it } from 'vitest';
import { BacktraceRewriter } from '../../src/kernel/symbolize.js';

describe('backtrace rewriting of guest output', () => {
  const text = 'osvb: backtrace:\r\n  [<ffffffff8010bc95>]\r\nafter\r\n';
  const expected = 'osvb: backtrace:\r\n  [<ffffffff8010bc95>] fn+0x5 (a.c:1)\nafter\r\n';

  it('symbolizes a frame line however the serial output is split into chunks', async () => {
    for (let cut = 0; cut <= text.length; cut++) {
      let out = '';
      const rw = new BacktraceRewriter(
        async (addr) => (addr === 0xffffffff8010bc95n ? 'fn+0x5 (a.c:1)' : undefined),
        (s) => {
          out += s;
        },
      );
      rw.push(text.slice(0, cut));
      rw.push(text.slice(cut));
      await rw.end();
      expect(out, `split at ${cut}`).toBe(expected);
    }
  });
});
