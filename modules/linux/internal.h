/* linux-private: processes, their threads, descriptors and signals. */
#ifndef LINUX_INTERNAL_H
#define LINUX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/spinlock.h>
#include <arch/trap.h>
#include <lib/list.h>
#include <linux/syscall.h>
#include <linux/process.h>
#include <time/timer.h>
#include <vfs/errno.h>
#include <vfs/vfs.h>

#define SYSCALL_NAMES 512
extern const char *const syscall_names[SYSCALL_NAMES];

#define NSIG 64
#define SIG_DFL 0
#define SIG_IGN 1
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO 29
#define SIGSYS 31
#define SIGBIT(s) (1ull << ((s) - 1))

#define SI_USER 0
#define SI_TKILL (-6)
#define FPE_INTDIV 1
#define ILL_ILLOPN 2
#define BUS_ADRERR 2

struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct ksiginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct {
			int32_t pid;
			uint32_t uid;
		} kill;
		uint64_t addr;
		uint8_t bytes[112];
	};
};

struct fpu_state {
	uint8_t fx[4096] __attribute__((aligned(64))); /* FXSAVE or XSAVE area (ARCH_FPU_STATE_MAX) */
};

struct process;

struct uthread {
	int tid;
	struct thread *kt;
	struct process *process;   /* its process */
	struct list node;          /* process thread list */
	uint64_t fs_base, gs_base;
	uint64_t clear_child_tid;  /* user address, or 0 */
	uint64_t robust_list;
	uint64_t sigmask;
	uint64_t sigpending;
	struct ksiginfo siginfo[NSIG];
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	struct trap_frame *frame;  /* the syscall being handled */
	bool restore_sigmask;      /* rt_sigsuspend/ppoll/pselect: restore saved_sigmask on return */
	uint64_t saved_sigmask;
	volatile bool sleeping;    /* blocked interruptibly (signals wake it) */
	volatile bool zap;         /* must exit (exit_group, a fatal signal, exec by another thread) */
	uint64_t waitset;          /* rt_sigtimedwait's set while it waits (sigwait.c) */
	char name[16];             /* PR_SET_NAME ("" = the program's name) */
	int pdeathsig;             /* PR_SET_PDEATHSIG */
	bool no_new_privs;         /* PR_SET_NO_NEW_PRIVS */
	bool keepcaps;             /* PR_SET_KEEPCAPS */
	uint64_t restart_nr;       /* a restartable call that returned EINTR: its number + 1 (SA_RESTART) */
	int sched_policy, sched_prio; /* sched_setscheduler (recorded; one class runs) */
};

struct fdtable;
struct mm;
struct vfork_wait;

enum proc_state { PROC_ALIVE, PROC_ZOMBIE };

/* A process: an address space, a descriptor table, signal actions and one or
 * more threads. Linked into its parent's children until reaped. */
struct process {
	int pid, pgid, sid;
	spinlock_t lock;           /* threads, signal actions and masks */
	struct list threads;
	int nthreads;
	struct ksigaction actions[NSIG];
	uint32_t umask;
	char exe[VFS_PATH_MAX];
	const char *comm;          /* basename of exe, for messages */
	volatile bool exiting;     /* every thread is leaving (exit_group, fatal signal) */
	int wstatus;               /* wait status once exiting */
	struct mm *mm;
	struct fdtable *fdt;
	struct inode *cwd;         /* NULL: the root */
	/* Under procs_lock: */
	enum proc_state state;
	struct process *parent;
	struct list children, sibling, all;
	bool stopped;              /* job control: SIGSTOP/SIGTSTP... until SIGCONT */
	int report;                /* a stop (sig << 8 | 0x7f) or continue (0xffff) for wait, 0: none */
	struct vfork_wait *vfork_wait; /* its parent's thread, blocked in vfork until this one execs or ends */
	volatile bool vfork_done;  /* in the parent: its vfork child let it go */
	/* argv, for /proc/self/cmdline */
	char cmdline[1024];
	size_t cmdline_len;
	/* alarm/setitimer(ITIMER_REAL) */
	struct timer alarm_timer;
	bool alarm_ready;
	uint64_t alarm_deadline, alarm_interval;
};

extern spinlock_t procs_lock;
extern struct list procs;           /* every process (alive or zombie), under procs_lock */
extern struct process *init_process; /* the first one: orphans go to it */

/* The calling thread's process (a placeholder for kernel threads). */
struct process *current_process(void);
/* The short name every file of this module uses for the caller's process. */
#define proc (*current_process())
/* Sets proc.exe (and proc.comm, its basename) to path. */
void proc_set_exe(const char *path);
void proc_set_exe_of(struct process *p, const char *path);
/* Bumped by process_notify (wait4 sleeps until it moves). */
unsigned process_events(void);
/* Under procs_lock: the process with this pid (alive or zombie), or NULL. */
struct process *process_find(int pid);
/* Wake everything that waits for a child (wait4) or a vfork to end. */
void process_notify(void);
/* Make p's threads leave with wait status ws (the first request wins). */
void process_zap(struct process *p, int ws);
/* The calling thread leaves its process; the last one ends it. */
void __noreturn thread_exit_user(int status);
/* A new process around the calling thread's copy (fork.c): pid, lists. */
struct process *process_alloc(struct process *parent);
void process_free(struct process *p);

struct uthread *current_uthread(void);
struct uthread *uthread_new(void);
void uthread_free(struct uthread *ut);
/* The calling kernel thread becomes ut's (and runs in its process's address space). */
void uthread_attach(struct uthread *ut);
/* Enter ring 3 with the register state in tf (copied to the top of the kernel stack). */
void __noreturn enter_user(const struct trap_frame *tf);
int alloc_tid(void);

