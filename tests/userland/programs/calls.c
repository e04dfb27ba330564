/* The newer Linux calls, each check printing "ok NAME" or "FAIL NAME: why":
 * sigwait family, POSIX timers, timerfd, signalfd, memfd sealing, caps,
 * pkeys, mlock family, scheduling policy, prctl and inotify. Runs the same on
 * the host (every check must pass there too). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(name, cond, ...)                                   \
	do {                                                     \
		if (cond) {                                      \
			printf("ok %s\n", name);                 \
		} else {                                         \
			failures++;                              \
			printf("FAIL %s: ", name);               \
			printf(__VA_ARGS__);                     \
			printf(" (errno %d)\n", errno);          \
		}                                                \
		fflush(stdout);                                  \
	} while (0)

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static void test_sigwait(void)
{
	sigset_t s;
	siginfo_t si;
	block(SIGUSR1);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	kill(getpid(), SIGUSR1);
	int sig = 0;
	int r = sigwait(&s, &sig);
	CHECK("sigwait", r == 0 && sig == SIGUSR1, "r=%d sig=%d", r, sig);

	struct timespec zero = { 0, 0 };
	errno = 0;
	r = sigtimedwait(&s, &si, &zero);
	CHECK("sigtimedwait_poll_eagain", r == -1 && errno == EAGAIN, "r=%d", r);

	struct timespec t100 = { 0, 100000000 };
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	errno = 0;
	r = sigtimedwait(&s, &si, &t100);
	uint64_t el = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK("sigtimedwait_timeout", r == -1 && errno == EAGAIN && el >= 90000000, "r=%d el=%lu", r,
	      (unsigned long)el);

	union sigval v = { .sival_int = 4242 };
	sigqueue(getpid(), SIGUSR1, v);
	memset(&si, 0, sizeof(si));
	r = sigwaitinfo(&s, &si);
	CHECK("sigqueue_sigwaitinfo", r == SIGUSR1 && si.si_code == SI_QUEUE && si.si_value.sival_int == 4242 &&
					      si.si_pid == getpid(),
	      "r=%d code=%d val=%d pid=%d", r, si.si_code, si.si_value.sival_int, si.si_pid);

	/* SIGCHLD is ignored by default, but a blocked one stays for sigwait. */
	block(SIGCHLD);
	sigaddset(&s, SIGCHLD);
	raise(SIGCHLD);
	r = sigtimedwait(&s, &si, &zero);
	CHECK("sigwait_default_ignored_blocked", r == SIGCHLD, "r=%d", r);
}

static void *killer(void *arg)
{
	(void)arg;
	usleep(50000);
	kill(getpid(), SIGUSR2);
	return NULL;
}

static void test_sigwait_thread(void)
{
	/* The signal arrives while another thread is the one waiting. */
	block(SIGUSR2);
	pthread_t t;
	pthread_create(&t, NULL, killer, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	struct timespec two = { 2, 0 };
	siginfo_t si;
	int r = sigtimedwait(&s, &si, &two);
	pthread_join(t, NULL);
	CHECK("sigtimedwait_from_thread", r == SIGUSR2 && si.si_code == SI_USER, "r=%d code=%d", r, si.si_code);
}

static volatile int alarms;
static volatile int last_code, last_val;
static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	alarms++;
	last_code = si->si_code;
	last_val = si->si_value.sival_int;
}

