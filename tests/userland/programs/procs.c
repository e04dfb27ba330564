/* Real processes: parent and child running at once, copy-on-write, MAP_SHARED
 * memory, wait4/waitid with their options, SIGCHLD, process groups, orphans,
 * vfork, and execve from a multi-threaded process. Prints "ok NAME" or
 * "FAIL NAME: why" per check, then "failures=N"; exits with N. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(name, cond, ...)                                  \
	do {                                                    \
		if (cond) {                                     \
			printf("ok %s\n", name);                \
		} else {                                        \
			printf("FAIL %s: ", name);              \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
			failures++;                             \
		}                                               \
		fflush(stdout);                                 \
	} while (0)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static ssize_t write_all(int fd, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w <= 0)
			return -1;
		done += w;
	}
	return done;
}

static ssize_t read_all(int fd, char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);
		if (r <= 0)
			break;
		done += r;
	}
	return done;
}

/* The parent writes 1 MiB (far more than a pipe holds) before it reads; the
 * child echoes every byte back, transformed. Only concurrent processes get
 * through. */
static void pipes_both_ways(void)
{
	enum { N = 1 << 20 };
	int down[2], up[2];
	if (pipe(down) || pipe(up)) {
		CHECK("pipes_both_ways", 0, "pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		char buf[4096];
		ssize_t r;
		while ((r = read(down[0], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				buf[i] ^= 0x5a;
			if (write_all(up[1], buf, r) < 0)
				_exit(3);
		}
		_exit(r == 0 ? 0 : 4);
	}
	close(down[0]);
	close(up[1]);
	/* A writer thread would hide the point: write everything first, from a
	 * second process of our own, while this one reads. */
	pid_t feeder = fork();
	if (feeder == 0) {
		close(up[0]);
		char *data = malloc(N);
		for (int i = 0; i < N; i++)
			data[i] = (char)(i * 7);
		_exit(write_all(down[1], data, N) == N ? 0 : 5);
	}
	close(down[1]);
	char *back = malloc(N);
	ssize_t got = read_all(up[0], back, N);
	char extra;
	ssize_t eof = read(up[0], &extra, 1);
	int bad = 0;
	for (int i = 0; i < got; i++)
		if (back[i] != (char)((i * 7) ^ 0x5a))
			bad++;
	int st1, st2;
	waitpid(feeder, &st1, 0);
	waitpid(pid, &st2, 0);
	close(up[0]);
	free(back);
	CHECK("pipes_both_ways", got == N && eof == 0 && !bad && st1 == 0 && st2 == 0,
	      "got %zd eof %zd bad %d status %#x %#x", got, eof, bad, st1, st2);

	/* The simplest form: parent writes 200 KiB to the child before reading
	 * its answer, with no helper. */
	if (pipe(down) || pipe(up))
		return;
	pid = fork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		char buf[8192];
		long total = 0;
		ssize_t r;
		while ((r = read(down[0], buf, sizeof(buf))) > 0)
			total += r;
		dprintf(up[1], "%ld", total);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	char *big = calloc(1, 200 << 10);
	ssize_t w = write_all(down[1], big, 200 << 10);
	close(down[1]);
	char ans[32] = { 0 };
	read_all(up[0], ans, sizeof(ans) - 1);
	close(up[0]);
	waitpid(pid, NULL, 0);
	free(big);
	CHECK("pipe_parent_writes_first", w == (200 << 10) && atol(ans) == (200 << 10), "wrote %zd, child read %s", w,
	      ans);
}

static int global = 1;

static void copy_on_write(void)
{
	char *heap = malloc(1 << 16);
	memset(heap, 'p', 1 << 16);
	int *shared = mmap(NULL, 4096 * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared[0] = 1;
	priv[0] = 1;
	int sync[2], back[2];
	if (pipe(sync) || pipe(back))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		int ok = global == 1 && heap[100] == 'p' && priv[0] == 1;
		global = 2;
		heap[100] = 'c';
		priv[0] = 2;
		shared[0] = 42;
		shared[3000] = 43; /* a page never touched before fork */
		write(back[1], "x", 1);
		read(sync[0], &c, 1); /* the parent wrote its own values meanwhile */
		ok = ok && global == 2 && heap[100] == 'c' && priv[0] == 2 && shared[1] == 7;
		_exit(ok ? 0 : 1);
	}
	char c;
	read(back[0], &c, 1);
	int parent_sees = global == 1 && heap[100] == 'p' && priv[0] == 1;
	int shared_sees = shared[0] == 42 && shared[3000] == 43;
	global = 3;
	heap[100] = 'q';
	priv[0] = 3;
	shared[1] = 7;
	write(sync[1], "y", 1);
	int st;
	waitpid(pid, &st, 0);
	CHECK("cow_private", parent_sees && WIFEXITED(st) && WEXITSTATUS(st) == 0, "parent sees %d, child status %#x",
	      parent_sees, st);
	CHECK("map_shared_anonymous", shared_sees, "shared[0]=%d shared[3000]=%d", shared[0], shared[3000]);
	free(heap);
}

static volatile sig_atomic_t chld_seen;
static void on_chld(int sig)
{
	(void)sig;
	chld_seen++;
}

static void wait_options(void)
{
	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_RESTART };
	sigaction(SIGCHLD, &sa, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(9);
	}
	int st = 0;
	pid_t r = waitpid(pid, &st, WUNTRACED);
	int stopped = r == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP;
	pid_t none = waitpid(pid, &st, WNOHANG);
	kill(pid, SIGCONT);
	r = waitpid(pid, &st, WCONTINUED);
	int continued = r == pid && WIFCONTINUED(st);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int w = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	int peek = w == 0 && si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 9;
	r = waitpid(pid, &st, 0);
	int exited = r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 9;
	for (int i = 0; i < 100 && chld_seen < 3; i++)
		sleep_ms(10);
	CHECK("wait_stopped_continued", stopped && none == 0 && continued, "stopped %d nohang %d continued %d", stopped,
	      none, continued);
	CHECK("waitid_nowait", peek && exited, "peek %d (code %d status %d) exited %d", peek, si.si_code,
	      si.si_status, exited);
	CHECK("sigchld", chld_seen >= 3, "SIGCHLD seen %d times", (int)chld_seen);
	CHECK("echild", waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "errno %d", errno);
	signal(SIGCHLD, SIG_DFL);
}

static volatile long *spins;
static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		(*spins)++;
	return NULL;
}

/* SIGSTOP stops every thread of a process, SIGCONT lets them go on. */
static void stop_all_threads(void)
{
	spins = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, spinner, NULL);
		for (;;)
			pause();
	}
	while (*spins < 1000)
		sleep_ms(1);
	kill(pid, SIGSTOP);
	int st;
	pid_t r = waitpid(pid, &st, WUNTRACED);
	sleep_ms(50);
	long c1 = *spins;
	sleep_ms(150);
	long c2 = *spins;
	kill(pid, SIGCONT);
	sleep_ms(100);
	long c3 = *spins;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	CHECK("stop_all_threads", r == pid && c1 == c2 && c3 > c2 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "waited %d, spins %ld %ld %ld, status %#x", r, c1, c2, c3, st);
}