/* fds (per process, shared by its threads; CLONE_FILES shares it between processes) */
#define NR_FDS 1024
#define FD_CLOEXEC 1
struct fdtable *fdtable_new(void);
struct fdtable *fdtable_dup(struct fdtable *t);  /* fork: every descriptor, same open files */
void fdtable_get(struct fdtable *t);
void fdtable_put(struct fdtable *t);            /* the last reference closes everything */
int fd_install(struct file *f, int min, bool cloexec);
int fd_install_at(int fd, struct file *f, bool cloexec);
struct file *fd_get(int fd);  /* new reference, or NULL */
int fd_close(int fd);
bool fd_cloexec(int fd);
int fd_set_cloexec(int fd, bool on);
/* Resolve (dirfd, path) into the base inode for a walk: NULL for cwd/absolute. */
int fd_dirbase(int dirfd, const char *path, struct inode **base);
void fd_init_stdio(void);
void fd_close_on_exec(void);

/* A new process (fork.c): clone without CLONE_THREAD. */
long fork_process(uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid, uint64_t tls);
/* exec or exit of a vfork child: its parent may go on. */
void vfork_release(struct process *p);

/* "#!" scripts: 1 with the interpreter (and its optional argument) parsed
 * from head (256+1 bytes, the caller's), 0 for other executables, or -errno. */
int exec_script_interp(const char *path, char *head, char **interp, char **arg);

/* user strings */
int user_path(const char *upath, char **kpath);  /* kmalloc'd copy, or -EFAULT/-ENAMETOOLONG/-ENOENT */

/* signals */
int signal_send(struct uthread *t, int sig, const struct ksiginfo *info);
/* A process-directed signal: to a thread of p that does not block it
 * (procs_lock held: SIGCONT resumes a stopped p and tells its parent). */
int signal_send_process(struct process *p, int sig, const struct ksiginfo *info);
/* SIGCHLD to the parent of p (code CLD_*, status) and wake its waiters. */
void signal_child_event(struct process *p, int code, int status);
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_STOPPED 5
#define CLD_CONTINUED 6
/* Deliver pending unblocked signals before returning to user with tf. A
 * call interrupted with EINTR (ut->restart_nr) is restarted when no handler
 * runs or the handler has SA_RESTART, as Linux's ERESTARTSYS. */
void signal_deliver(struct trap_frame *tf);
bool signal_pending(void);
void signal_fault(struct trap_frame *tf, int sig, int code, uint64_t addr);
void signal_init(void);
/* exec: caught signals go back to their default action. */
void signal_reset_on_exec(void);

/* fpu (the state itself is struct thread's fpu_state, switched by sched) */
struct thread;
int fpu_attach(struct thread *t);                          /* give t an FPU state */
void fpu_init_state(struct fpu_state *s);
void fpu_save(struct uthread *ut, struct fpu_state *out);  /* ut's current state */
void fpu_load(struct uthread *ut, const struct fpu_state *in);
/* Signal frames: the bytes of fpstate on the user stack, filling in Linux's
 * XSAVE markers (sw_reserved, FP_XSTATE_MAGIC2) when the state is XSAVE;
 * and making a frame's fpstate read back from user memory safe to load.
 * fpu_frame_read returns -EFAULT or 0. */
size_t fpu_frame_size(void);
void fpu_frame_prepare(struct fpu_state *s);
int fpu_frame_read(struct fpu_state *s, uint64_t uaddr);
bool fpu_xstate(void);

/* time */
uint64_t linux_realtime_ns(void);
uint64_t linux_monotonic_ns(void);

/* Sleep until the monotonic deadline; -EINTR when a signal arrived first. */
int sleep_until_ns(uint64_t deadline);

/* Pollable objects (sys_poll.c): every state change of one wakes poll_wq;
 * waiters recheck their condition. */
struct wait_queue;
extern struct wait_queue poll_wq;
void poll_notify(void);
/* A file on an anonymous inode (pipes, eventfd, epoll, sockets). */
struct file *anon_file(uint32_t mode, const struct file_ops *ops, void *priv, unsigned flags);

/* Wait until cond holds, a signal arrives (-EINTR) or deadline passes (-ETIMEDOUT; 0 = none). */
#define WAIT_INTR(cond, deadline)                                          \
	({                                                                 \
		struct waiter w_ = { .queued = false };                    \
		struct uthread *ut_ = current_uthread();                   \
		int r_ = 0;                                                \
		uint64_t dl_ = (deadline);                                 \
		for (;;) {                                                 \
			wait_prepare(&poll_wq, &w_);                       \
			if (cond)                                          \
				break;                                     \
			if (signal_pending()) {                            \
				r_ = -EINTR;                               \
				break;                                     \
			}                                                  \
			if (dl_ && clock_monotonic_ns() >= dl_) {          \
				r_ = -ETIMEDOUT;                           \
				break;                                     \
			}                                                  \
			ut_->sleeping = true;                              \
			wait_block(dl_);                                   \
			ut_->sleeping = false;                             \
		}                                                          \
		wait_finish(&poll_wq, &w_);                                \
		r_;                                                        \
	})

/* sockets (socket.c): close them and let queued data leave, at exit. */
void sockets_exit(void);

/* Helpers */
#define RFLAGS_USER_MASK 0x254dd5ul   /* CF PF AF ZF SF TF DF OF AC ID: what user code may set */

#endif
