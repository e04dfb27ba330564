// Real processes (issue 11): fork with copy-on-write, parent and children
// running at once, execve, wait, process groups, orphans, on 2 vCPUs, with
// C programs, busybox, Python and Go. Each asserts on guest output and status.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, PROGRAMS, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir();
  image = await buildKernel(dir);
}, 300_000);

describe('processes', () => {
  it('pipes both ways past the pipe size, COW, MAP_SHARED, wait options, groups, orphans, vfork, exec from threads', async () => {
    const exe = compile(dir, 'procs.c', 'procs', 'musl-gcc', ['-static', '-lpthread']);
    const fs = await packRootfs(dir, 'procs', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
    expect(b.lines.filter((l) => l.startsWith('FAIL')), b.out).toEqual([]);
    for (const name of [
      'pipes_both_ways',
      'pipe_parent_writes_first',
      'cow_private',
      'map_shared_anonymous',
      'wait_stopped_continued',
      'waitid_nowait',
      'sigchld',
      'echild',
      'kill_process_group',
      'setsid',
      'orphan_reaped',
      'vfork',
      'exec_multithreaded',
    ]) {
      expect(b.lines, b.out).toContain(`ok ${name}`);
    }
    expect(b.lines).toContain('failures=0');
    expect(b.status).toBe(0);
  }, 180_000);
});
