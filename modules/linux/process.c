/* Processes: the process table, threads' user state, entering ring 3, loading
 * a program (exec), the end of threads and processes, and the init hook that
 * starts the first process with the program named on the command line.
 *
 * The first process (pid 1) is the application as osvb run started it. When
 * it ends, the VM exits with its status at once: the other processes are not
 * waited for or signalled (like a container whose init exits; Linux itself
 * would panic). Its orphaned descendants are re-parented to it meanwhile. */
#include "internal.h"
#include "calls.h"
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <console/serial.h>
#include <elf/elf.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/vmap.h>
#include <sched/thread.h>
#include <shutdown/shutdown.h>
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

CMDLINE_OPTION(exec, "exec", "the program to run: osvb.exec=/path [NAME=VALUE...] [-- args...]");
CMDLINE_OPTION(cwd, "cwd", "working directory of the program (default /)");
CMDLINE_OPTION(argv0, "argv0", "argv[0] of the program (default: the osvb.exec path)");

spinlock_t procs_lock = SPINLOCK_INIT;
struct list procs = LIST_INIT(procs);
struct process *init_process;

/* What kernel threads (no process) see as "the current process". */
static struct process kernel_process = {
	.lock = SPINLOCK_INIT, .threads = LIST_INIT(kernel_process.threads), .umask = 022,
	.children = LIST_INIT(kernel_process.children), .comm = "kernel",
};

struct process *current_process(void)
{
	struct thread *t = thread_current();
	struct uthread *ut = t ? t->user : NULL;
	return ut ? ut->process : &kernel_process;
}

static struct inode **cwd_slot(void)
{
	struct process *p = current_process();
	return p == &kernel_process ? NULL : &p->cwd;
}

struct process *process_find(int pid)
{
	struct process *p;
	list_for_each_entry(p, &procs, all)
		if (p->pid == pid)
			return p;
	return NULL;
}

static volatile unsigned proc_events;

void process_notify(void)
{
	__atomic_fetch_add(&proc_events, 1, __ATOMIC_RELEASE);
	poll_notify();
}

unsigned process_events(void)
{
	return __atomic_load_n(&proc_events, __ATOMIC_ACQUIRE);
}

struct process *process_alloc(struct process *parent)
{
	struct process *p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->pid = alloc_tid();
	spin_init(&p->lock);
	list_init(&p->threads);
	list_init(&p->children);
	list_init(&p->sibling);
	list_init(&p->all);
	p->umask = 022;
	p->comm = p->exe;
	if (parent) {
		p->pgid = parent->pgid;
		p->sid = parent->sid;
		p->umask = parent->umask;
		uint64_t f = spin_lock_irqsave(&parent->lock);
		memcpy(p->actions, parent->actions, sizeof(p->actions));
		spin_unlock_irqrestore(&parent->lock, f);
		proc_set_exe_of(p, parent->exe);
		memcpy(p->cmdline, parent->cmdline, parent->cmdline_len);
		p->cmdline_len = parent->cmdline_len;
		p->cwd = parent->cwd ? inode_get(parent->cwd) : NULL;
	} else {
		p->pgid = p->sid = p->pid;
	}
	return p;
}

void process_free(struct process *p)
{
	kfree(p);
}

void proc_set_exe_of(struct process *p, const char *path)
{
	if (path != p->exe)
		strlcpy(p->exe, path, sizeof(p->exe));
	const char *slash = strrchr(p->exe, '/');
	p->comm = slash ? slash + 1 : p->exe;
}

void proc_set_exe(const char *path)
{
	proc_set_exe_of(&proc, path);
}

void enter_user_frame(struct trap_frame *tf) __noreturn;

struct uthread *current_uthread(void)
{
	struct thread *t = thread_current();
	return t ? t->user : NULL;
}

/* Thread ids and pids share one space, as on Linux (a process's pid is its
 * first thread's tid). Never reused: 2^31 of them last long enough here. */
int alloc_tid(void)
{
	static int next_tid = 1;
	return __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
}

struct uthread *uthread_new(void)
{
	struct uthread *ut = kzalloc(sizeof(*ut));
	if (!ut)
		return NULL;
	list_init(&ut->node);
	return ut;
}

void uthread_free(struct uthread *ut)
{
	kfree(ut);
}

