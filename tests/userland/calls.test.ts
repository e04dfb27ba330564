// The newer Linux calls (tests/userland/programs/calls.c, which passes on the
// host too): sigwait family, POSIX timers, timerfd, signalfd, memfd sealing,
// capabilities, protection keys, mlock, scheduling policy, prctl, inotify.

import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir();
  image = await buildKernel(dir);
}, 300_000);

describe('newer Linux calls', () => {
  it('calls.c: every check passes in the guest (glibc, static)', async () => {
    const exe = compile(dir, 'calls.c', 'calls', 'gcc', ['-static', '-lpthread']);
    const fs = await packRootfs(dir, 'calls', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
    expect(b.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const name of [
      'sigwait',
      'sigtimedwait_timeout',
      'sigqueue_sigwaitinfo',
      'sigtimedwait_from_thread',
      'timer_signal_realtime',
      'timer_signal_monotonic',
      'timer_signal_process_cputime',
      'timer_overrun',
      'timer_sigev_thread_id',
      'timer_sigev_none_abstime',
      'timerfd_epoll',
      'timerfd_blocking_abstime',
      'signalfd_epoll',
      'signalfd_read',
      'signalfd_blocking_read',
      'memfd_seal_write',
      'memfd_seal_grow_write',
      'capget',
      'pkey_mprotect_default_key',
      'mlockall',
      'sched_setscheduler_fifo',
      'prctl_pdeathsig',
      'prctl_no_new_privs',
      'inotify_events',
      'inotify_file_watch',
      'pipe_set_size',
      'dnotify_sigio',
      'thread_cpu_clock_id',
      'sched_rr_get_interval',
      'set_ids_to_root',
      'sa_restart_read_restarted',
      'no_sa_restart_read_eintr',
    ]) {
      expect(b.lines).toContain(`ok ${name}`);
    }
    // Root with every capability Linux 6.1 has (0..40), and no protection keys.
    expect(b.lines).toContain('caps effective=ffffffff,1ff permitted=ffffffff,1ff');
    expect(b.lines).toContain('pkey_alloc errno ENOSPC');
    expect(b.out).not.toMatch(/unimplemented syscall/);
    expect(b.lines).toContain('done failures=0');
    expect(b.status).toBe(0);
  }, 180_000);

  // Ruby's timer thread uses timer_create with SIGEV_THREAD_ID; without it,
  // ruby warns "timer_create failed: signals racy" on stderr.
  it.skipIf(!existsSync('/usr/bin/ruby'))(
    "Debian's ruby starts without the timer_create warning",
    async () => {
      const files = new Map([
        ['/usr/lib/ruby', '/usr/lib/ruby'],
        ['/usr/lib/x86_64-linux-gnu/ruby', '/usr/lib/x86_64-linux-gnu/ruby'],
      ]);
      const fs = await packRootfs(dir, 'ruby', {
        exec: '/usr/bin/ruby',
        execGuestPath: '/usr/bin/ruby',
        files,
      });
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['-e', 'p 1; $stderr.puts :err_ok']), {
        memory: '512M',
        cpus: 2,
      });
      expect(b.lines).toContain('1');
      expect(b.lines).toContain('err_ok');
      expect(b.out).not.toMatch(/timer_create|signals racy|unimplemented syscall/);
      expect(b.status).toBe(0);
    },
    240_000,
  );
});
