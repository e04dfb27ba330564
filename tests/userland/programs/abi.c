/* Exercises the Linux ABI of the kernel: each check prints "ok <name>" or
 * "FAIL <name>: <why>"; the exit status is the number of failures. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(name, cond, ...)                                      \
	do {                                                        \
		if (cond) {                                         \
			printf("ok %s\n", name);                    \
		} else {                                            \
			printf("FAIL %s: ", name);                  \
			printf(__VA_ARGS__);                        \
			printf(" (errno %d)\n", errno);             \
			failures++;                                 \
		}                                                   \
	} while (0)

static sigjmp_buf jb;
static volatile uintptr_t fault_addr;
static volatile int usr1_count;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static volatile int alrm_count;

static void on_alrm(int sig)
{
	(void)sig;
	alrm_count++;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return arg;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	uint64_t one = 1;
	if (write(*(int *)arg, &one, 8) != 8)
		abort();
	return NULL;
}

int main(void)
{
	/* Bad pointers are -EFAULT, not a crash. */
	errno = 0;
	long r = syscall(SYS_write, 1, (void *)8, 16);
	CHECK("efault_write", r == -1 && errno == EFAULT, "write(bad) = %ld", r);
	r = syscall(SYS_read, 0, (void *)0xffffffff81000000ul, 16);
	CHECK("efault_kernel_address", r == -1 && (errno == EFAULT || errno == 0), "read(kernel addr) = %ld", r);
	r = open((const char *)16, O_RDONLY);
	CHECK("efault_path", r == -1 && errno == EFAULT, "open(bad) = %ld", r);

	/* Unimplemented: -ENOSYS (the kernel prints it once). */
	r = syscall(SYS_acct, 0);
	CHECK("enosys", r == -1 && errno == ENOSYS, "acct() = %ld", r);
	r = syscall(SYS_acct, 0);
	/* fork (emulated: the child runs first, the parent resumes when it exits). */
	static int shared = 1;
	pid_t child = fork();
	if (child == 0) {
		shared = 2;
		_exit(getppid() > 0 ? 5 : 6);
	}
	int wst = 0;
	pid_t w = waitpid(child, &wst, 0);
	CHECK("fork_wait", child > 0 && w == child && WIFEXITED(wst) && WEXITSTATUS(wst) == 5 && shared == 1,
	      "fork %d wait %d status %#x shared %d", child, w, wst, shared);
	CHECK("wait_echild", waitpid(-1, &wst, WNOHANG) == -1 && errno == ECHILD, "no more children");

	struct utsname u;
	CHECK("uname", uname(&u) == 0 && !strcmp(u.sysname, "Linux") && !strcmp(u.machine, "x86_64"), "uname");
	CHECK("ids", getuid() == 0 && geteuid() == 0 && getgid() == 0 && getpid() > 0, "ids");

	/* Files on tmpfs. */
	int fd = open("/tmp/a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK("open_create", fd >= 0, "open");
	struct iovec iov[2] = { { "hello ", 6 }, { "world", 5 } };
	CHECK("writev", writev(fd, iov, 2) == 11, "writev");
	char buf[64] = { 0 };
	CHECK("pread", pread(fd, buf, sizeof(buf), 6) == 5 && !memcmp(buf, "world", 5), "pread '%s'", buf);
	CHECK("lseek_end", lseek(fd, 0, SEEK_END) == 11, "lseek");
	struct stat st;
	CHECK("fstat", fstat(fd, &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode), "fstat");
	CHECK("ftruncate", ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate");
	close(fd);
	CHECK("mkdir", mkdir("/tmp/d", 0755) == 0 && mkdir("/tmp/d", 0755) == -1 && errno == EEXIST, "mkdir");
	CHECK("rename", rename("/tmp/a.txt", "/tmp/d/b.txt") == 0 && access("/tmp/d/b.txt", R_OK) == 0 &&
			       access("/tmp/a.txt", F_OK) == -1 && errno == ENOENT, "rename");
	CHECK("symlink", symlink("d/b.txt", "/tmp/l") == 0 && stat("/tmp/l", &st) == 0 && st.st_size == 5, "symlink");
	r = readlink("/tmp/l", buf, sizeof(buf));
	CHECK("readlink", r == 7 && !memcmp(buf, "d/b.txt", 7), "readlink %ld", r);
	CHECK("chdir_getcwd", chdir("/tmp/d") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/d"), "cwd %s", buf);
	CHECK("relative_open", (fd = open("b.txt", O_RDONLY)) >= 0 && read(fd, buf, 5) == 5 && !memcmp(buf, "hello", 5),
	      "relative");
	close(fd);
	CHECK("unlink_rmdir", unlink("/tmp/d/b.txt") == 0 && chdir("/") == 0 && rmdir("/tmp/d") == 0, "unlink");
	DIR *d = opendir("/");
	int seen = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		seen += !strcmp(de->d_name, "tmp") || !strcmp(de->d_name, "dev") || !strcmp(de->d_name, "proc");
	CHECK("getdents", seen == 3, "saw %d of tmp/dev/proc", seen);
	if (d)
		closedir(d);
	r = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = 0;
	CHECK("proc_self_exe", r > 0 && strstr(buf, "abi"), "exe '%s'", buf);
	fd = open("/proc/self/maps", O_RDONLY);
	r = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	CHECK("proc_self_maps", r > 20, "maps %ld", r);
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	uint64_t rnd[2] = { 0, 0 };
	CHECK("dev_urandom", fd >= 0 && read(fd, rnd, 16) == 16 && (rnd[0] | rnd[1]), "urandom");
	close(fd);
	fd = open("/dev/null", O_WRONLY);
	CHECK("dev_null", fd >= 0 && write(fd, "x", 1) == 1, "null");
	close(fd);
	CHECK("getrandom", syscall(SYS_getrandom, rnd, 16, 0) == 16, "getrandom");
	/* stdout is a terminal only when osvb run's own stdout is one (else ENOTTY). */
	CHECK("isatty", (isatty(1) == 1 || errno == ENOTTY) && isatty(fd) == 0, "isatty");

	/* Memory. */
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap_anon", m != MAP_FAILED && m[12345] == 0, "mmap");
	memset(m, 7, 1 << 20);
	CHECK("mremap", (m = mremap(m, 1 << 20, 4 << 20, MREMAP_MAYMOVE)) != MAP_FAILED && m[(1 << 20) - 1] == 7 &&
				m[(4 << 20) - 1] == 0, "mremap");
	CHECK("mprotect", mprotect(m, 4096, PROT_READ) == 0, "mprotect");
	if (sigsetjmp(jb, 1) == 0) {
		struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
		sigaction(SIGSEGV, &sa, NULL);
		m[10] = 1;
		CHECK("sigsegv_write_readonly", 0, "write to a read-only page did not fault");
	} else {
		CHECK("sigsegv_write_readonly", fault_addr == (uintptr_t)m + 10, "si_addr %#lx", (unsigned long)fault_addr);
	}
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile int *)0 = 1;
		CHECK("sigsegv_null", 0, "NULL write did not fault");
	} else {
		CHECK("sigsegv_null", fault_addr == 0, "si_addr %#lx", (unsigned long)fault_addr);
	}
	CHECK("munmap", munmap(m, 4 << 20) == 0, "munmap");
	fd = open("/proc/self/exe", O_RDONLY);
	char *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("mmap_file", f != MAP_FAILED && !memcmp(f, "\177ELF", 4), "file mmap");
	close(fd);

	/* Signals. */
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	kill(getpid(), SIGUSR1);
	CHECK("signal_handler", usr1_count == 2, "usr1 count %d", usr1_count);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR1);
	int before = usr1_count;
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK("signal_mask", before == 2 && usr1_count == 3, "blocked %d after %d", before, usr1_count);

	/* Threads and futexes. */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK("pthreads_mutex", counter == 80000, "counter %ld", counter);

	/* Pipes, poll, eventfd, epoll. */
	int p[2];
	CHECK("pipe", pipe(p) == 0 && write(p[1], "abc", 3) == 3, "pipe");
	struct pollfd pf = { p[0], POLLIN, 0 };
	CHECK("poll", poll(&pf, 1, 100) == 1 && (pf.revents & POLLIN) && read(p[0], buf, 3) == 3, "poll");
	pf.revents = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = poll(&pf, 1, 30);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("poll_timeout", r == 0 && ms >= 29, "poll %ld after %ld ms", r, ms);
	close(p[1]);
	CHECK("pipe_eof", read(p[0], buf, 1) == 0, "eof");
	close(p[0]);
	int efd = eventfd(0, EFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
	CHECK("epoll_ctl", efd >= 0 && ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "epoll_ctl");
	pthread_t ts;
	pthread_create(&ts, NULL, sleeper, &efd);
	struct epoll_event out;
	r = epoll_wait(ep, &out, 1, 2000);
	CHECK("epoll_wait_thread_wakeup", r == 1 && out.data.u64 == 42, "epoll_wait %ld", r);
	pthread_join(ts, NULL);
	uint64_t val;
	CHECK("eventfd_read", read(efd, &val, 8) == 8 && val == 1, "eventfd");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct timespec ts10 = { 0, 10 * 1000 * 1000 };
	nanosleep(&ts10, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("nanosleep", ms >= 10 && ms < 1000, "slept %ld ms", ms);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	CHECK("realtime", rt.tv_sec > 1600000000, "realtime %ld", (long)rt.tv_sec);

	/* setitimer: SIGALRM interrupts a sleep. */
	signal(SIGALRM, on_alrm);
	struct itimerval itv = { { 0, 0 }, { 0, 20000 } };
	CHECK("setitimer", setitimer(ITIMER_REAL, &itv, NULL) == 0, "setitimer");
	struct timespec longsleep = { 5, 0 };
	r = nanosleep(&longsleep, NULL);
	CHECK("sigalrm_interrupts_sleep", r == -1 && errno == EINTR && alrm_count == 1, "nanosleep %ld alarms %d", r,
	      alrm_count);

	printf("failures=%d\n", failures);
	return failures;
}