void uthread_attach(struct uthread *ut)
{
	struct thread *t = thread_current();
	uint64_t f = irq_save();
	ut->kt = t;
	t->user = ut;
	uvm_mm_activate(ut->process->mm);
	irq_restore(f);
}

static uint64_t kstack_top(struct thread *t)
{
	return (uint64_t)t->stack + KSTACK_SIZE;
}

void enter_user(const struct trap_frame *tf)
{
	struct thread *t = thread_current();
	struct uthread *ut = t->user;
	uint64_t top = kstack_top(t);
	struct trap_frame *dst = (struct trap_frame *)(top - sizeof(*tf));

	irq_disable();
	memmove(dst, tf, sizeof(*tf));
	dst->cs = USER_CS;
	dst->ss = USER_DS;
	dst->rflags = (dst->rflags & RFLAGS_USER_MASK) | RFLAGS_IF | 2;
	this_cpu()->kernel_rsp = top;
	tss_set_rsp0(top);
	wrmsr(MSR_FS_BASE, ut->fs_base);
	wrmsr(MSR_KERNEL_GS_BASE, ut->gs_base);
	enter_user_frame(dst);
}

/* The address space and TLS bases follow the scheduler (sched switches the
 * FPU state and the syscall stack itself). Kernel threads keep whatever
 * address space the CPU had loaded. */
static void switch_hook(struct thread *prev, struct thread *next)
{
	(void)prev;
	struct uthread *ut = next->user;
	if (!ut)
		return;
	uvm_mm_activate(ut->process->mm);
	wrmsr(MSR_FS_BASE, ut->fs_base);
	wrmsr(MSR_KERNEL_GS_BASE, ut->gs_base);
}

void process_zap(struct process *p, int ws)
{
	struct uthread *self = current_uthread();
	uint64_t f = spin_lock_irqsave(&p->lock);
	if (!p->exiting) {
		p->wstatus = ws;
		p->exiting = true;
	}
	struct uthread *t;
	list_for_each_entry(t, &p->threads, node) {
		t->zap = true;
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* see signal_pending() */
		if (t == self || !t->kt)
			continue;
		if (t->sleeping)
			thread_wake(t->kt);
		else
			thread_kick(t->kt);
	}
	spin_unlock_irqrestore(&p->lock, f);
	process_notify(); /* a stopped or exec-waiting thread rechecks */
}

int futex_wake(uint64_t uaddr, int n, uint32_t bitset);

/* The first process ended: so does the VM. */
static void __noreturn init_exit(struct process *p, int ws)
{
	sockets_exit();
	if (ws & 0x7f) {
		shutdown_exit(128 + (ws & 0x7f));
	}
	printk(LOG_INFO, "osvb: %s exited with status %d\n", p->comm ? p->comm : "program", (ws >> 8) & 0xff);
	shutdown_exit((ws >> 8) & 0xff);
}

/* Under procs_lock: a child whose parent died gets the signal its threads
 * asked for with PR_SET_PDEATHSIG. */
static void orphan_pdeathsig(struct process *c)
{
	struct uthread *t;
	int sig = 0;
	uint64_t f = spin_lock_irqsave(&c->lock);
	list_for_each_entry(t, &c->threads, node)
		if (t->pdeathsig)
			sig = t->pdeathsig;
	spin_unlock_irqrestore(&c->lock, f);
	if (sig && c->state == PROC_ALIVE) {
		struct ksiginfo si = { .signo = sig, .code = 0x80 /* SI_KERNEL */ };
		signal_send_process(c, sig, &si);
	}
}

/* The last thread of p is leaving: release what p holds and leave a zombie
 * for its parent (or nothing, when the parent ignores SIGCHLD). */
