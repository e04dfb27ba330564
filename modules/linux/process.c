/* The application process: threads' user state, entering ring 3, exec, exit,
 * and the init hook that starts the program named on the command line. */
#include "internal.h"
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
#include <uvm/uvm.h>

CMDLINE_OPTION(exec, "exec", "the program to run: osvb.exec=/path [NAME=VALUE...] [-- args...]");
CMDLINE_OPTION(cwd, "cwd", "working directory of the program (default /)");
CMDLINE_OPTION(argv0, "argv0", "argv[0] of the program (default: the osvb.exec path)");

struct process proc = { .pid = 1, .lock = SPINLOCK_INIT, .threads = LIST_INIT(proc.threads), .umask = 022 };

void proc_set_exe(const char *path)
{
	if (path != proc.exe)
		strlcpy(proc.exe, path, sizeof(proc.exe));
	const char *slash = strrchr(proc.exe, '/');
	proc.comm = slash ? slash + 1 : proc.exe;
}

void enter_user_frame(struct trap_frame *tf) __noreturn;

struct uthread *current_uthread(void)
{
	struct thread *t = thread_current();
	return t ? t->user : NULL;
}

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

/* The TLS bases follow the scheduler (sched switches the FPU state and the
 * syscall stack itself). */
static void switch_hook(struct thread *prev, struct thread *next)
{
	(void)prev;
	struct uthread *ut = next->user;
	if (!ut)
		return;
	wrmsr(MSR_FS_BASE, ut->fs_base);
	wrmsr(MSR_KERNEL_GS_BASE, ut->gs_base);
}

void process_exit(int status)
{
	if (fork_in_child())
		fork_child_exit((status & 0xff) << 8);
	proc.exiting = true;
	sockets_exit();
	printk(LOG_INFO, "osvb: %s exited with status %d\n", proc.comm ? proc.comm : "program", status & 0xff);
	shutdown_exit(status & 0xff);
}

void process_kill(int sig)
{
	if (fork_in_child())
		fork_child_exit(sig & 0x7f);
	proc.exiting = true;
	sockets_exit();
	shutdown_exit(128 + sig);
}

static uint64_t cpu_hwcap(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return d;
}

static char cmdline_copy[1024];
static size_t cmdline_len;

int process_pid(void)
{
	return proc.pid;
}

int process_ppid(void)
{
	return fork_parent_pid();
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
	size_t n = MIN(size, cmdline_len);
	memcpy(buf, cmdline_copy, n);
	return n;
}

static void save_cmdline(const char *const *argv, int argc)
{
	cmdline_len = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (cmdline_len + l > sizeof(cmdline_copy))
			break;
		memcpy(cmdline_copy + cmdline_len, argv[i], l);
		cmdline_len += l;
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
	struct elf_loaded exe, interp;
	struct file *f, *fi = NULL;
	int r;

	if (fpu_attach(t))
		return -ENOMEM;
	if (!ut) {
		ut = uthread_new();
		if (!ut)
			return -ENOMEM;
		ut->tid = proc.pid;
		ut->kt = t;
		t->user = ut;
		list_push_back(&proc.threads, &ut->node);
		proc.nthreads = 1;
	}
	r = open_exec(path, &f);
	if (r)
		return r;
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

	struct exec_params p = {
		.argv = argv, .argc = argc, .envp = envp, .envc = envc, .execfn = path,
		.exe = &exe, .interp = exe.interp ? &interp : NULL,
		.hwcap = cpu_hwcap(), .minsigstksz = 2048,
	};
	save_cmdline(argv, argc);
	long sp = elf_build_stack(&p);
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
	       p.interp ? ", dynamic" : "");
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
	sched_switch_hook = switch_hook;
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