static void test_posix_timers(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN, &sa, NULL);

	static const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID };
	static const char *const names[] = { "realtime", "monotonic", "process_cputime" };
	for (int i = 0; i < 3; i++) {
		timer_t id;
		struct sigevent ev = { 0 };
		ev.sigev_notify = SIGEV_SIGNAL;
		ev.sigev_signo = SIGRTMIN;
		ev.sigev_value.sival_int = 77 + i;
		int r = timer_create(clocks[i], &ev, &id);
		char name[64];
		snprintf(name, sizeof(name), "timer_create_%s", names[i]);
		CHECK(name, r == 0, "r=%d", r);
		if (r)
			continue;
		alarms = 0;
		struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } };
		r = timer_settime(id, 0, &its, NULL);
		struct itimerspec cur;
		timer_gettime(id, &cur);
		snprintf(name, sizeof(name), "timer_gettime_%s", names[i]);
		CHECK(name, r == 0 && cur.it_interval.tv_nsec == 20000000 && cur.it_value.tv_sec == 0 &&
				    cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000,
		      "r=%d interval=%ld value=%ld", r, cur.it_interval.tv_nsec, cur.it_value.tv_nsec);
		/* Spin (CPU time must pass for the CPU clock) until three ticks. */
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		while (alarms < 3 && now_ns(CLOCK_MONOTONIC) - t0 < 5000000000ull)
			;
		struct itimerspec off = { 0 };
		timer_settime(id, 0, &off, NULL);
		snprintf(name, sizeof(name), "timer_signal_%s", names[i]);
		CHECK(name, alarms >= 3 && last_code == SI_TIMER && last_val == 77 + i, "alarms=%d code=%d val=%d",
		      alarms, last_code, last_val);
		timer_gettime(id, &cur);
		snprintf(name, sizeof(name), "timer_disarmed_%s", names[i]);
		CHECK(name, cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "value=%ld", cur.it_value.tv_nsec);
		r = timer_delete(id);
		snprintf(name, sizeof(name), "timer_delete_%s", names[i]);
		CHECK(name, r == 0, "r=%d", r);
	}

	/* Overruns: the signal stays blocked while the timer fires 5+ times. */
	timer_t id;
	struct sigevent ev = { 0 };
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 1;
	block(SIGRTMIN + 1);
	timer_create(CLOCK_MONOTONIC, &ev, &id);
	struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };
	timer_settime(id, 0, &its, NULL);
	usleep(100000);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 1);
	siginfo_t si;
	int r = sigwaitinfo(&s, &si);
	int ov = timer_getoverrun(id);
	CHECK("timer_overrun", r == SIGRTMIN + 1 && si.si_code == SI_TIMER && si.si_overrun >= 3 && ov == si.si_overrun,
	      "r=%d overrun=%d getoverrun=%d", r, si.si_overrun, ov);
	timer_delete(id);

	/* SIGEV_NONE: no signal, but timer_gettime counts down; absolute time. */
	ev.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_REALTIME, &ev, &id);
	struct itimerspec abs = { { 0, 0 }, { 0, 0 } };
	clock_gettime(CLOCK_REALTIME, &abs.it_value);
	abs.it_value.tv_sec += 10;
	timer_settime(id, TIMER_ABSTIME, &abs, NULL);
	struct itimerspec cur;
	timer_gettime(id, &cur);
	CHECK("timer_sigev_none_abstime", cur.it_value.tv_sec >= 9 && cur.it_value.tv_sec <= 10, "left=%ld",
	      (long)cur.it_value.tv_sec);
	timer_delete(id);
	errno = 0;
	r = timer_delete(id);
	CHECK("timer_delete_twice", r == -1 && errno == EINVAL, "r=%d", r);
}

static volatile pid_t handled_tid;
static void on_tid(int sig)
{
	(void)sig;
	handled_tid = gettid();
}

static volatile int thread_ready;
static void *sleeper(void *arg)
{
	(void)arg;
	thread_ready = 1;
	while (!handled_tid)
		usleep(1000);
	return NULL;
}

static pid_t sleeper_tid;
static void *sleeper_main(void *arg)
{
	sleeper_tid = gettid();
	return sleeper(arg);
}

static void test_timer_thread_id(void)
{
	signal(SIGRTMIN + 2, on_tid);
	pthread_t t;
	pthread_create(&t, NULL, sleeper_main, NULL);
	while (!thread_ready)
		usleep(1000);
	block(SIGRTMIN + 2); /* main blocks it: only the named thread can take it */
	timer_t id;
	struct sigevent ev = { 0 };
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 2;
	ev._sigev_un._tid = sleeper_tid;
	int r = timer_create(CLOCK_MONOTONIC, &ev, &id);
	struct itimerspec its = { { 0, 0 }, { 0, 30000000 } };
	timer_settime(id, 0, &its, NULL);
	pthread_join(t, NULL);
	CHECK("timer_sigev_thread_id", r == 0 && handled_tid == sleeper_tid, "r=%d handled=%d want=%d", r,
	      (int)handled_tid, (int)sleeper_tid);
	timer_delete(id);
}