static void process_groups(void)
{
	pid_t leader = fork();
	if (leader == 0) {
		setpgid(0, 0);
		pause();
		_exit(1);
	}
	setpgid(leader, leader); /* both sides, as shells do, against the race */
	pid_t member = fork();
	if (member == 0) {
		setpgid(0, leader);
		pause();
		_exit(1);
	}
	setpgid(member, leader);
	sleep_ms(50);
	int g1 = getpgid(leader), g2 = getpgid(member);
	int k = kill(-leader, SIGTERM);
	int st1 = 0, st2 = 0;
	waitpid(leader, &st1, 0);
	waitpid(member, &st2, 0);
	CHECK("kill_process_group",
	      g1 == leader && g2 == leader && k == 0 && WIFSIGNALED(st1) && WTERMSIG(st1) == SIGTERM &&
		      WIFSIGNALED(st2) && WTERMSIG(st2) == SIGTERM,
	      "groups %d %d (want %d), kill %d, status %#x %#x", g1, g2, leader, k, st1, st2);

	pid_t s = fork();
	if (s == 0) {
		pid_t sid = setsid();
		_exit(sid == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
	}
	int st;
	waitpid(s, &st, 0);
	CHECK("setsid", WIFEXITED(st) && WEXITSTATUS(st) == 0 && setsid() == -1 && errno == EPERM, "status %#x", st);
}

/* A child forks a grandchild and exits; the grandchild, re-parented to pid 1
 * (us), is reaped by our wait. */
static void orphans(void)
{
	int p[2];
	pipe(p);
	pid_t child = fork();
	if (child == 0) {
		pid_t g = fork();
		if (g == 0) {
			sleep_ms(100);
			_exit(getppid() == 1 ? 21 : 22);
		}
		write(p[1], &g, sizeof(g));
		_exit(0);
	}
	pid_t g = 0;
	read(p[0], &g, sizeof(g));
	int st;
	waitpid(child, &st, 0);
	int st2 = 0;
	pid_t r = waitpid(-1, &st2, 0);
	CHECK("orphan_reaped", getpid() == 1 && r == g && WIFEXITED(st2) && WEXITSTATUS(st2) == 21,
	      "pid %d, waited %d for %d, status %#x", getpid(), r, g, st2);
	close(p[0]);
	close(p[1]);
}

static void vfork_shares(void)
{
	static volatile int v = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		v = 5; /* the same memory: the parent is blocked until _exit */
		_exit(6);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK("vfork", v == 5 && WIFEXITED(st) && WEXITSTATUS(st) == 6, "v=%d status %#x", v, st);
}

/* A FIFO, a socketpair and an eventfd between two running processes: the
 * reader's open waits for the writer, data flows past the pipe size, and
 * the end of the last writer is EOF. */
static void ipc_between_processes(void)
{
	enum { N = 200 << 10 };
	unlink("/tmp/fifo");
	int m = mkfifo("/tmp/fifo", 0600);
	struct stat st;
	int isfifo = stat("/tmp/fifo", &st) == 0 && S_ISFIFO(st.st_mode);
	int nb = open("/tmp/fifo", O_WRONLY | O_NONBLOCK);
	int enxio = nb < 0 && errno == ENXIO;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int efd = eventfd(0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int w = open("/tmp/fifo", O_WRONLY);
		char *buf = calloc(1, N);
		memset(buf, 'f', N);
		int ok = w >= 0 && write_all(w, buf, N) == N;
		close(w);
		ok = ok && write_all(sv[1], buf, N) == N;
		char c;
		ok = ok && read(sv[1], &c, 1) == 1 && c == '!';
		uint64_t one = 1;
		sleep_ms(30);
		ok = ok && write(efd, &one, 8) == 8;
		_exit(ok ? 0 : 1);
	}
	close(sv[1]);
	int r = open("/tmp/fifo", O_RDONLY);
	char *buf = malloc(N + 1);
	ssize_t got = read_all(r, buf, N + 1);
	close(r);
	ssize_t got2 = read_all(sv[0], buf, N);
	write(sv[0], "!", 1);
	uint64_t v = 0;
	ssize_t ev = read(efd, &v, 8);
	int status;
	waitpid(pid, &status, 0);
	ssize_t eof = read(sv[0], buf, 1);
	free(buf);
	CHECK("fifo", m == 0 && isfifo && enxio && got == N, "mkfifo %d isfifo %d enxio %d got %zd", m, isfifo, enxio,
	      got);
	CHECK("socketpair_eventfd", got2 == N && ev == 8 && v == 1 && eof == 0 && status == 0,
	      "socket got %zd, eventfd %zd/%lu, eof %zd, status %#x", got2, ev, (unsigned long)v, eof, status);
}

static unsigned long free_kib(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return si.freeram * si.mem_unit / 1024;
}

/* Every fork + exit + wait gives back what it took: address space, page
 * tables, copied pages, descriptor table, the process itself. */
static void no_leaks(void)
{
	enum { ROUNDS = 300 };
	char *mem = malloc(1 << 20);
	memset(mem, 1, 1 << 20);
	for (int warm = 0; warm < 10; warm++) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	}
	unsigned long before = free_kib();
	int bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pid_t p = fork();
		if (p == 0) {
			memset(mem, 2, 64 << 10); /* 16 copy-on-write copies */
			int fd[2];
			pipe(fd);
			_exit(0);
		}
		int st;
		if (waitpid(p, &st, 0) != p || st != 0)
			bad++;
	}
	unsigned long after = free_kib();
	free(mem);
	CHECK("no_leaks", !bad && after + 256 >= before, "%d bad, free %lu KiB before, %lu KiB after %d forks", bad,
	      before, after, ROUNDS);
}

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		sleep_ms(5);
	return NULL;
}