static void __noreturn process_end(struct process *p, struct uthread *ut, int ws)
{
	if (p == init_process)
		init_exit(p, ws);
	if (p->alarm_ready)
		timer_cancel(&p->alarm_timer);
	posix_timers_release(p);
	vfork_release(p);
	fdtable_put(p->fdt);
	p->fdt = NULL;
	if (p->cwd)
		inode_put(p->cwd);
	p->cwd = NULL;
	uint64_t f = irq_save();
	struct mm *mm = p->mm;
	p->mm = NULL;
	thread_current()->user = NULL;
	irq_restore(f);
	uthread_free(ut);
	if (mm)
		uvm_mm_put(mm);

	bool reap = false;
	f = spin_lock_irqsave(&procs_lock);
	/* Orphans go to the first process. */
	while (!list_empty(&p->children)) {
		struct process *c = list_entry(list_pop_front(&p->children), struct process, sibling);
		c->parent = init_process;
		list_push_back(&init_process->children, &c->sibling);
		orphan_pdeathsig(c);
	}
	struct process *parent = p->parent;
	p->wstatus = ws;
	if (parent) {
		struct ksigaction *a = &parent->actions[SIGCHLD - 1];
		reap = a->handler == SIG_IGN || (a->flags & 2 /* SA_NOCLDWAIT */);
	}
	if (reap) {
		list_remove(&p->sibling);
		list_remove(&p->all);
	} else {
		p->state = PROC_ZOMBIE;
		int code = (ws & 0x7f) ? ((ws & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
		signal_child_event(p, code, (ws & 0x7f) ? (ws & 0x7f) : (ws >> 8) & 0xff);
	}
	spin_unlock_irqrestore(&procs_lock, f);
	process_notify();
	if (reap)
		process_free(p);
	thread_exit();
}

void thread_exit_user(int status)
{
	struct uthread *ut = current_uthread();
	struct process *p = ut->process;

	/* From a fault or the way out of an interrupt too: what follows may
	 * sleep (closing files) and wait for other CPUs. */
	irq_enable();

	uint64_t f = spin_lock_irqsave(&p->lock);
	list_remove(&ut->node);
	bool last = --p->nthreads == 0;
	int ws = p->exiting ? p->wstatus : (status & 0xff) << 8;
	spin_unlock_irqrestore(&p->lock, f);
	/* The address space is still there: tell a joiner (CLONE_CHILD_CLEARTID). */
	if (ut->clear_child_tid) {
		put_user_u32((uint32_t *)ut->clear_child_tid, 0);
		futex_wake(ut->clear_child_tid, 1, ~0u);
	}
	if (last)
		process_end(p, ut, ws);
	process_notify(); /* an exec waiting for the other threads to go */
	thread_current()->user = NULL;
	uthread_free(ut);
	thread_exit();
}

void process_exit(int status)
{
	process_zap(&proc, (status & 0xff) << 8);
	thread_exit_user(status);
}

void process_kill(int sig)
{
	process_zap(&proc, sig & 0x7f);
	thread_exit_user(0);
}

static uint64_t cpu_hwcap(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return d;
}

int process_pid(void)
{
	return proc.pid;
}

int process_ppid(void)
{
	struct process *p = &proc;
	return p->parent ? p->parent->pid : 0;
}

int process_threads(void)
{
	return proc.nthreads;
}

const char *process_exe_path(void)
{
	return proc.exe;
}

size_t process_cmdline(char *buf, size_t size)
{
	size_t n = MIN(size, proc.cmdline_len);
	memcpy(buf, proc.cmdline, n);
	return n;
}

static void save_cmdline(const char *const *argv, int argc)
{
	struct process *p = &proc;
	p->cmdline_len = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (p->cmdline_len + l > sizeof(p->cmdline))
			break;
		memcpy(p->cmdline + p->cmdline_len, argv[i], l);
		p->cmdline_len += l;
	}
}

/* The canonical absolute path of path (symlinks resolved), as /proc/self/exe
 * shows it; falls back to path itself. */
static void canonical_path(const char *path, char *out, size_t size)
{
	char *cur = kmalloc(VFS_PATH_MAX), *tmp = kmalloc(VFS_PATH_MAX);
	strlcpy(out, path, size);
	if (!cur || !tmp)
		goto done;
	strlcpy(cur, path, VFS_PATH_MAX);
	for (int hops = 0; hops < VFS_SYMLINK_MAX; hops++) {
		ssize_t n = vfs_readlink(NULL, cur, tmp, VFS_PATH_MAX - 1);
		if (n <= 0)
			break; /* not a symlink: cur names the file */
		tmp[n] = 0;
		if (tmp[0] != '/') {
			/* Relative to the link's directory. */
			char *slash = strrchr(cur, '/');
			size_t dl = slash ? (size_t)(slash - cur) + 1 : 0;
			if (dl + n + 1 > VFS_PATH_MAX)
				goto done;
			memmove(tmp + dl, tmp, n + 1);
			memcpy(tmp, cur, dl);
		}
		strlcpy(cur, tmp, VFS_PATH_MAX);
	}
	struct inode *dir;
	const char *last;
	size_t len;
	if (vfs_walk(NULL, cur, WALK_PARENT, &dir, &last, &len))
		goto done;
	if (!len) {
		inode_put(dir);
		goto done;
	}
	vfs_lock();
	ssize_t dl = vfs_dir_path(dir, tmp, VFS_PATH_MAX);
	vfs_unlock();
	inode_put(dir);
	if (dl < 0 || (size_t)dl + len + 2 > size)
		goto done;
	memcpy(out, tmp, dl);
	if (dl > 1)
		out[dl++] = '/';
	memcpy(out + dl, last, len);
	out[dl + len] = 0;
done:
	kfree(cur);
	kfree(tmp);
}

/* Open path for execution: a regular file with an execute bit. */
static int open_exec(const char *path, struct file **f)
{
	int r = vfs_open(NULL, path, O_RDONLY, 0, f);
	if (r)
		return r;
	struct inode *ino = (*f)->inode;
	if (!S_ISREG(ino->mode) || !(ino->mode & 0111)) {
		file_put(*f);
		return -EACCES;
	}
	return 0;
}

int process_exec(const char *path, const char *const *argv, int argc, const char *const *envp, int envc)
{
	struct thread *t = thread_current();
	struct uthread *ut = t->user;
	struct process *p = ut->process;
	struct elf_loaded exe, interp;
	struct file *f, *fi = NULL;
	int r;

	r = open_exec(path, &f);
	if (r)
		return r;
	/* A fresh address space replaces the old one (a vfork child's is its
	 * parent's, which just loses a user). */
	struct mm *nm = uvm_mm_new();
	if (!nm) {
		file_put(f);
		return -ENOMEM;
	}
	uint64_t fl = irq_save();
	struct mm *old = p->mm;
	p->mm = nm;
	uvm_mm_activate(nm);
	irq_restore(fl);
	if (old)
		uvm_mm_put(old);
	vfork_release(p);
	r = elf_load(f, path, true, &exe);
	if (r)
		goto out;
	if (exe.interp) {
		r = open_exec(exe.interp, &fi);
		if (r) {
			printk(LOG_ERR, "osvb: %s: cannot open its interpreter %s (error %d)\n", path, exe.interp, r);
			goto out;
		}
		r = elf_load(fi, exe.interp, false, &interp);
		if (r)
			goto out;
		if (interp.interp) {
			printk(LOG_ERR, "osvb: %s: the interpreter %s itself has an interpreter\n", path, exe.interp);
			r = -ELIBBAD;
			goto out;
		}
	}
	uvm_brk_init(ALIGN_UP(exe.end, 4096));

	canonical_path(path, proc.exe, sizeof(proc.exe));
	proc_set_exe(proc.exe);

	struct exec_params ep = {
		.argv = argv, .argc = argc, .envp = envp, .envc = envc, .execfn = path,
		.exe = &exe, .interp = exe.interp ? &interp : NULL,
		.hwcap = cpu_hwcap(), .minsigstksz = 1024 + fpu_frame_size(),
		.sysinfo_ehdr = vdso_map ? vdso_map() : 0,
	};
	save_cmdline(argv, argc);
	long sp = elf_build_stack(&ep);
	if (sp < 0) {
		r = sp;
		goto out;
	}
	struct trap_frame tf;
	memset(&tf, 0, sizeof(tf));
	tf.rip = exe.interp ? interp.entry : exe.entry;
	tf.rsp = sp;
	tf.rflags = RFLAGS_IF | 2;
	ut->fs_base = 0;
	ut->frame = NULL;
	kfree(exe.interp);
	file_put(f);
	if (fi)
		file_put(fi);
	printk(LOG_INFO, "osvb: starting %s (entry %#lx%s)\n", path, (unsigned long)tf.rip,
	       ep.interp ? ", dynamic" : "");
	enter_user(&tf);
out:
	kfree(exe.interp);
	file_put(f);
	if (fi)
		file_put(fi);
	return r;
}

/* --- starting the application from the command line --- */

static const char *default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
};