static void test_timerfd(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK("timerfd_create", fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "fd=%d", fd);
	uint64_t v;
	errno = 0;
	ssize_t n = read(fd, &v, 8);
	CHECK("timerfd_read_eagain", n == -1 && errno == EAGAIN, "n=%zd", n);
	struct itimerspec its = { { 0, 10000000 }, { 0, 300000000 } };
	timerfd_settime(fd, 0, &its, NULL);
	struct itimerspec cur;
	timerfd_gettime(fd, &cur);
	CHECK("timerfd_gettime", cur.it_interval.tv_nsec == 10000000 && cur.it_value.tv_nsec > 0 &&
					 cur.it_value.tv_nsec <= 300000000,
	      "interval=%ld value=%ld", cur.it_interval.tv_nsec, cur.it_value.tv_nsec);
	struct pollfd p = { fd, POLLIN, 0 };
	int r = poll(&p, 1, 0);
	CHECK("timerfd_poll_not_ready", r == 0, "r=%d", r);
	r = poll(&p, 1, 2000);
	CHECK("timerfd_poll_ready", r == 1 && (p.revents & POLLIN), "r=%d revents=%x", r, p.revents);
	usleep(50000);
	n = read(fd, &v, 8);
	CHECK("timerfd_read_count", n == 8 && v >= 3, "n=%zd v=%lu", n, (unsigned long)v);

	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = 7 };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	struct epoll_event got;
	r = epoll_wait(ep, &got, 1, 2000);
	CHECK("timerfd_epoll", r == 1 && got.data.u32 == 7, "r=%d", r);
	read(fd, &v, 8);

	/* Blocking read, absolute realtime deadline. */
	int fd2 = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec abs = { { 0, 0 }, { 0, 0 } };
	clock_gettime(CLOCK_REALTIME, &abs.it_value);
	abs.it_value.tv_nsec += 40000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	timerfd_settime(fd2, TFD_TIMER_ABSTIME, &abs, NULL);
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	n = read(fd2, &v, 8);
	uint64_t el = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK("timerfd_blocking_abstime", n == 8 && v == 1 && el >= 20000000, "n=%zd v=%lu el=%lu", n,
	      (unsigned long)v, (unsigned long)el);
	timerfd_gettime(fd2, &cur);
	CHECK("timerfd_oneshot_disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "value=%ld",
	      cur.it_value.tv_nsec);
	errno = 0;
	r = timerfd_settime(0, 0, &its, NULL);
	CHECK("timerfd_settime_not_timerfd", r == -1 && errno == EINVAL, "r=%d", r);
	close(fd);
	close(fd2);
	close(ep);
}

