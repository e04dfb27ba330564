/* linux-private: helpers shared by the newer calls (sigwait, POSIX timers,
 * timerfd, signalfd, memfd, inotify), kept apart from internal.h. */
#ifndef LINUX_CALLS_H
#define LINUX_CALLS_H

#include "internal.h"

#define SI_QUEUE (-1)
#define SI_TIMER (-2)

/* Take the lowest pending signal of set: the calling thread's own first,
 * else one sent to the process (kill, timers) that landed on another thread.
 * Returns the signal number with *out filled, or 0. */
int sig_dequeue(uint64_t set, struct ksiginfo *out);
/* Whether sig_dequeue(set) would find something. */
bool sig_peek(uint64_t set);
/* Send a process-directed signal to p (taking procs_lock): to a thread that
 * does not block it, else the first; nothing for a process that has ended. */
int signal_to_process(struct process *p, int sig, const struct ksiginfo *info);
/* The same for the process with this pid; -ESRCH when there is none. */
int signal_to_pid(int pid, int sig, const struct ksiginfo *info);
/* Send to the thread tid of process p; -ESRCH when there is none. */
int signal_to_thread(struct process *p, int tid, int sig, const struct ksiginfo *info);
/* Is tid a thread of the calling process? */
bool thread_exists(int tid);

/* A new thread or process takes over what prctl and sched_setscheduler set
 * (all but the parent-death signal), as on Linux (caps.c). */
void prctl_inherit(struct uthread *child, const struct uthread *parent);

/* POSIX timers of p end (exit, exec). */
void posix_timers_release(struct process *p);

/* Timers (posix_timer.c). */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9

struct kitimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

/* sec:nsec in ns, saturated far below overflow. */
uint64_t timespec_ns(int64_t sec, int64_t nsec);
/* The current reading of a clock a timer may use; -EINVAL for others. */
int timer_clock_now(int clock, uint64_t *ns);
/* Read and check an itimerspec from user memory. */
int itimerspec_from_user(uint64_t uaddr, struct kitimerspec *its);
/* value (relative, or absolute on clock when abs) as a monotonic deadline;
 * 0 for a zero value (disarm). */
uint64_t timer_deadline(int clock, bool abs, const struct kitimerspec *its);
/* Fill the value/interval of *its from a monotonic deadline (0 = disarmed). */
void itimerspec_fill(struct kitimerspec *its, uint64_t deadline, uint64_t interval);

/* Pipe capacity (sys_poll.c): F_GETPIPE_SZ, or F_SETPIPE_SZ to want bytes. */
long pipe_size(struct file *f, bool set, uint64_t want);

/* fcntl F_NOTIFY (inotify.c): SIGIO for changes in the directory f. */
long dnotify_set(struct file *f, uint64_t arg);

/* memfd seals (memfd.c): F_ADD_SEALS / F_GET_SEALS on any file. */
long memfd_seals(struct file *f, unsigned cmd, uint64_t arg);

/* vDSO (vdso.c, with VDSO=y): map it into the new program; its address for
 * AT_SYSINFO_EHDR, or 0. Weak: absent when the vdso module is off. */
uint64_t vdso_map(void) __attribute__((weak));

#endif