static bool is_env_word(const char *w)
{
	const char *eq = strchr(w, '=');
	if (!eq || eq == w)
		return false;
	for (const char *p = w; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return !(*w >= '0' && *w <= '9');
}

static int app_main(void)
{
	const char *path = cmdline_get("exec");
	static const char *argv[CMDLINE_MAX_ARGS + 4];
	static const char *envp[CMDLINE_MAX_ARGS + 2];
	int argc = 0, envc = 0;

	if (!path || !*path)
		return 0;
	/* This kernel thread becomes the first thread of the first process. */
	struct thread *t = thread_current();
	struct process *p = process_alloc(NULL);
	struct uthread *ut = uthread_new();
	if (!p || !ut || !(p->fdt = fdtable_new()) || fpu_attach(t))
		panic("osvb: out of memory starting the application");
	ut->tid = p->pid;
	ut->kt = t;
	ut->process = p;
	list_push_back(&p->threads, &ut->node);
	p->nthreads = 1;
	list_push_back(&procs, &p->all);
	init_process = p;
	vfs_cwd_slot = cwd_slot;
	sched_switch_hook = switch_hook;
	t->user = ut;
	signal_init();
	fd_init_stdio();

	const char *cwd = cmdline_get("cwd");
	if (cwd && *cwd) {
		struct inode *dir;
		int r = vfs_walk(NULL, cwd, 0, &dir, NULL, NULL);
		if (!r && !S_ISDIR(dir->mode)) {
			inode_put(dir);
			r = -ENOTDIR;
		}
		if (r) {
			/* 126 like a runtime that cannot start the command. */
			printk(LOG_ERR, "osvb: cannot change to the working directory %s: %s (%d)\n", cwd,
			       r == -ENOENT ? "no such directory" : r == -ENOTDIR ? "not a directory" : "error", r);
			shutdown_exit(126);
		}
		vfs_set_cwd(dir);
		inode_put(dir);
	}

	const char *a0 = cmdline_get("argv0");
	argv[argc++] = a0 && *a0 ? a0 : path;
	/* Before "--": NAME=VALUE words are the environment, others are arguments.
	 * After "--": everything is an argument. */
	bool args_only = false;
	bool env_given = false;
	for (int i = 0; i < cmdline_app_argc(); i++) {
		const char *w = cmdline_app_arg(i);
		if (!args_only && !strcmp(w, "--")) {
			args_only = true;
			continue;
		}
		if (!args_only && is_env_word(w)) {
			envp[envc++] = w;
			env_given = true;
		} else {
			argv[argc++] = w;
		}
	}
	/* Defaults for what the command line did not set. */
	for (unsigned d = 0; d < ARRAY_SIZE(default_env); d++) {
		size_t klen = strchr(default_env[d], '=') - default_env[d] + 1;
		bool set = false;
		for (int i = 0; i < envc; i++)
			if (!strncmp(envp[i], default_env[d], klen))
				set = true;
		if (!set)
			envp[envc++] = default_env[d];
	}
	(void)env_given;
	argv[argc] = NULL;
	envp[envc] = NULL;

	/* A "#!" script runs its interpreter: interp [arg] script args... */
	static char head[257];
	char *interp, *iarg;
	const char *prog = path;
	int r = exec_script_interp(path, head, &interp, &iarg);
	if (r == 1) {
		int shift = iarg ? 2 : 1;
		if (argc + shift > CMDLINE_MAX_ARGS + 3)
			panic("osvb.exec: too many arguments");
		memmove(argv + shift, argv, sizeof(argv[0]) * (argc + 1));
		argv[0] = interp;
		if (iarg)
			argv[1] = iarg;
		argv[shift] = path;
		argc += shift;
		prog = interp;
		r = 0;
	}
	if (!r)
		r = process_exec(prog, argv, argc, envp, envc);
	const char *why = r == -ENOENT ? "no such file" : r == -EACCES ? "not an executable file" :
			  r == -ENOEXEC ? "bad executable format" : r == -ENOMEM ? "out of memory" : "error";
	printk(LOG_ERR, "osvb: cannot run %s: %s (%d)\n", prog, why, r);
	/* 127 like a shell's "command not found", 126 "cannot execute". */
	shutdown_exit(r == -ENOENT ? 127 : 126);
}

INITCALL(INIT_MAIN, app_main);