static void test_signalfd(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	int fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK("signalfd_create", fd >= 0, "fd=%d", fd);
	struct signalfd_siginfo rec;
	errno = 0;
	ssize_t n = read(fd, &rec, sizeof(rec));
	CHECK("signalfd_read_eagain", n == -1 && errno == EAGAIN, "n=%zd", n);
	struct pollfd p = { fd, POLLIN, 0 };
	int r = poll(&p, 1, 0);
	CHECK("signalfd_poll_not_ready", r == 0, "r=%d", r);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = 9 };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	kill(getpid(), SIGUSR1);
	r = poll(&p, 1, 1000);
	CHECK("signalfd_poll_ready", r == 1 && (p.revents & POLLIN), "r=%d", r);
	struct epoll_event got;
	r = epoll_wait(ep, &got, 1, 1000);
	CHECK("signalfd_epoll", r == 1 && got.data.u32 == 9, "r=%d", r);
	n = read(fd, &rec, sizeof(rec));
	CHECK("signalfd_read", n == sizeof(rec) && rec.ssi_signo == SIGUSR1 && rec.ssi_code == SI_USER &&
				       rec.ssi_pid == (uint32_t)getpid(),
	      "n=%zd signo=%u code=%d pid=%u", n, rec.ssi_signo, rec.ssi_code, rec.ssi_pid);
	/* A blocking read woken by a signal another thread sends. */
	int fd2 = signalfd(-1, &s, 0);
	block(SIGUSR2);
	sigaddset(&s, SIGUSR2);
	r = signalfd(fd2, &s, 0);
	pthread_t t;
	pthread_create(&t, NULL, killer, NULL);
	n = read(fd2, &rec, sizeof(rec));
	pthread_join(t, NULL);
	CHECK("signalfd_blocking_read", r == fd2 && n == sizeof(rec) && rec.ssi_signo == SIGUSR2, "r=%d n=%zd signo=%u",
	      r, n, rec.ssi_signo);
	errno = 0;
	n = read(fd, &rec, 8);
	CHECK("signalfd_short_read_einval", n == -1 && errno == EINVAL, "n=%zd", n);
	close(fd);
	close(fd2);
	close(ep);
}

static void test_memfd(void)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK("memfd_create", fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "fd=%d", fd);
	char link[256] = { 0 }, path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof(link) - 1);
	CHECK("memfd_proc_link", !strcmp(link, "/memfd:test (deleted)"), "link=%s", link);
	ssize_t w = write(fd, "hello", 5);
	CHECK("memfd_write", w == 5, "w=%zd", w);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK("memfd_mmap", m != MAP_FAILED && !memcmp(m, "hello", 5), "m=%p", m);
	int seals = fcntl(fd, F_GET_SEALS);
	CHECK("memfd_get_seals_none", seals == 0, "seals=%d", seals);
	int r = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	seals = fcntl(fd, F_GET_SEALS);
	CHECK("memfd_add_seals", r == 0 && seals == (F_SEAL_SHRINK | F_SEAL_GROW), "r=%d seals=%d", r, seals);
	errno = 0;
	r = ftruncate(fd, 1);
	CHECK("memfd_seal_shrink", r == -1 && errno == EPERM, "r=%d", r);
	errno = 0;
	r = ftruncate(fd, 8192);
	CHECK("memfd_seal_grow_truncate", r == -1 && errno == EPERM, "r=%d", r);
	errno = 0;
	w = pwrite(fd, "x", 1, 100);
	CHECK("memfd_seal_grow_write", w == -1 && errno == EPERM, "w=%zd", w);
	w = pwrite(fd, "J", 1, 0);
	CHECK("memfd_write_inside", w == 1, "w=%zd", w);
	munmap(m, 4096); /* Linux refuses F_SEAL_WRITE while a shared mapping exists */
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL);
	CHECK("memfd_add_seal_write", r == 0, "r=%d", r);
	errno = 0;
	w = pwrite(fd, "K", 1, 0);
	CHECK("memfd_seal_write", w == -1 && errno == EPERM, "w=%zd", w);
	errno = 0;
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	CHECK("memfd_seal_seal", r == -1 && errno == EPERM, "r=%d", r);
	int fd2 = memfd_create("nosealing", 0);
	errno = 0;
	r = fcntl(fd2, F_ADD_SEALS, F_SEAL_WRITE);
	seals = fcntl(fd2, F_GET_SEALS);
	CHECK("memfd_no_sealing", r == -1 && errno == EPERM && seals == F_SEAL_SEAL, "r=%d seals=%d", r, seals);
	int pfd[2];
	pipe(pfd);
	errno = 0;
	r = fcntl(pfd[0], F_GET_SEALS);
	CHECK("seals_not_memfd", r == -1 && errno == EINVAL, "r=%d", r);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	close(fd2);
}

struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static void test_caps_and_misc(void)
{
	struct cap_header h = { 0x20080522, 0 };
	struct cap_data d[2];
	memset(d, 0, sizeof(d));
	long r = syscall(SYS_capget, &h, d);
	CHECK("capget", r == 0, "r=%ld", r);
	printf("caps effective=%x,%x permitted=%x,%x\n", d[0].effective, d[1].effective, d[0].permitted,
	       d[1].permitted);
	struct cap_header bad = { 0x1234, 0 };
	errno = 0;
	r = syscall(SYS_capget, &bad, NULL);
	CHECK("capget_bad_version_probe", r == 0 && bad.version == 0x20080522, "r=%ld v=%x", r, bad.version);
	bad.version = 0x1234;
	errno = 0;
	r = syscall(SYS_capget, &bad, d);
	CHECK("capget_bad_version", r == -1 && errno == EINVAL && bad.version == 0x20080522, "r=%ld v=%x", r,
	      bad.version);
	r = syscall(SYS_capset, &h, d);
	CHECK("capset_same", r == 0, "r=%ld", r);

	errno = 0;
	int k = syscall(SYS_pkey_alloc, 0, 0);
	CHECK("pkey_alloc", k == -1 && (errno == ENOSPC || errno == EINVAL || errno == ENOSYS), "k=%d", k);
	printf("pkey_alloc errno %s\n", errno == ENOSPC ? "ENOSPC" : strerror(errno));
	void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r = syscall(SYS_pkey_mprotect, p, 4096, PROT_READ, -1);
	CHECK("pkey_mprotect_default_key", r == 0, "r=%ld", r);
	errno = 0;
	r = syscall(SYS_pkey_free, 5);
	CHECK("pkey_free_unallocated", r == -1 && errno == EINVAL, "r=%ld", r);

	CHECK("mlock", mlock(p, 8192) == 0 && munlock(p, 8192) == 0, "mlock");
	CHECK("mlock2", syscall(SYS_mlock2, p, 8192, 1) == 0, "mlock2");
	CHECK("mlockall", mlockall(MCL_CURRENT | MCL_FUTURE) == 0 && munlockall() == 0, "mlockall");
	errno = 0;
	CHECK("mlockall_einval", mlockall(0) == -1 && errno == EINVAL, "mlockall(0)");

	struct sched_param sp = { .sched_priority = 10 };
	r = sched_setscheduler(0, SCHED_FIFO, &sp);
	int pol = sched_getscheduler(0);
	struct sched_param got = { 0 };
	sched_getparam(0, &got);
	CHECK("sched_setscheduler_fifo", r == 0 && pol == SCHED_FIFO && got.sched_priority == 10, "r=%ld pol=%d prio=%d",
	      r, pol, got.sched_priority);
	sp.sched_priority = 20;
	r = sched_setparam(0, &sp);
	sched_getparam(0, &got);
	CHECK("sched_setparam", r == 0 && got.sched_priority == 20, "r=%ld prio=%d", r, got.sched_priority);
	sp.sched_priority = 0;
	r = sched_setscheduler(0, SCHED_OTHER, &sp);
	CHECK("sched_back_to_other", r == 0 && sched_getscheduler(0) == SCHED_OTHER, "r=%ld", r);
	errno = 0;
	sp.sched_priority = 5;
	r = sched_setscheduler(0, SCHED_OTHER, &sp);
	CHECK("sched_other_prio_einval", r == -1 && errno == EINVAL, "r=%ld", r);
	CHECK("sched_priority_range", sched_get_priority_max(SCHED_RR) == 99 && sched_get_priority_min(SCHED_RR) == 1 &&
					      sched_get_priority_max(SCHED_OTHER) == 0,
	      "max=%d", sched_get_priority_max(SCHED_RR));
	errno = 0;
	r = sched_getscheduler(999999);
	CHECK("sched_getscheduler_esrch", r == -1 && errno == ESRCH, "r=%ld", r);

	struct timespec rr = { 9, 9 };
	CHECK("sched_rr_get_interval", sched_rr_get_interval(0, &rr) == 0 && rr.tv_sec == 0, "rr=%ld", rr.tv_nsec);
	gid_t g0 = 0;
	CHECK("set_ids_to_root", setresuid(0, 0, -1) == 0 && setresgid(-1, 0, 0) == 0 && setreuid(-1, 0) == 0 &&
					 setgroups(1, &g0) == 0,
	      "set*id");

	clockid_t cid;
	struct timespec cts;
	r = pthread_getcpuclockid(pthread_self(), &cid);
	CHECK("thread_cpu_clock_id", r == 0 && clock_gettime(cid, &cts) == 0, "r=%ld", r);

	char name[16] = { 0 };
	prctl(PR_SET_NAME, "worker-1");
	prctl(PR_GET_NAME, name);
	CHECK("prctl_name", !strcmp(name, "worker-1"), "name=%s", name);
	int ds = -1;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_GET_PDEATHSIG, &ds);
	CHECK("prctl_pdeathsig", ds == SIGTERM, "ds=%d", ds);
	prctl(PR_SET_PDEATHSIG, 0);
	CHECK("prctl_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 &&
					    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
					    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1,
	      "no_new_privs");
}