/* execve from a process with other threads: they go, the program is replaced. */
static void exec_threaded(const char *self)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t[3];
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, spin, NULL);
		sleep_ms(20);
		char *argv[] = { (char *)self, "exec-child", NULL };
		execv(self, argv);
		_exit(100);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK("exec_multithreaded", WIFEXITED(st) && WEXITSTATUS(st) == 77, "status %#x", st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "tty")) {
		/* The console as a terminal (osvb.tty=1): its foreground group. */
		pid_t fg = tcgetpgrp(0);
		pid_t child = fork();
		if (child == 0) {
			setpgid(0, 0);
			pause();
			_exit(0);
		}
		setpgid(child, child);
		int set = tcsetpgrp(0, child);
		pid_t now = tcgetpgrp(0);
		int bad = tcsetpgrp(0, 99999);
		int e = errno;
		tcsetpgrp(0, getpgrp());
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		printf("tty fg %d, set %d, now %s, bad %d %s\n", fg, set, now == child ? "child" : "other", bad,
		       strerror(e));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "nofork")) {
		/* A kernel without processes (LINUX_FORK=n). */
		pid_t f = fork();
		int e1 = errno;
		pid_t v = vfork();
		int e2 = errno;
		printf("fork %d %s, vfork %d %s\n", f, strerror(e1), v, strerror(e2));
		return f == -1 && e1 == ENOSYS && v == -1 && e2 == ENOSYS ? 0 : 1;
	}
	if (argc > 1 && !strcmp(argv[1], "exec-child")) {
		/* One thread left, with the process's pid as its tid. */
		return gettid() == getpid() ? 77 : 78;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pipes_both_ways();
	copy_on_write();
	wait_options();
	stop_all_threads();
	process_groups();
	orphans();
	vfork_shares();
	ipc_between_processes();
	no_leaks();
	exec_threaded(argv[0]);
	printf("failures=%d\n", failures);
	return failures;
}
