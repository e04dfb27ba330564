import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inspectApp } from '../../src/fs/index.js';

describe('inspectApp', () => {
  it('gives kind none for a kernel-only image', async () => {
    expect(await inspectApp({})).toEqual({ kind: 'none', needed: [], go: false, python: false });
  });

  it('inspects the host python3 for runtime python', async () => {
    const req = await inspectApp({ runtime: 'python' });
    expect(req).toMatchObject({
      kind: 'dynamic',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      python: true,
      go: false,
    });
    expect(req.needed).toContain('libc.so.6');
  });

  it('inspects a program', async () => {
    expect(await inspectApp({ exec: '/bin/busybox' })).toEqual({
      kind: 'static',
      needed: [],
      go: false,
      python: false,
    });
  });

  it('fails with an InputError for a missing interpreter or program', async () => {
    await expect(inspectApp({ runtime: 'python', exec: '/nonexistent/python3' })).rejects.toThrow(InputError);
    await expect(inspectApp({ exec: '/nonexistent/app' })).rejects.toThrow(InputError);
  });
});