static int read_events(int fd, char *out, size_t size)
{
	char buf[4096] __attribute__((aligned(8)));
	struct pollfd p = { fd, POLLIN, 0 };
	size_t pos = 0;
	out[0] = 0;
	while (poll(&p, 1, 200) == 1) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *c = buf; c < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)c;
			const char *kind = e->mask & IN_CREATE        ? "create"
					   : e->mask & IN_DELETE      ? "delete"
					   : e->mask & IN_MODIFY      ? "modify"
					   : e->mask & IN_MOVED_FROM  ? "from"
					   : e->mask & IN_MOVED_TO    ? "to"
					   : e->mask & IN_DELETE_SELF ? "delete_self"
					   : e->mask & IN_IGNORED     ? "ignored"
								      : "other";
			pos += snprintf(out + pos, size - pos, "%s%s:%s%s", pos ? " " : "", kind, e->len ? e->name : "",
					(e->mask & IN_ISDIR) ? "/" : "");
			c += sizeof(*e) + e->len;
		}
	}
	return pos;
}

static void test_inotify(void)
{
	mkdir("/tmp/inw", 0755);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK("inotify_init1", fd >= 0, "fd=%d", fd);
	int wd = inotify_add_watch(fd, "/tmp/inw", IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO);
	CHECK("inotify_add_watch", wd > 0, "wd=%d", wd);
	int f = open("/tmp/inw/a", O_CREAT | O_WRONLY, 0644);
	write(f, "x", 1);
	close(f);
	mkdir("/tmp/inw/d", 0755);
	rename("/tmp/inw/a", "/tmp/inw/b");
	unlink("/tmp/inw/b");
	rmdir("/tmp/inw/d");
	char ev[1024];
	read_events(fd, ev, sizeof(ev));
	CHECK("inotify_events", !strcmp(ev, "create:a modify:a create:d/ from:a to:b delete:b delete:d/"), "got '%s'",
	      ev);
	/* A watch on the file itself; deleting it ends the watch. */
	f = open("/tmp/inw/c", O_CREAT | O_WRONLY, 0644);
	int wd2 = inotify_add_watch(fd, "/tmp/inw/c", IN_MODIFY | IN_DELETE_SELF);
	write(f, "y", 1);
	close(f);
	unlink("/tmp/inw/c");
	read_events(fd, ev, sizeof(ev));
	CHECK("inotify_file_watch", !strcmp(ev, "create:c modify:c modify: delete_self: ignored: delete:c"), "got '%s'",
	      ev);
	int r = inotify_rm_watch(fd, wd);
	read_events(fd, ev, sizeof(ev));
	CHECK("inotify_rm_watch", r == 0 && !strcmp(ev, "ignored:"), "r=%d got '%s'", r, ev);
	errno = 0;
	r = inotify_rm_watch(fd, wd2);
	CHECK("inotify_rm_watch_gone", r == -1 && errno == EINVAL, "r=%d", r);
	errno = 0;
	r = inotify_add_watch(fd, "/tmp/nonexistent", IN_CREATE);
	CHECK("inotify_add_watch_enoent", r == -1 && errno == ENOENT, "r=%d", r);
	close(fd);
	rmdir("/tmp/inw");
}

static volatile int alarm_hits;
static void on_alarm(int sig)
{
	(void)sig;
	alarm_hits++;
}

static int restart_pipe[2];
static void *late_writer(void *arg)
{
	(void)arg;
	block(SIGALRM); /* the alarm must interrupt the reader */
	usleep(300000);
	write(restart_pipe[1], "x", 1);
	return NULL;
}

/* A read interrupted by a handler: restarted with SA_RESTART, EINTR without. */
static void test_sa_restart(void)
{
	for (int restart = 1; restart >= 0; restart--) {
		struct sigaction sa = { 0 };
		sa.sa_handler = on_alarm;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGALRM, &sa, NULL);
		pipe(restart_pipe);
		alarm_hits = 0;
		pthread_t t;
		pthread_create(&t, NULL, late_writer, NULL);
		struct itimerval it = { { 0, 0 }, { 0, 50000 } };
		setitimer(ITIMER_REAL, &it, NULL);
		char c;
		errno = 0;
		ssize_t n = read(restart_pipe[0], &c, 1);
		int e = errno;
		pthread_join(t, NULL);
		if (restart)
			CHECK("sa_restart_read_restarted", n == 1 && alarm_hits == 1, "n=%zd errno=%d hits=%d", n, e, alarm_hits);
		else
			CHECK("no_sa_restart_read_eintr", n == -1 && e == EINTR && alarm_hits == 1, "n=%zd errno=%d hits=%d", n, e,
			      alarm_hits);
		close(restart_pipe[0]);
		close(restart_pipe[1]);
	}
	signal(SIGALRM, SIG_DFL);
}

static volatile int sigios;
static void on_sigio(int sig)
{
	(void)sig;
	sigios++;
}

static void test_fcntl_misc(void)
{
	int p[2];
	pipe(p);
	int sz = fcntl(p[1], F_GETPIPE_SZ);
	int r = fcntl(p[1], F_SETPIPE_SZ, sz / 2);
	CHECK("pipe_set_size", r == sz / 2 && fcntl(p[0], F_GETPIPE_SZ) == sz / 2, "sz=%d r=%d", sz, r);
	r = fcntl(p[1], F_SETPIPE_SZ, 5000);
	CHECK("pipe_set_size_rounds_up", r == 8192, "r=%d", r);
	close(p[0]);
	close(p[1]);

	/* dnotify: SIGIO for a file created in the watched directory. */
	signal(SIGIO, on_sigio);
	mkdir("/tmp/dn", 0755);
	int d = open("/tmp/dn", O_RDONLY | O_DIRECTORY);
	r = fcntl(d, F_NOTIFY, DN_CREATE | DN_MULTISHOT);
	int f = open("/tmp/dn/x", O_CREAT | O_WRONLY, 0644);
	close(f);
	for (int i = 0; i < 100 && !sigios; i++)
		usleep(1000);
	CHECK("dnotify_sigio", r == 0 && sigios >= 1, "r=%d sigios=%d", r, sigios);
	fcntl(d, F_NOTIFY, 0);
	close(d);
	unlink("/tmp/dn/x");
	rmdir("/tmp/dn");
	signal(SIGIO, SIG_DFL);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!only || !strcmp(only, "sigwait")) {
		test_sigwait();
		test_sigwait_thread();
	}
	if (!only || !strcmp(only, "timers")) {
		test_posix_timers();
		test_timer_thread_id();
	}
	if (!only || !strcmp(only, "timerfd"))
		test_timerfd();
	if (!only || !strcmp(only, "signalfd"))
		test_signalfd();
	if (!only || !strcmp(only, "memfd"))
		test_memfd();
	if (!only || !strcmp(only, "misc"))
		test_caps_and_misc();
	if (!only || !strcmp(only, "inotify"))
		test_inotify();
	if (!only || !strcmp(only, "fcntl"))
		test_fcntl_misc();
	if (!only || !strcmp(only, "restart"))
		test_sa_restart();
	printf("done failures=%d\n", failures);
	return failures ? 1 : 0;
}
